//! What the harness reads about the server process under test (`/proc/<pid>`): CPU time (user +
//! system, all threads) and resident memory; and the harness's own file descriptor limit.

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ: 100 on every Linux port we run on).
const TICKS_PER_SECOND: u64 = 100;

/// One reading of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessSample {
    /// utime + stime, milliseconds.
    pub cpu_ms: u64,
    /// VmRSS, kilobytes.
    pub rss_kb: u64,
}

impl ProcessSample {
    /// Reads `/proc/<pid>`; `None` if the process is gone or the files are not as expected.
    pub fn read(pid: u32) -> Option<ProcessSample> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        Some(ProcessSample { cpu_ms: parse_cpu_ms(&stat)?, rss_kb: parse_rss_kb(&status)? })
    }
}

/// utime (field 14) + stime (field 15), counted after the parenthesized command name.
fn parse_cpu_ms(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields after the name start at field 3 (state), so utime is index 14 - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 1000 / TICKS_PER_SECOND)
}

fn parse_rss_kb(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Raises this process's open-file limit as far as the hard limit allows; returns the new soft limit.
pub fn raise_fd_limit(wanted: u64) -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "1234 (srs (worker) x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 8 0 100 2000 300";
        assert_eq!(parse_cpu_ms(stat), Some(3000));
        assert_eq!(parse_rss_kb("Name:\tsrs\nVmRSS:\t   12345 kB\n"), Some(12345));
    }

    #[test]
    fn reads_this_process() {
        let sample = ProcessSample::read(std::process::id()).expect("own /proc entry");
        assert!(sample.rss_kb > 0);
    }
}
