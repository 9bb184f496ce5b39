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
/// Example: breachscope query logs/ --sql "SELECT ip, count(*) AS n FROM events GROUP BY ip ORDER BY n DESC LIMIT 10"
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// The SQL text.
    #[arg(
        long,
        value_name = "SQL",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub sql: Option<String>,
    /// A file holding the SQL (see queries/).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output: table, csv or json (one object per line).
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    pub output: String,
}

/// Runs `query`.
pub fn run(args: Args, global: &GlobalArgs) -> Result<ExitCode> {
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(path)) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => unreachable!("clap requires --sql or --file"),
    };
    // Check the SQL against the schema before reading any evidence.
    let empty = crate::frame::empty(&crate::frame::Dictionary::global())?;
    run_sql(empty, &sql)?;
    let loaded = load_evidence(&args.input, global)?;
    let result = run_sql(loaded.frame.clone(), &sql)?;
    let mut out = std::io::stdout().lock();
    match args.output.as_str() {
        "csv" => write_csv(&mut out, &result)?,
        "json" => write_json(&mut out, &result)?,
        _ => write_table(&mut out, &result)?,
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
