//! The process as the OS sees it (from /proc): resident memory, CPU time, the machine's memory.
//! Zero where /proc is not available.

/// Resident set size in bytes.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map(|pages| pages * rustix::param::page_size() as u64)
        .unwrap_or(0)
}

/// (user, system) CPU seconds of this process.
pub fn cpu_times() -> (f64, f64) {
    stat_cpu_times("/proc/self/stat")
}

/// (user, system) CPU seconds of the calling thread (Redis's `used_cpu_*_main_thread`).
pub fn thread_cpu_times() -> (f64, f64) {
    stat_cpu_times("/proc/thread-self/stat")
}

/// utime and stime of a /proc `stat` file, in seconds.
fn stat_cpu_times(path: &str) -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string(path) else { return (0.0, 0.0) };
    let Some(after) = stat.rsplit(')').next() else { return (0.0, 0.0) };
    let f: Vec<&str> = after.split_whitespace().collect();
    let per_second = rustix::param::clock_ticks_per_second() as f64;
    // Fields 14 and 15 of stat (utime, stime), counted after the command name: 11 and 12.
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / per_second;
    (tick(11), tick(12))
}

/// The machine's memory in bytes (`MemTotal`).
pub fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Open file descriptors of the process.
pub fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_proc() {
        assert!(super::resident_bytes() > 0);
        assert!(super::total_system_memory() > super::resident_bytes());
        assert!(super::open_fds() > 0);
    }
}
