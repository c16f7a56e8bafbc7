//! The process's own figures, as Prometheus' client libraries name them: CPU time, resident and
//! virtual memory, open and allowed file descriptors, start time. Read from `/proc/self` on
//! Linux at each scrape; elsewhere they are absent (`None`).

/// One reading of the process's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ProcessStats {
    /// User and system CPU time, in seconds.
    pub(crate) cpu_seconds: f64,
    /// Resident memory, in bytes.
    pub(crate) resident_bytes: i64,
    /// Virtual memory, in bytes.
    pub(crate) virtual_bytes: i64,
    /// Open file descriptors (sockets included).
    pub(crate) open_fds: i64,
    /// The soft limit on open file descriptors.
    pub(crate) max_fds: i64,
    /// When the process started, in seconds since the Unix epoch.
    pub(crate) start_time_seconds: i64,
}

/// `/proc` counts CPU time in clock ticks of `USER_HZ`, which Linux fixes at 100 for user space
/// on every architecture (`sysconf(_SC_CLK_TCK)`, which would need `unsafe`).
const TICKS_PER_SECOND: f64 = 100.0;

/// Reads the process's figures; `None` where `/proc` is not there or not as expected.
pub(crate) fn read() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its
    // closing parenthesis, starting at field 3 (state).
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let ticks = field(14)? + field(15)?;
    let start_ticks = field(22)?;
    let virtual_bytes = field(23)?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim();
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let boot_time = boot.lines().find_map(|l| l.strip_prefix("btime "))?.trim().parse::<u64>().ok()?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count();
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let max_fds = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(-1);
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Some(ProcessStats {
        #[expect(clippy::cast_precision_loss, reason = "CPU ticks stay far below 2^52")]
        cpu_seconds: ticks as f64 / TICKS_PER_SECOND,
        resident_bytes: rss_kib.parse::<i64>().ok()?.saturating_mul(1024),
        virtual_bytes: int(virtual_bytes),
        // The directory listing itself holds one descriptor while it is read.
        open_fds: i64::try_from(open_fds.saturating_sub(1)).unwrap_or(i64::MAX),
        max_fds,
        start_time_seconds: int(boot_time + start_ticks / 100),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process() {
        let stats = super::read().expect("/proc/self on Linux");
        assert!(stats.resident_bytes > 1024 * 1024, "{stats:?}");
        assert!(stats.virtual_bytes >= stats.resident_bytes, "{stats:?}");
        assert!(stats.open_fds >= 3, "{stats:?}");
        assert!(stats.max_fds >= stats.open_fds, "{stats:?}");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
        assert!(
            stats.start_time_seconds > 1_600_000_000 && stats.start_time_seconds.cast_unsigned() <= now + 1,
            "{stats:?}"
        );
        assert!(stats.cpu_seconds >= 0.0);
    }
}
