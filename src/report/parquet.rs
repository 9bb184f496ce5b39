//! Parquet export partitioned by UTC day, Hive style (`day=YYYY-MM-DD/`).
//!
//! Rows are sorted by time (ties keep input order, so the files are the same
//! on every run), and each day goes to `day=YYYY-MM-DD/events.parquet`.
//! Categorical columns are written as plain strings: the dictionary ids of
//! a run depend on thread timing, and the Parquet writer builds its own
//! dictionary pages from the values anyway. DuckDB, Spark and Trino read the
//! result with hive partitioning on.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::frame::columns;
use crate::time::day_of;

const NS_PER_DAY: i64 = 86_400_000_000_000;

/// Writes `frame` under `dir`, one file per day; returns the relative paths
/// written and their row counts. Earlier `day=` partitions in `dir` are
/// removed first so a rerun never mixes old and new rows.
pub fn write_partitioned(frame: &DataFrame, dir: &Path) -> PolarsResult<Vec<(String, u64)>> {
    remove_old_partitions(dir)?;
    let sorted = frame.sort(
        [columns::TS],
        SortMultipleOptions::default().with_maintain_order(true),
    )?;
    let plain = strings_for_export(&sorted)?;
    let ts = plain.column(columns::TS)?.datetime()?.physical().clone();
    let mut written = Vec::new();
    for (day, start, len) in day_runs(&ts) {
        let rel = format!("day={}/events.parquet", day_of(day * NS_PER_DAY));
        let path: PathBuf = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        let mut part = plain.slice(start as i64, len);
        let file = std::fs::File::create(&path).map_err(|e| io_error(&path, e))?;
        ParquetWriter::new(file)
            .with_row_group_size(Some(1 << 17))
            .finish(&mut part)?;
        written.push((rel, len as u64));
    }
    Ok(written)
}

/// `(day number, first row, rows)` for each run of equal UTC days in sorted
/// nanosecond timestamps.
fn day_runs(ts: &Int64Chunked) -> Vec<(i64, usize, usize)> {
    let mut runs: Vec<(i64, usize, usize)> = Vec::new();
    for (i, t) in ts.iter().enumerate() {
        let day = t.unwrap_or(0).div_euclid(NS_PER_DAY);
        match runs.last_mut() {
            Some((d, _, len)) if *d == day => *len += 1,
            _ => runs.push((day, i, 1)),
        }
    }
    runs
}

/// The frame with categorical columns cast to strings.
pub fn strings_for_export(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let cols = frame
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::Categorical(..) => c.cast(&DataType::String),
            _ => Ok(c.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(frame.height(), cols)
}

fn remove_old_partitions(dir: &Path) -> PolarsResult<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_partition = name.to_string_lossy().starts_with("day=") && entry.path().is_dir();
        if is_partition {
            let file = entry.path().join("events.parquet");
            if file.exists() {
                std::fs::remove_file(&file).map_err(|e| io_error(&file, e))?;
            }
            // Only our own file is removed; a folder the analyst filled
            // with other files stays.
            let _ = std::fs::remove_dir(entry.path());
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: std::io::Error) -> PolarsError {
    PolarsError::IO {
        error: std::sync::Arc::new(e),
        msg: Some(format!("{}", path.display()).into()),
    }
}
