//! What the scripting commands share across connections: the EVAL script cache (SHA1 → body),
//! the FUNCTION libraries, and the scripts running now (for -BUSY, SCRIPT KILL, FUNCTION KILL
//! and FUNCTION STATS). Each thread compiles scripts into its own Lua VM; `generation` tells it
//! when SCRIPT FLUSH or a FUNCTION change made its VM stale.

use crate::scripting::Library;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One loaded FUNCTION library.
pub struct Lib {
    pub code: Bytes,
    pub info: Library,
}

/// The FUNCTION libraries: by name, and each function's library.
#[derive(Default)]
pub struct Functions {
    pub libs: BTreeMap<String, Lib>,
    /// Function name (lower case: FCALL ignores case) → library name.
    pub index: HashMap<String, String>,
}

impl Functions {
    pub fn insert(&mut self, lib: Lib) {
        for f in &lib.info.functions {
            self.index.insert(f.name.to_ascii_lowercase(), lib.info.name.clone());
        }
        self.libs.insert(lib.info.name.clone(), lib);
    }

    pub fn remove(&mut self, name: &str) -> Option<Lib> {
        let lib = self.libs.remove(name)?;
        for f in &lib.info.functions {
            self.index.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }

    pub fn function_count(&self) -> usize {
        self.index.len()
    }
}

/// A script running now.
pub struct Running {
    pub client: u64,
    pub started: Instant,
    /// Set by SCRIPT KILL / FUNCTION KILL: the script stops at its next check.
    pub kill: Arc<AtomicBool>,
    /// FCALL (a function) rather than EVAL.
    pub function: bool,
    /// The function's name and the command (FUNCTION STATS; empty for EVAL scripts).
    pub name: String,
    pub command: Vec<Bytes>,
}

#[derive(Default)]
pub struct Scripts {
    /// EVAL / SCRIPT LOAD bodies by lowercase SHA1.
    pub bodies: RwLock<HashMap<String, Bytes>>,
    pub functions: RwLock<Functions>,
    /// Bumped by SCRIPT FLUSH and every FUNCTION change: thread VMs older than this start over.
    pub generation: AtomicU64,
    running: Mutex<HashMap<u64, Running>>,
    running_count: AtomicUsize,
}

/// Unregisters a running script when dropped.
pub struct RunGuard<'a> {
    scripts: &'a Scripts,
    token: u64,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if self.scripts.running.lock().remove(&self.token).is_some() {
            self.scripts.running_count.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

impl Scripts {
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Registers a running script until the guard drops.
    pub fn start(&self, run: Running) -> RunGuard<'_> {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        self.running.lock().insert(token, run);
        self.running_count.fetch_add(1, Ordering::AcqRel);
        RunGuard { scripts: self, token }
    }

    /// Whether any script is running (one atomic load).
    pub fn any_running(&self) -> bool {
        self.running_count.load(Ordering::Acquire) > 0
    }

    /// Whether a script of another client than `client` has run past `threshold`: Redis then
    /// answers other commands with -BUSY. Returns whether that script is a function.
    pub fn busy(&self, client: u64, threshold: Duration) -> Option<bool> {
        if self.running_count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let running = self.running.lock();
        running.values().find(|r| r.client != client && r.started.elapsed() >= threshold).map(|r| r.function)
    }

    /// SCRIPT KILL (`function` false) / FUNCTION KILL (true): stops the scripts of that kind
    /// running past `threshold`. Err(true) when only scripts of the other kind are busy, Err(false)
    /// when none is.
    pub fn kill(&self, function: bool, threshold: Duration) -> Result<(), bool> {
        let running = self.running.lock();
        let busy: Vec<&Running> = running.values().filter(|r| r.started.elapsed() >= threshold).collect();
        if busy.is_empty() {
            return Err(false);
        }
        let mine: Vec<&&Running> = busy.iter().filter(|r| r.function == function).collect();
        if mine.is_empty() {
            return Err(true);
        }
        for r in mine {
            r.kill.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// The running function the longest running (FUNCTION STATS): name, command, duration.
    pub fn running_function(&self) -> Option<(String, Vec<Bytes>, Duration)> {
        let running = self.running.lock();
        running
            .values()
            .filter(|r| r.function)
            .max_by_key(|r| r.started.elapsed())
            .map(|r| (r.name.clone(), r.command.clone(), r.started.elapsed()))
    }
}
