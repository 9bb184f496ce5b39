//! Bounded fan-out of chunk work onto the rayon pool.
//!
//! A decoder produces chunks faster than one core can parse them, and with
//! several inputs every pool thread may be busy decoding. Spawning every
//! chunk would then queue whole decompressed files in memory. [`Fanout`]
//! spawns while few jobs are pending and otherwise runs the job on the
//! calling thread, which both bounds memory and keeps the decoder from
//! running ahead, without ever blocking a pool thread.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Spawns jobs up to a limit of pending ones, then runs them inline.
pub struct Fanout {
    pending: AtomicUsize,
    limit: usize,
}

impl Fanout {
    /// A fan-out sized for the current pool: two pending jobs per thread.
    pub fn for_pool() -> Fanout {
        Fanout {
            pending: AtomicUsize::new(0),
            limit: 2 * rayon::current_num_threads() + 2,
        }
    }

    /// Runs `job` on the pool, or right here when enough jobs are pending.
    pub fn run<'s>(&'s self, s: &rayon::Scope<'s>, job: impl FnOnce() + Send + 's) {
        if self.pending.load(Ordering::Acquire) >= self.limit {
            job();
            return;
        }
        self.pending.fetch_add(1, Ordering::AcqRel);
        s.spawn(move |_| {
            job();
            self.pending.fetch_sub(1, Ordering::AcqRel);
        });
    }
}
