//! The evidence manifest: what was read, its fingerprint, and what became of
//! every line. `ingest` writes it as `manifest.json`; `scope` embeds the same
//! `inputs` list in `findings.json`.

use serde::Serialize;

use crate::load::InputReport;
use crate::time::{Window, format_rfc3339};

/// One input as written to the manifest and to `findings.json`.
#[derive(Serialize)]
pub struct InputEntry<'a> {
    pub path: &'a str,
    pub sha256: &'a str,
    pub bytes: u64,
    pub format: Option<&'a str>,
    pub compression: &'a str,
    /// Lines (or records) read.
    pub records: u64,
    pub rejected: u64,
    pub parsed: u64,
    pub outside_window: u64,
    pub events: u64,
    /// The input could not be read to its end.
    pub incomplete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<DamageEntry<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mapping: Vec<MappingEntry<'a>>,
}

/// Where decoding of a damaged archive stopped.
#[derive(Serialize)]
pub struct DamageEntry<'a> {
    /// Byte offset in the compressed file.
    pub offset: u64,
    pub member: usize,
    /// Decompressed bytes recovered before the damage.
    pub recovered_bytes: u64,
    pub reason: &'a str,
}

/// Which JSON field fed which column, and how that was decided.
#[derive(Serialize)]
pub struct MappingEntry<'a> {
    pub column: &'a str,
    pub field: &'a str,
    pub how: String,
}

/// The manifest entries of all inputs, in input order.
pub fn input_entries(reports: &[InputReport]) -> Vec<InputEntry<'_>> {
    reports.iter().map(entry).collect()
}

fn entry(r: &InputReport) -> InputEntry<'_> {
    InputEntry {
        path: &r.path,
        sha256: &r.sha256,
        bytes: r.bytes,
        format: r.format,
        compression: r.compression,
        records: r.records,
        rejected: r.rejected,
        parsed: r.parsed(),
        outside_window: r.outside_window,
        events: r.events,
        incomplete: r.is_incomplete(),
        skipped: r.skipped.as_deref(),
        damage: r.damage.as_ref().map(|d| DamageEntry {
            offset: d.offset,
            member: d.member,
            recovered_bytes: d.recovered,
            reason: &d.reason,
        }),
        mapping: r
            .mapping
            .iter()
            .map(|(column, field, how)| MappingEntry {
                column,
                field,
                how: how.to_string(),
            })
            .collect(),
    }
}

/// Name and version of this tool, as recorded in every output.
#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// This build's name and version.
pub const TOOL: Tool = Tool {
    name: "breachscope",
    version: env!("CARGO_PKG_VERSION"),
};

/// The `--since`/`--until` window as written to outputs.
#[derive(Serialize)]
pub struct WindowEntry {
    pub since: Option<String>,
    pub until: Option<String>,
}

impl WindowEntry {
    /// The window's bounds as RFC 3339.
    pub fn of(w: &Window) -> WindowEntry {
        WindowEntry {
            since: w.since.map(format_rfc3339),
            until: w.until.map(format_rfc3339),
        }
    }
}

/// The whole `manifest.json` of `ingest`.
#[derive(Serialize)]
pub struct Manifest<'a> {
    pub tool: Tool,
    pub inputs: Vec<InputEntry<'a>>,
    pub window: WindowEntry,
    pub events: u64,
    pub rejected: u64,
    pub incomplete: bool,
    /// Day partitions written: `day=YYYY-MM-DD/events.parquet` and rows.
    pub partitions: Vec<PartitionEntry>,
}

/// One Parquet partition.
#[derive(Serialize)]
pub struct PartitionEntry {
    pub path: String,
    pub rows: u64,
}
