//! Phase timings for `-vv`: how long each stage of a run took, the processor
//! time all threads spent in it (so a stage that keeps one core busy shows
//! as such), and the resident memory after it.

use std::time::Instant;

/// Logs the time since its creation when dropped.
pub struct Phase {
    name: &'static str,
    start: Instant,
    cpu: Option<f64>,
}

impl Phase {
    /// Starts timing phase `name`.
    pub fn start(name: &'static str) -> Phase {
        Phase {
            name,
            start: Instant::now(),
            // Read only when it will be printed: a run without `-vv` should
            // not open a file at every stage.
            cpu: log::log_enabled!(log::Level::Debug)
                .then(cpu_seconds)
                .flatten(),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if !log::log_enabled!(log::Level::Debug) {
            return;
        }
        let cpu = match (self.cpu, cpu_seconds()) {
            (Some(before), Some(now)) => format!(", processor {:.2} s", now - before),
            _ => String::new(),
        };
        log::debug!(
            "{} took {:.3} s{cpu}{}",
            self.name,
            self.start.elapsed().as_secs_f64(),
            memory().unwrap_or_default()
        );
    }
}

/// Current and peak resident memory, where the system tells (Linux).
fn memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().strip_suffix(" kB"))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (rss, peak) = (field("VmRSS:")?, field("VmHWM:")?);
    Some(format!(
        " (resident {} MB, peak {} MB)",
        rss / 1024,
        peak / 1024
    ))
}

/// User and system time of all the process's threads so far, where the
/// system tells (Linux: fields 14 and 15 of `/proc/self/stat`, in the fixed
/// 100 ticks a second of `USER_HZ`).
fn cpu_seconds() -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / USER_HZ)
}
