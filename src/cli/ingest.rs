//! `breachscope ingest`: evidence to normalised Parquet, partitioned by day.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::common::{GlobalArgs, InputArgs, exit_code, load_evidence};
use crate::load::Loaded;
use crate::report::manifest::{Manifest, PartitionEntry, TOOL, WindowEntry, input_entries};
use crate::report::parquet::write_partitioned;
use crate::report::rejects::write_rejects;

/// Parse logs into normalised Parquet, partitioned by day.
///
/// Writes DIR/day=YYYY-MM-DD/events.parquet (Hive style), DIR/manifest.json
/// (every input with its SHA-256, format and line counts, and the JSON field
/// mapping used) and DIR/rejects.jsonl (every line that is not an event).
///
/// Example: breachscope ingest /evidence/nginx /evidence/cloudtrail --out lake/
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output folder (created if missing).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `ingest`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let opts = args.input.load_options()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let loaded = load_evidence(&args.input, global)?;
    let partitions = write_partitioned(&loaded.frame, &args.out)
        .with_context(|| format!("writing Parquet under {}", args.out.display()))?;
    write_manifest(&args.out, &loaded, &opts.window, &partitions)?;
    write_rejects_file(&args.out, &loaded)?;
    print_summary(&loaded, &args.out, partitions.len())?;
    Ok(exit_code(loaded.is_incomplete()))
}

fn write_manifest(
    dir: &Path,
    loaded: &Loaded,
    window: &crate::time::Window,
    parts: &[(String, u64)],
) -> Result<()> {
    let manifest = Manifest {
        tool: TOOL,
        inputs: input_entries(&loaded.inputs),
        window: WindowEntry::of(window),
        events: loaded.frame.height() as u64,
        rejected: loaded.inputs.iter().map(|r| r.rejected).sum(),
        incomplete: loaded.is_incomplete(),
        partitions: parts
            .iter()
            .map(|(path, rows)| PartitionEntry {
                path: path.clone(),
                rows: *rows,
            })
            .collect(),
    };
    let path = dir.join("manifest.json");
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes `rejects.jsonl` into `dir`.
pub fn write_rejects_file(dir: &Path, loaded: &Loaded) -> Result<()> {
    let path = dir.join("rejects.jsonl");
    let file =
        std::fs::File::create(&path).with_context(|| format!("writing {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write_rejects(&mut out, &loaded.inputs, &loaded.rejects)?;
    out.flush()
        .with_context(|| format!("writing {}", path.display()))
}

fn print_summary(loaded: &Loaded, dir: &Path, days: usize) -> Result<()> {
    let read = loaded.inputs.iter().filter(|r| r.format.is_some()).count();
    let rejected: u64 = loaded.inputs.iter().map(|r| r.rejected).sum();
    let records: u64 = loaded.inputs.iter().map(|r| r.records).sum();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} events from {} of {} inputs ({} lines, {} rejected) in {} day partitions under {}",
        loaded.frame.height(),
        read,
        loaded.inputs.len(),
        records,
        rejected,
        days,
        crate::report::escape::for_terminal(&dir.display().to_string())
    )?;
    Ok(())
}
