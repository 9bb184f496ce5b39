//! The SQL of `queries/`, built into the binary and overridable from a
//! folder, run with Polars SQL over the scoped event table.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars::sql::SQLContext;

/// A scoping query: its file name and built-in text.
#[derive(Clone, Copy, Debug)]
pub struct Query {
    pub file: &'static str,
    text: &'static str,
}

macro_rules! query {
    ($name:ident, $file:literal) => {
        /// `queries/` file of the same name.
        pub const $name: Query = Query {
            file: $file,
            text: include_str!(concat!("../../queries/", $file)),
        };
    };
}

query!(ATTACKER_IPS, "attacker_ips.sql");
query!(COMPROMISED_CREDENTIALS, "compromised_credentials.sql");
query!(COMPROMISED_PRINCIPALS, "compromised_principals.sql");
query!(DATA_ACCESSED, "data_accessed.sql");
query!(AFFECTED_DATA_SUBJECTS, "affected_data_subjects.sql");
query!(UNAUTHORIZED_CHANGES, "unauthorized_changes.sql");
query!(TIMELINE, "timeline.sql");
query!(KEYS_IN_QUERY_STRINGS, "keys_in_query_strings.sql");
query!(LOGINS_WITHOUT_MFA, "logins_without_mfa.sql");

/// Where query texts come from: built in, or a folder of edited copies.
#[derive(Clone, Debug, Default)]
pub struct QuerySet {
    dir: Option<PathBuf>,
}

impl QuerySet {
    /// Queries read from `dir` when a file of the same name is there.
    pub fn from_dir(dir: Option<&Path>) -> QuerySet {
        QuerySet {
            dir: dir.map(Path::to_path_buf),
        }
    }

    /// The text of `q`.
    pub fn text(&self, q: Query) -> PolarsResult<String> {
        if let Some(dir) = &self.dir {
            let path = dir.join(q.file);
            if path.exists() {
                return std::fs::read_to_string(&path).map_err(|e| PolarsError::IO {
                    error: std::sync::Arc::new(e),
                    msg: Some(path.display().to_string().into()),
                });
            }
        }
        Ok(q.text.to_string())
    }

    /// Runs `q` with `events` bound to `table`.
    pub fn run(&self, q: Query, table: LazyFrame) -> PolarsResult<DataFrame> {
        let sql = self.text(q)?;
        let mut ctx = SQLContext::new();
        ctx.register("events", table);
        ctx.execute(&sql)
            .and_then(|plan| plan.collect())
            .map_err(|e| e.context(format!("in queries/{}", q.file).into()))
    }
}
