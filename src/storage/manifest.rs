//! The data directory's manifest (`strata.manifest`, protobuf `proto/manifest.proto`).
//!
//! Written once when a directory is created, before RocksDB creates anything, and checked at
//! every open: a directory of a newer format, a corrupt manifest, or a RocksDB database without a
//! manifest (not Strata's) is refused with a clear message, never silently reset.

use super::OpenError;
use prost::Message;
use std::io::Write;
use std::path::Path;

/// The storage format this build reads and writes. FROZEN history:
/// 1 = the encodings of `encoding.rs` as first shipped;
/// 2 = plus fragmented strings (`encoding::FLAG_FRAGMENTED`), which a format-1 server would
///     misread as inline values. A superset: a format-1 directory is upgraded by rewriting its
///     manifest at open, before anything of format 2 is written.
pub const FORMAT_VERSION: u32 = 2;
pub const FILE_NAME: &str = "strata.manifest";

#[allow(clippy::all, missing_docs)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/strata.manifest.rs"));
}

/// Checks an existing manifest, or writes a new one for an empty directory.
pub fn check_or_create(dir: &Path, db_path: &Path, databases: usize) -> Result<proto::Manifest, OpenError> {
    let path = dir.join(FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let m = proto::Manifest::decode(bytes.as_slice()).map_err(|e| {
                OpenError::Manifest(format!(
                    "the manifest {} is corrupt ({e}); refusing to open the data directory",
                    path.display()
                ))
            })?;
            check(&m, &path)?;
            if !db_path.join("CURRENT").exists() {
                return Err(OpenError::Manifest(format!(
                    "{} exists but the database in {} is missing; refusing to start with an empty data set",
                    path.display(),
                    db_path.display()
                )));
            }
            if m.format_version < FORMAT_VERSION {
                // Every older format is a subset of this one: only the label changes, so that
                // an older server refuses the directory once it may hold newer records.
                let upgraded = proto::Manifest { format_version: FORMAT_VERSION, ..m.clone() };
                write(dir, &upgraded).map_err(|source| OpenError::Io { path: path.clone(), source })?;
                tracing::info!(from = m.format_version, to = FORMAT_VERSION, "storage format upgraded");
                return Ok(upgraded);
            }
            Ok(m)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if db_path.exists() && std::fs::read_dir(db_path).map(|mut d| d.next().is_some()).unwrap_or(true) {
                return Err(OpenError::Manifest(format!(
                    "{} holds a database but no {FILE_NAME}: not a Strata data directory (or a damaged one); refusing to open it",
                    dir.display()
                )));
            }
            let m = proto::Manifest {
                format_version: FORMAT_VERSION,
                databases: databases as u32,
                created_at_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(0),
                created_by: format!("strata {}", env!("CARGO_PKG_VERSION")),
            };
            write(dir, &m).map_err(|source| OpenError::Io { path: path.clone(), source })?;
            Ok(m)
        }
        Err(source) => Err(OpenError::Io { path, source }),
    }
}

fn check(m: &proto::Manifest, path: &Path) -> Result<(), OpenError> {
    if m.format_version > FORMAT_VERSION {
        return Err(OpenError::Manifest(format!(
            "{} says storage format {}, but this server reads format {FORMAT_VERSION} at most; upgrade Strata to open it",
            path.display(),
            m.format_version
        )));
    }
    if m.format_version == 0 {
        return Err(OpenError::Manifest(format!("{} has no format version; refusing to open it", path.display())));
    }
    Ok(())
}

/// Writes the manifest atomically: temp file, fsync, rename, fsync of the directory.
fn write(dir: &Path, m: &proto::Manifest) -> std::io::Result<()> {
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&m.encode_to_vec())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, dir.join(FILE_NAME))?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_accepts_then_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let m = check_or_create(dir.path(), &db, 16).unwrap();
        assert_eq!(m.format_version, FORMAT_VERSION);
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(db.join("CURRENT"), b"MANIFEST-000001\n").unwrap();
        assert_eq!(check_or_create(dir.path(), &db, 16).unwrap(), m);
        let newer = proto::Manifest { format_version: FORMAT_VERSION + 1, ..m };
        write(dir.path(), &newer).unwrap();
        let err = check_or_create(dir.path(), &db, 16).unwrap_err().to_string();
        assert!(err.contains("upgrade Strata"), "{err}");
    }

    #[test]
    fn upgrades_an_older_format_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let m = check_or_create(dir.path(), &db, 16).unwrap();
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(db.join("CURRENT"), b"MANIFEST-000001\n").unwrap();
        write(dir.path(), &proto::Manifest { format_version: 1, ..m.clone() }).unwrap();
        let opened = check_or_create(dir.path(), &db, 16).unwrap();
        assert_eq!(opened, proto::Manifest { format_version: FORMAT_VERSION, ..m.clone() });
        let stored = proto::Manifest::decode(std::fs::read(dir.path().join(FILE_NAME)).unwrap().as_slice()).unwrap();
        assert_eq!(stored.format_version, FORMAT_VERSION);
        assert_eq!(stored.created_at_ms, m.created_at_ms);
    }

    #[test]
    fn refuses_foreign_and_corrupt_directories() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        std::fs::write(db.join("CURRENT"), b"x").unwrap();
        let err = check_or_create(dir.path(), &db, 16).unwrap_err().to_string();
        assert!(err.contains("not a Strata data directory"), "{err}");
        std::fs::write(dir.path().join(FILE_NAME), b"\xff\xff\xff").unwrap();
        let err = check_or_create(dir.path(), &db, 16).unwrap_err().to_string();
        assert!(err.contains("corrupt"), "{err}");
    }
}
