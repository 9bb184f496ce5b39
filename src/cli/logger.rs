//! A minimal `log` backend: one line per message on stderr, prefixed with
//! the program name and level, control characters made visible.

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::GlobalArgs;
use crate::report::escape::for_terminal;

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Libraries' own debug chatter (the SQL parser logs every token)
        // would bury ours: below warnings, only breachscope's messages.
        let ours = metadata.target().starts_with("breachscope");
        metadata.level() <= log::max_level() && (ours || metadata.level() <= Level::Warn)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        let text = record.args().to_string();
        eprintln!("breachscope: {level}: {}", for_terminal(&text));
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the logger at the level chosen by `-v`/`-q`.
pub fn init(global: &GlobalArgs) {
    let level = if global.quiet {
        LevelFilter::Error
    } else {
        match global.verbose {
            0 => LevelFilter::Warn,
            1 => LevelFilter::Info,
            2 => LevelFilter::Debug,
            _ => LevelFilter::Trace,
        }
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
