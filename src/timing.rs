//! Phase timings for `-vv`: how long each stage of a run took.

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
        log::debug!(
            "{} took {:.3} s",
            self.name,
            self.start.elapsed().as_secs_f64()
        );
    }
}
