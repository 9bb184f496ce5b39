//! `findings.json`: the machine contract of `scope`, pretty-printed.

use std::io::Write;

use crate::scope::findings::Findings;

/// Writes the findings as indented JSON with a final newline.
pub fn write_json(out: &mut dyn Write, findings: &Findings<'_>) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, findings)?;
    out.write_all(b"\n")
}
