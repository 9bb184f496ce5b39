//! Phase timings for `-vv`: how long each stage of a run took, and the
//! resident memory after it.

use std::time::Instant;

/// Logs the time since its creation when dropped.
pub struct Phase {
    name: &'static str,
    start: Instant,
}

impl Phase {
    /// Starts timing phase `name`.
    pub fn start(name: &'static str) -> Phase {
        Phase {
            name,
            start: Instant::now(),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        if !log::log_enabled!(log::Level::Debug) {
            return;
        }
        log::debug!(
            "{} took {:.3} s{}",
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
