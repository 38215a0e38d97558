//! Key lookups of the running command, for INFO's `keyspace_hits` / `keyspace_misses`: each
//! look at a key's record (`Storage::get_alive` / `get_live`) counts on the calling thread,
//! and the command layer adds a read command's counts to the statistics when it ends (Redis
//! counts in `lookupKeyRead`, so writes' lookups are left out there).

use std::cell::Cell;

thread_local! {
    static FOUND: Cell<u64> = const { Cell::new(0) };
    static MISSING: Cell<u64> = const { Cell::new(0) };
}

/// One lookup that found a live key (or not).
pub fn found(hit: bool) {
    let c = if hit { &FOUND } else { &MISSING };
    c.with(|c| c.set(c.get() + 1));
}

/// (found, missing) lookups on this thread since the last `take`, and starts again from 0.
pub fn take() -> (u64, u64) {
    (FOUND.replace(0), MISSING.replace(0))
}

/// Sets the counts back to what `take` returned (a command's own lookups around the commands
/// it runs).
pub fn put((found, missing): (u64, u64)) {
    FOUND.set(found);
    MISSING.set(missing);
}
