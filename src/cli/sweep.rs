//! `breachscope sweep`: search raw bytes for every indicator at once.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::common::{Bar, GlobalArgs, WindowArgs, exit_code};
use crate::report::escape::{for_csv, for_terminal};
use crate::sweep::{SweepReport, parse_ioc_list, sweep};

/// Search decompressed logs for indicators, without parsing.
///
/// Counts, per indicator and file, the lines containing it (as
/// `zgrep -c -F VALUE` would) with the first and last line number. Every
/// file is searched, whatever its format.
///
/// Example: breachscope sweep /evidence --ioc-file iocs.txt
#[derive(clap::Args)]
pub struct Args {
    /// Files or folders to search.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Indicators, one per line (IPs, keys, user names, paths...); `#`
    /// starts a comment.
    #[arg(long, value_name = "FILE", required_unless_present = "ioc")]
    pub ioc_file: Option<PathBuf>,
    /// An indicator (repeatable).
    #[arg(long, value_name = "VALUE")]
    pub ioc: Vec<String>,
    /// Match ASCII letters regardless of case.
    #[arg(long, short = 'i')]
    pub ignore_case: bool,
    /// Output: table, csv or json.
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    pub output: String,
    /// Time window: a matching line counts when the first time written on it
    /// falls inside (lines without a readable time always count).
    #[command(flatten)]
    pub window: WindowArgs,
}

/// Runs `sweep`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let iocs = read_iocs(&args)?;
    let (_, window) = args.window.resolve()?;
    let bar = Bar::new(global, "sweeping");
    let report = sweep(&args.inputs, &iocs, args.ignore_case, window, &bar);
    bar.finish();
    let report = report.context("sweeping the evidence")?;
    for input in &report.inputs {
        if let Some(reason) = &input.skipped {
            log::warn!("skipped {}: {reason}", input.path);
        }
        if let Some(d) = &input.damage {
            log::warn!(
                "{}: {} at byte {}; searched the {} lines before it",
                input.path,
                d.reason,
                d.offset,
                input.lines
            );
        }
    }
    let mut out = std::io::stdout().lock();
    match args.output.as_str() {
        "csv" => write_csv(&mut out, &report)?,
        "json" => write_json(&mut out, &report)?,
        _ => write_table(&mut out, &report)?,
    }
    Ok(exit_code(report.is_incomplete()))
}

fn read_iocs(args: &Args) -> Result<Vec<String>> {
    let mut text = args.ioc.join("\n");
    if let Some(path) = &args.ioc_file {
        let file =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        text.push('\n');
        text.push_str(&file);
    }
    let iocs = parse_ioc_list(&text);
    if iocs.is_empty() {
        bail!("no indicators given: the IOC file is empty or all comments");
    }
    Ok(iocs)
}

#[derive(Serialize)]
struct Row<'a> {
    ioc: &'a str,
    file: &'a str,
    lines: u64,
    first_line: u64,
    last_line: u64,
}

fn rows(report: &SweepReport) -> Vec<Row<'_>> {
    report
        .hits
        .iter()
        .map(|h| Row {
            ioc: &report.iocs[h.ioc],
            file: &report.inputs[h.input].path,
            lines: h.lines,
            first_line: h.first_line,
            last_line: h.last_line,
        })
        .collect()
}

fn write_table(out: &mut dyn Write, report: &SweepReport) -> Result<()> {
    let rows = rows(report);
    let ioc_w = rows
        .iter()
        .map(|r| r.ioc.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    let file_w = rows
        .iter()
        .map(|r| r.file.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:ioc_w$}  {:file_w$}  {:>9}  {:>10}  {:>10}",
        "ioc", "file", "lines", "first_line", "last_line"
    )?;
    for r in &rows {
        writeln!(
            out,
            "{:ioc_w$}  {:file_w$}  {:>9}  {:>10}  {:>10}",
            for_terminal(r.ioc),
            for_terminal(r.file),
            r.lines,
            r.first_line,
            r.last_line
        )?;
    }
    let found: std::collections::BTreeSet<usize> = report.hits.iter().map(|h| h.ioc).collect();
    let missing: Vec<&str> = report
        .iocs
        .iter()
        .enumerate()
        .filter(|(i, _)| !found.contains(i))
        .map(|(_, s)| s.as_str())
        .collect();
    if !missing.is_empty() {
        writeln!(out, "not found: {}", for_terminal(&missing.join(", ")))?;
    }
    Ok(())
}

fn write_csv(out: &mut dyn Write, report: &SweepReport) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["ioc", "file", "lines", "first_line", "last_line"])?;
    for r in rows(report) {
        w.write_record([
            for_csv(r.ioc).as_ref(),
            for_csv(r.file).as_ref(),
            &r.lines.to_string(),
            &r.first_line.to_string(),
            &r.last_line.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_json(out: &mut dyn Write, report: &SweepReport) -> Result<()> {
    for r in rows(report) {
        serde_json::to_writer(&mut *out, &r)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
