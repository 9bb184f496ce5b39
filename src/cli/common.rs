//! Options shared by subcommands, and the glue that loads evidence with a
//! progress bar and reports skipped or damaged inputs.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::load::{self, LoadOptions, Loaded, Progress};
use crate::parse::Format;
use crate::parse::mapping::UserMap;
use crate::time::{Window, Zone};

/// Options every subcommand takes.
#[derive(clap::Args, Clone, Debug)]
pub struct GlobalArgs {
    /// More messages on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr, no progress bar.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Worker threads (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
}

impl GlobalArgs {
    /// Sizes the rayon pool and Polars' pool.
    pub fn configure_threads(&self) -> Result<()> {
        let Some(n) = self.threads else { return Ok(()) };
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        // Polars reads this once, when its pool is first used.
        // SAFETY: called before any other thread is started.
        unsafe { std::env::set_var("POLARS_MAX_THREADS", n.to_string()) };
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("setting up worker threads")
    }

    /// Whether to draw a progress bar: stderr is a terminal and nobody asked
    /// for silence or detailed logs.
    pub fn wants_progress(&self) -> bool {
        !self.quiet && self.verbose < 2 && std::io::stderr().is_terminal()
    }
}

/// The evidence to read and how to read it.
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Log files or folders (walked recursively); gzip or plain, any mix of
    /// formats.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Read every input as this format instead of detecting it: combined,
    /// common, jsonl or cloudtrail.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Field mapping for JSON logs: lines `column = field.path`, e.g.
    /// `ip = x_real_ip` or `principal = claims.sub`.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    #[command(flatten)]
    pub window: WindowArgs,
}

/// The time window.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct WindowArgs {
    /// Only events at or after this time (RFC 3339, or a date for midnight).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time (RFC 3339, or a date to include that
    /// whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Zone of log times written without one, and of --since/--until
    /// without one: UTC (default), an offset like +02:00, or a name like
    /// Europe/Berlin.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

impl WindowArgs {
    /// Validates the zone and window.
    pub fn resolve(&self) -> Result<(Zone, Window)> {
        let zone = match &self.tz {
            Some(tz) => Zone::parse(tz).context("reading --tz")?,
            None => Zone::Utc,
        };
        let window = Window::parse(self.since.as_deref(), self.until.as_deref(), zone)
            .context("reading --since/--until")?;
        Ok((zone, window))
    }
}

impl InputArgs {
    /// Validates everything before any evidence is read.
    pub fn load_options(&self) -> Result<LoadOptions> {
        let (zone, window) = self.window.resolve()?;
        let format = match &self.format {
            Some(name) => Some(Format::from_name(name).with_context(|| {
                format!(
                    "--format {name}: unknown format (use combined, common, jsonl or cloudtrail)"
                )
            })?),
            None => None,
        };
        let user_map = match &self.map {
            Some(path) => Some(UserMap::load(path).context("reading --map")?),
            None => None,
        };
        Ok(LoadOptions {
            window,
            zone,
            format,
            user_map,
        })
    }
}

/// A progress bar over raw input bytes, drawn on stderr.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar if `global` wants one, otherwise a hidden one.
    pub fn new(global: &GlobalArgs, label: &'static str) -> Bar {
        let bar = if global.wants_progress() {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label);
        Bar(bar)
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// Loads the inputs with a progress bar and warns about every input that
/// was skipped, damaged or partly rejected.
pub fn load_evidence(args: &InputArgs, global: &GlobalArgs) -> Result<Loaded> {
    let opts = args.load_options()?;
    let bar = Bar::new(global, "reading");
    let loaded = load::load(&args.inputs, &opts, &bar);
    bar.finish();
    let mut loaded = loaded.context("reading the evidence")?;
    warn_about_inputs(&loaded);
    let frame = std::mem::take(&mut loaded.frame);
    let _phase = crate::timing::Phase::start("enrich");
    loaded.frame = crate::enrich::enrich(frame, &crate::frame::Dictionary::global())
        .context("enriching events")?;
    Ok(loaded)
}

/// Skipped inputs named one by one up to this many; the rest are counted
/// (all are listed in the manifest or findings.json).
const SKIPS_NAMED: usize = 10;

fn warn_about_inputs(loaded: &Loaded) {
    let skipped = loaded.inputs.iter().filter(|r| r.skipped.is_some()).count();
    let mut named = 0;
    for r in &loaded.inputs {
        if let Some(reason) = &r.skipped {
            if named < SKIPS_NAMED || skipped <= SKIPS_NAMED + 1 {
                log::warn!("skipped {}: {reason}", r.path);
            } else {
                log::info!("skipped {}: {reason}", r.path);
            }
            named += 1;
        }
        if let Some(d) = &r.damage {
            log::warn!(
                "{}: {} at byte {} (member {}); kept the {} lines before it",
                r.path,
                d.reason,
                d.offset,
                d.member,
                r.records
            );
        }
        if r.rejected > 0 {
            log::warn!(
                "{}: rejected {} of {} lines (see rejects.jsonl)",
                r.path,
                r.rejected,
                r.records
            );
        }
        log::debug!(
            "{}: format {}, {} events",
            r.path,
            r.format.unwrap_or("-"),
            r.events
        );
    }
    if skipped > SKIPS_NAMED + 1 {
        log::warn!(
            "skipped {} more inputs that are not logs \
             (-v names them; all are listed in the manifest)",
            skipped - SKIPS_NAMED
        );
    }
}

/// Exit status for a finished run: 3 when an input was incomplete.
pub fn exit_code(incomplete: bool) -> std::process::ExitCode {
    if incomplete {
        std::process::ExitCode::from(super::EXIT_INCOMPLETE)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
