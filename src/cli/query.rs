//! `breachscope query`: Polars SQL over the event table.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use polars::prelude::*;
use polars::sql::SQLContext;

use super::common::{GlobalArgs, InputArgs, exit_code, load_evidence};
use crate::report::tabular::{write_csv, write_json, write_table};

/// Run SQL over the events of the inputs (table `events`).
///
/// The table has the columns of the normalised schema (ts, source, line,
/// format, ip, principal, credential, service, method, path, query, status,
/// outcome, bytes, user_agent, action, resource_type, resource_id, ...).
/// Times are UTC.
///
/// Example: breachscope query logs/ --sql "SELECT ip, count(*) AS n FROM events GROUP BY ip
/// ORDER BY n DESC LIMIT 10"
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// SQL text (repeatable: every query runs over one parse).
    #[arg(long, value_name = "SQL", required_unless_present = "file")]
    pub sql: Vec<String>,
    /// A file holding SQL, e.g. from queries/ (repeatable).
    #[arg(long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Output: table, csv or json (one object per line).
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    pub output: String,
}

/// Runs `query`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let mut queries = args.sql.clone();
    for path in &args.file {
        queries.push(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    // Check the SQL against the schema before reading any evidence.
    let dict = crate::frame::Dictionary::global();
    let empty = crate::enrich::enrich(crate::frame::empty(&dict)?, &dict)?;
    for sql in &queries {
        run_sql(empty.clone(), sql)?;
    }
    let loaded = load_evidence(&args.input, global)?;
    let mut out = std::io::stdout().lock();
    for (i, sql) in queries.iter().enumerate() {
        let result = run_sql(loaded.frame.clone(), sql)?;
        if i > 0 {
            writeln!(out)?;
        }
        match args.output.as_str() {
            "csv" => write_csv(&mut out, &result)?,
            "json" => write_json(&mut out, &result)?,
            _ => write_table(&mut out, &result)?,
        }
    }
    out.flush()?;
    Ok(exit_code(loaded.is_incomplete()))
}

/// Runs `sql` with `events` bound to `frame`.
pub fn run_sql(frame: DataFrame, sql: &str) -> Result<DataFrame> {
    let mut ctx = SQLContext::new();
    ctx.register("events", crate::frame::sql_view(frame));
    let plan = anyhow::Context::context(ctx.execute(sql), "in the SQL")?;
    anyhow::Context::context(plan.collect(), "running the SQL")
}
