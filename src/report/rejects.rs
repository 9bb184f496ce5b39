//! `rejects.jsonl`: every line or record that did not become an event, with
//! the reason and its raw bytes, so nothing is dropped without a trace.

use std::io::Write;

use serde::Serialize;

use crate::frame::escape_invalid_utf8;
use crate::load::InputReport;
use crate::parse::Reject;

#[derive(Serialize)]
struct Row<'a> {
    source: &'a str,
    line: u64,
    reason: &'a str,
    /// The raw bytes; bytes that are not UTF-8 are written as `\xNN`.
    raw: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    raw_truncated: bool,
}

/// Writes one JSON object per reject, in input and line order.
pub fn write_rejects(
    out: &mut dyn Write,
    inputs: &[InputReport],
    rejects: &[(usize, Reject)],
) -> std::io::Result<()> {
    let mut sorted: Vec<&(usize, Reject)> = rejects.iter().collect();
    sorted.sort_by_key(|(i, r)| (*i, r.line));
    for (input, reject) in sorted {
        let mut raw = String::with_capacity(reject.raw.len());
        escape_invalid_utf8(&reject.raw, &mut raw);
        let row = Row {
            source: &inputs[*input].path,
            line: reject.line,
            reason: &reject.reason,
            raw,
            raw_truncated: reject.truncated,
        };
        serde_json::to_writer(&mut *out, &row)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
