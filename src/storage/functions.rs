//! Persistence of FUNCTION libraries: each library's code under `#fn·<name>` in the `default`
//! family, so functions survive a restart (as Redis keeps them in its RDB and AOF). FLUSHALL
//! does not touch them, as in Redis.

use super::{cf, Storage, StoreError};
use bytes::Bytes;

const PREFIX: &[u8] = b"#fn\x00";

fn key(name: &str) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    k.extend_from_slice(name.as_bytes());
    k
}

impl Storage {
    /// Every stored library: (name, code).
    pub fn load_functions(&self) -> Result<Vec<(String, Bytes)>, StoreError> {
        let mut out = Vec::new();
        let mut ro = rocksdb::ReadOptions::default();
        ro.set_iterate_lower_bound(PREFIX.to_vec());
        let mut end = PREFIX.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        ro.set_iterate_upper_bound(end);
        let mut it = self.db().raw_iterator_cf_opt(self.cf(cf::DEFAULT), ro);
        it.seek_to_first();
        while it.valid() {
            if let (Some(k), Some(v)) = (it.key(), it.value()) {
                let name = String::from_utf8_lossy(&k[PREFIX.len()..]).into_owned();
                out.push((name, Bytes::copy_from_slice(v)));
            }
            it.next();
        }
        it.status()?;
        Ok(out)
    }

    /// Replaces the stored libraries in one atomic write: deletes `remove`, then writes `put`.
    pub fn store_functions(&self, remove: &[String], put: &[(String, Bytes)]) -> Result<(), StoreError> {
        let mut b = self.batch();
        for name in remove {
            b.delete_default(&key(name));
        }
        for (name, code) in put {
            b.put_default(&key(name), code);
        }
        b.commit()
    }
}
