//! The questions of `queries/` are portable: run by DuckDB over the Parquet
//! that `scope --parquet` exports, they give the answers `findings.json`
//! gives.
//!
//! Needs Python with the `duckdb` module (`pip install duckdb`). Without it
//! the test says so on stderr and passes, unless `BREACHSCOPE_REQUIRE_DUCKDB`
//! is set, as `.ci/run` sets it after installing DuckDB: CI cannot skip it.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{fixture, read_json, root, run_ok};
use serde_json::Value;

/// Runs each query file in DuckDB over the export; one JSON list per query.
const DUCKDB_SCRIPT: &str = r#"
import json, sys, duckdb
parquet, queries = sys.argv[1], sys.argv[2:]
con = duckdb.connect()
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{parquet}/day=*/*.parquet', hive_partitioning = true)")
out = {}
for path in queries:
    cur = con.execute(open(path).read())
    names = [d[0] for d in cur.description]
    out[path] = [dict(zip(names, [str(v) if v is not None else None for v in row])) for row in cur.fetchall()]
print(json.dumps(out))
"#;

fn duckdb_available() -> bool {
    Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Rows of a DuckDB answer as `key|key|...` strings.
fn duck_rows(answer: &Value, keys: &[&str]) -> BTreeSet<String> {
    answer
        .as_array()
        .expect("a list of rows")
        .iter()
        .map(|row| join(row, keys))
        .collect()
}

/// Items of a findings list as `key|key|...` strings.
fn finding_rows(findings: &Value, list: &str, keys: &[&str]) -> BTreeSet<String> {
    findings[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} is a list"))
        .iter()
        .map(|item| join(item, keys))
        .collect()
}

fn join(item: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| match &item[*k] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

#[test]
fn queries_answer_the_same_in_duckdb_over_the_parquet_export() {
    if !duckdb_available() {
        assert!(
            std::env::var_os("BREACHSCOPE_REQUIRE_DUCKDB").is_none(),
            "BREACHSCOPE_REQUIRE_DUCKDB is set but python3 cannot import duckdb"
        );
        eprintln!("skipped: python3 cannot import duckdb (pip install duckdb)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = fixture("incident/logs");
    let out = dir.path().join("out");
    run_ok(
        [
            "scope",
            logs.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--parquet",
            "-q",
        ],
        0,
    );
    let findings = read_json(&out.join("findings.json"));
    let queries = [
        "attacker_ips",
        "data_accessed",
        "affected_data_subjects",
        "compromised_principals",
        "unauthorized_changes",
        "compromised_credentials",
    ]
    .map(|q| root().join("queries").join(format!("{q}.sql")));
    let script = Command::new("python3")
        .args(["-c", DUCKDB_SCRIPT])
        .arg(out.join("events"))
        .args(&queries)
        .output()
        .expect("python3 runs");
    assert!(
        script.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&script.stderr)
    );
    let answers: Value = serde_json::from_slice(&script.stdout).expect("JSON from the script");
    let answer = |i: usize| &answers[queries[i].to_str().expect("utf-8")];

    let cases: [(usize, &str, &[&str]); 5] = [
        (0, "attacker_ips", &["ip", "events"]),
        (
            1,
            "data_accessed",
            &[
                "principal",
                "resource_type",
                "resource_id",
                "count",
                "bytes",
            ],
        ),
        (
            2,
            "affected_data_subjects",
            &["id", "resource_type", "accesses"],
        ),
        (3, "compromised_principals", &["principal", "events"]),
        (
            4,
            "unauthorized_changes",
            &["principal", "action", "target"],
        ),
    ];
    for (i, list, keys) in cases {
        let duck = duck_rows(answer(i), keys);
        let ours = finding_rows(&findings, list, keys);
        assert!(!ours.is_empty(), "{list} is empty: nothing was compared");
        let only_duck: Vec<_> = duck.difference(&ours).take(5).collect();
        let only_ours: Vec<_> = ours.difference(&duck).take(5).collect();
        assert!(
            only_duck.is_empty() && only_ours.is_empty(),
            "{list}: only in DuckDB {only_duck:?}, only in findings.json {only_ours:?}"
        );
    }

    // scope adds keys the attacker minted but never used to what the query
    // finds; every credential the query finds must be there.
    let keys = &["credential", "principal", "events"];
    let duck = duck_rows(answer(5), keys);
    let ours = finding_rows(&findings, "compromised_credentials", keys);
    assert!(
        !duck.is_empty(),
        "no compromised credential: nothing was compared"
    );
    let missing: Vec<_> = duck.difference(&ours).collect();
    assert!(missing.is_empty(), "found by DuckDB only: {missing:?}");
}
