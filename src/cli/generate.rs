//! `breachscope generate`: write a simulated incident with its answer key.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use super::common::GlobalArgs;
use crate::generate::{EdgeFormat, GenerateConfig, generate};

/// Write a simulated spear-phishing incident at a REST API.
///
/// Produces rotated nginx access logs (edge/), API-gateway JSON lines
/// (gateway/) and CloudTrail (cloudtrail/, S3 layout) with thousands of
/// users, bots, a scanner, benign errors and decoys, plus truth.json, the
/// answer key. The same seed and size give the same bytes.
///
/// Example: breachscope generate --out incident/ --size 2GiB --files 8 --edge-only
#[derive(clap::Args)]
pub struct Args {
    /// Output folder (created if missing).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Approximate uncompressed size of the edge logs: 4MB, 500MiB, 2GiB...
    #[arg(long, default_value = "4MB")]
    pub size: String,
    /// Days of logs; the attack is on the last day.
    #[arg(long, default_value_t = 3)]
    pub days: u32,
    /// First day, YYYY-MM-DD.
    #[arg(long, default_value = "2026-03-09")]
    pub start: String,
    /// Rotated edge log files (default: one per day).
    #[arg(long, value_name = "N")]
    pub files: Option<u32>,
    /// Edge log format: combined or json (nginx JSON log names).
    #[arg(long, default_value = "combined", value_parser = ["combined", "json"])]
    pub edge_format: String,
    /// Only the edge logs (no gateway, no CloudTrail): for benchmarks.
    #[arg(long)]
    pub edge_only: bool,
    /// Compress every edge file, with dated names (logrotate dateext).
    #[arg(long)]
    pub gzip_all: bool,
    /// Log the authenticated principal as `$remote_user` in edge logs.
    #[arg(long)]
    pub edge_user: bool,
    /// Customers of the simulated bank.
    #[arg(long, default_value_t = 5000)]
    pub customers: usize,
}

/// Runs `generate`.
pub fn run(args: Args, _global: &GlobalArgs) -> Result<ExitCode> {
    let cfg = GenerateConfig {
        seed: args.seed,
        start: args.start,
        days: args.days,
        size: parse_size(&args.size)?,
        edge_files: args.files,
        edge_format: if args.edge_format == "json" {
            EdgeFormat::Json
        } else {
            EdgeFormat::Combined
        },
        edge_only: args.edge_only,
        gzip_all: args.gzip_all,
        edge_user: args.edge_user,
        customers: args.customers,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let summary = generate(&cfg, &args.out).context("generating the incident")?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote {} files under {}: {} edge lines, {} gateway lines, {} CloudTrail records; \
         answer key in truth.json",
        summary.files.len(),
        args.out.display(),
        summary.edge_lines,
        summary.gateway_lines,
        summary.cloudtrail_records
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Parses `4MB`, `500MiB`, `2GiB`, `1000` (bytes).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .with_context(|| format!("--size {text}: not a size like 4MB or 2GiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("--size {text}: unknown unit '{other}'"),
    };
    Ok((value * scale) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4MB").expect("size"), 4_000_000);
        assert_eq!(parse_size("2GiB").expect("size"), 2 << 30);
        assert_eq!(parse_size("1000").expect("size"), 1000);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }
}
