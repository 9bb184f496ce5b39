//! `timeline.csv` and `timeline.jsonl`: attacker events for Timesketch.
//!
//! Timesketch imports CSV and JSON lines that carry `message`, `datetime`
//! (ISO 8601) and `timestamp_desc`; every other column is kept as an
//! attribute. Each event cites its file and line, and the other log line of
//! the same request when there is one.

use std::io::Write;

use polars::prelude::DataFrame;

use super::escape::for_csv;
use super::tabular::{Cell, frame_cells};

/// What the timestamp of an event means, for Timesketch.
const TIMESTAMP_DESC: &str = "Event Recorded";

fn cell<'c>(names: &[String], row: &'c [Cell], name: &str) -> &'c Cell {
    names
        .iter()
        .position(|n| n == name)
        .map_or(&Cell::Null, |i| &row[i])
}

/// A one-line description: who, from where, did what, with what result.
fn message(names: &[String], row: &[Cell]) -> String {
    let get = |n: &str| cell(names, row, n).text();
    let who = match get("principal") {
        p if p.is_empty() => "unknown".to_string(),
        p => p,
    };
    let what = match (get("action"), get("method"), get("path")) {
        (a, _, _) if !a.is_empty() => a,
        (_, m, p) => format!("{m} {p}"),
    };
    let target = get("resource_id");
    let on = if target.is_empty() || what.contains(&target) {
        String::new()
    } else {
        format!(" on {target}")
    };
    let status = get("status");
    let result = if status.is_empty() {
        get("outcome")
    } else {
        format!("{} ({status})", get("outcome"))
    };
    format!("{who} from {}: {what}{on}: {result}", get("ip"))
}

/// Writes the timeline as CSV, text cells neutralised for spreadsheets.
pub fn write_csv(out: &mut dyn Write, timeline: &DataFrame) -> std::io::Result<()> {
    let (names, rows) = frame_cells(timeline).map_err(std::io::Error::other)?;
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "message".to_string(),
        "datetime".into(),
        "timestamp_desc".into(),
    ];
    header.extend(names.iter().cloned());
    w.write_record(&header)?;
    for row in &rows {
        let mut record = vec![
            for_csv(&message(&names, row)).into_owned(),
            cell(&names, row, "ts").text(),
            TIMESTAMP_DESC.to_string(),
        ];
        record.extend(row.iter().map(|c| match c {
            Cell::Text(s) => for_csv(s).into_owned(),
            other => other.text(),
        }));
        w.write_record(&record)?;
    }
    w.flush()
}

/// Writes the timeline as JSON lines.
pub fn write_jsonl(out: &mut dyn Write, timeline: &DataFrame) -> std::io::Result<()> {
    let (names, rows) = frame_cells(timeline).map_err(std::io::Error::other)?;
    for row in &rows {
        let mut obj = serde_json::Map::new();
        obj.insert("message".into(), message(&names, row).into());
        obj.insert("datetime".into(), cell(&names, row, "ts").text().into());
        obj.insert("timestamp_desc".into(), TIMESTAMP_DESC.into());
        for (name, c) in names.iter().zip(row) {
            let v = match c {
                Cell::Null => serde_json::Value::Null,
                Cell::Bool(b) => (*b).into(),
                Cell::Int(n) => (*n).into(),
                Cell::UInt(n) => (*n).into(),
                Cell::Float(x) => {
                    serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into)
                }
                Cell::Text(s) => s.clone().into(),
            };
            obj.insert(name.clone(), v);
        }
        serde_json::to_writer(&mut *out, &obj)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
