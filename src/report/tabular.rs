//! Any result frame as a terminal table, CSV or JSON.
//!
//! Used by `query`, whose SQL can return anything. Times are written as
//! RFC 3339 UTC; every text cell goes through the escaping of its medium,
//! because query results routinely carry attacker-written strings.

use std::io::Write;

use polars::prelude::*;

use super::escape::{for_csv, for_terminal};
use crate::time::format_rfc3339;

/// One cell of a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
}

impl Cell {
    /// The cell as display text (nulls are empty).
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(n) => n.to_string(),
            Cell::UInt(n) => n.to_string(),
            Cell::Float(x) => x.to_string(),
            Cell::Text(s) => s.clone(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Null => serde_json::Value::Null,
            Cell::Bool(b) => (*b).into(),
            Cell::Int(n) => (*n).into(),
            Cell::UInt(n) => (*n).into(),
            Cell::Float(x) => {
                serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into)
            }
            Cell::Text(s) => s.clone().into(),
        }
    }
}

/// The cells of column `c`, one per row.
pub fn column_cells(c: &Column) -> PolarsResult<Vec<Cell>> {
    let s = c.as_materialized_series();
    let cells = match s.dtype() {
        DataType::Datetime(unit, _) => {
            let scale = match unit {
                TimeUnit::Nanoseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1_000_000,
            };
            let phys = s.datetime()?.physical().clone();
            phys.iter()
                .map(|v| v.map_or(Cell::Null, |v| Cell::Text(format_rfc3339(v * scale))))
                .collect()
        }
        DataType::Boolean => s
            .bool()?
            .iter()
            .map(|v| v.map_or(Cell::Null, Cell::Bool))
            .collect(),
        dt if dt.is_float() => {
            let f = s.cast(&DataType::Float64)?;
            f.f64()?
                .iter()
                .map(|v| v.map_or(Cell::Null, Cell::Float))
                .collect()
        }
        dt if dt.is_unsigned_integer() => {
            let u = s.cast(&DataType::UInt64)?;
            u.u64()?
                .iter()
                .map(|v| v.map_or(Cell::Null, Cell::UInt))
                .collect()
        }
        dt if dt.is_integer() => {
            let i = s.cast(&DataType::Int64)?;
            i.i64()?
                .iter()
                .map(|v| v.map_or(Cell::Null, Cell::Int))
                .collect()
        }
        _ => {
            let t = s.cast(&DataType::String)?;
            t.str()?
                .iter()
                .map(|v| v.map_or(Cell::Null, |v| Cell::Text(v.to_string())))
                .collect()
        }
    };
    Ok(cells)
}

/// Column names and rows of cells.
pub fn frame_cells(df: &DataFrame) -> PolarsResult<(Vec<String>, Vec<Vec<Cell>>)> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let cols: Vec<Vec<Cell>> = df
        .columns()
        .iter()
        .map(column_cells)
        .collect::<PolarsResult<_>>()?;
    let rows = (0..df.height())
        .map(|r| cols.iter().map(|c| c[r].clone()).collect())
        .collect();
    Ok((names, rows))
}

/// Widest a table column gets before its cells are cut with `…`.
const MAX_CELL: usize = 60;

/// Writes an aligned text table, cells cut at 60 characters.
pub fn write_table(out: &mut dyn Write, df: &DataFrame) -> std::io::Result<()> {
    let (names, rows) = frame_cells(df).map_err(std::io::Error::other)?;
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clip(&for_terminal(&c.text()))).collect())
        .collect();
    let mut widths: Vec<usize> = names.iter().map(|n| n.chars().count()).collect();
    for row in &shown {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    write_row(
        out,
        &names
            .iter()
            .map(|n| for_terminal(n).into_owned())
            .collect::<Vec<_>>(),
        &widths,
    )?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    write_row(out, &rule, &widths)?;
    for row in &shown {
        write_row(out, row, &widths)?;
    }
    writeln!(out, "({} rows)", df.height())
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_CELL {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(MAX_CELL - 1).collect();
    cut.push('…');
    cut
}

fn write_row(out: &mut dyn Write, cells: &[String], widths: &[usize]) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        if i + 1 < cells.len() {
            line.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(cell.chars().count()),
            ));
        }
    }
    writeln!(out, "{line}")
}

/// Writes CSV with a header; text cells are neutralised for spreadsheets.
pub fn write_csv(out: &mut dyn Write, df: &DataFrame) -> std::io::Result<()> {
    let (names, rows) = frame_cells(df).map_err(std::io::Error::other)?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(names.iter().map(|n| for_csv(n).into_owned()))?;
    for row in rows {
        w.write_record(row.iter().map(|c| match c {
            Cell::Text(s) => for_csv(s).into_owned(),
            other => other.text(),
        }))?;
    }
    w.flush()
}

/// Writes one JSON object per row (JSON lines).
pub fn write_json(out: &mut dyn Write, df: &DataFrame) -> std::io::Result<()> {
    let (names, rows) = frame_cells(df).map_err(std::io::Error::other)?;
    for row in rows {
        let obj: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .cloned()
            .zip(row.iter().map(Cell::json))
            .collect();
        serde_json::to_writer(&mut *out, &obj)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
