//! `breachscope detect`: the detections alone, without a seed.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::common::{GlobalArgs, InputArgs, exit_code, load_evidence};
use crate::frame::Dictionary;
use crate::report::escape::{for_csv, for_terminal};
use crate::scope::detect::{Severity, detect};
use crate::scope::findings::{DetectionEntry, evidence};
use crate::scope::index::Events;
use crate::time::format_rfc3339;

/// Run the detections: password spraying and brute force, logins and keys
/// from new addresses, credentials used from two places at once,
/// enumeration, bulk access, unauthorized changes, stolen instance
/// credentials.
///
/// Example: breachscope detect /evidence --min-severity medium
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Lowest severity shown: low, medium or high.
    #[arg(long, default_value = "low", value_parser = ["low", "medium", "high"])]
    pub min_severity: String,
    /// Output: table, csv or json (one object per line).
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    pub output: String,
}

/// Runs `detect`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let min = match args.min_severity.as_str() {
        "high" => Severity::High,
        "medium" => Severity::Medium,
        _ => Severity::Low,
    };
    let loaded = load_evidence(&args.input, global)?;
    let dict = Dictionary::global();
    let frame = &loaded.frame;
    let ev = Events::new(frame, &dict).context("indexing events")?;
    let entries: Vec<DetectionEntry> = detect(&ev)
        .iter()
        .filter(|d| d.severity >= min)
        .map(|d| DetectionEntry {
            rule: d.rule.to_string(),
            severity: d.severity,
            subject: ev.text(d.subject).to_string(),
            first: format_rfc3339(d.first),
            last: format_rfc3339(d.last),
            count: d.count,
            evidence: evidence(&ev, d.rows.iter().map(|&r| r as usize)),
            summary: d.summary.clone(),
        })
        .collect();
    let mut out = std::io::stdout().lock();
    match args.output.as_str() {
        "json" => {
            for e in &entries {
                serde_json::to_writer(&mut out, e)?;
                writeln!(out)?;
            }
        }
        "csv" => write_csv(&mut out, &entries)?,
        _ => write_table(&mut out, &entries)?,
    }
    Ok(exit_code(loaded.is_incomplete()))
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
    }
}

fn write_table(out: &mut dyn Write, entries: &[DetectionEntry]) -> Result<()> {
    for e in entries {
        let cite = e
            .evidence
            .first()
            .map(|c| format!("{}:{}", c.source, c.line))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<6} {:<32} {:<36} {}  {} ({})",
            severity(e.severity),
            e.rule,
            for_terminal(&e.subject),
            e.first,
            for_terminal(&e.summary),
            for_terminal(&cite)
        )?;
    }
    writeln!(out, "({} detections)", entries.len())?;
    Ok(())
}

fn write_csv(out: &mut dyn Write, entries: &[DetectionEntry]) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "severity", "rule", "subject", "first", "last", "count", "summary", "source", "line",
    ])?;
    for e in entries {
        let cite = e.evidence.first();
        w.write_record([
            severity(e.severity),
            &e.rule,
            &for_csv(&e.subject),
            &e.first,
            &e.last,
            &e.count.to_string(),
            &for_csv(&e.summary),
            &cite
                .map(|c| for_csv(&c.source).into_owned())
                .unwrap_or_default(),
            &cite.map(|c| c.line.to_string()).unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
