//! `breachscope query`: SQL over the event table, and its outputs.

mod common;

use breachscope::frame::columns;
use common::{data, fixture, json_lines, run, run_ok};

#[test]
fn every_schema_column_exists() {
    let names = [
        columns::TS,
        columns::SOURCE,
        columns::LINE,
        columns::FORMAT,
        columns::IP,
        columns::FORWARDED_FOR,
        columns::PRINCIPAL,
        columns::CREDENTIAL,
        columns::SERVICE,
        columns::METHOD,
        columns::PATH,
        columns::QUERY,
        columns::STATUS,
        columns::ERROR_CODE,
        columns::OUTCOME,
        columns::BYTES,
        columns::USER_AGENT,
        columns::REFERER,
        columns::REQUEST_ID,
        columns::ACTION,
        columns::RESOURCE_TYPE,
        columns::RESOURCE_ID,
        columns::MINTED_CREDENTIAL,
        columns::ACCOUNT,
        columns::REGION,
        columns::IDENTITY_TYPE,
        columns::EVENT_TYPE,
        columns::MFA,
        columns::READ_ONLY,
        columns::INSTANCE_CREDENTIAL,
    ];
    let sql = format!("SELECT {} FROM events LIMIT 1", names.join(", "));
    let rows = json_lines(&run_ok(
        [
            "query",
            data("gateway.jsonl").to_str().expect("utf-8"),
            "--sql",
            &sql,
            "--output",
            "json",
        ],
        0,
    ));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].as_object().map(|o| o.len()), Some(names.len()));
}

#[test]
fn times_are_utc_and_counts_group() {
    let out = run_ok(
        [
            "query",
            fixture("real/elastic-beats-access-edgecases/apache-access-darwin-2.4.23.log")
                .to_str()
                .expect("utf-8"),
            "--sql",
            "SELECT min(ts) AS first, count(*) AS n FROM events",
            "--output",
            "csv",
        ],
        0,
    );
    // The log says 16:16:28 +0200.
    assert_eq!(out, "first,n\n2016-12-26T14:16:28Z,6\n");
}

#[test]
fn attacker_text_is_neutralised_in_csv_and_terminal() {
    let csv = run_ok(
        [
            "query",
            data("access.log").to_str().expect("utf-8"),
            "--sql",
            "SELECT user_agent FROM events WHERE path IN ('/x', '/y') ORDER BY line",
            "--output",
            "csv",
        ],
        0,
    );
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(!csv.contains('\x1b'));
    let table = run_ok(
        [
            "query",
            data("access.log").to_str().expect("utf-8"),
            "--sql",
            "SELECT user_agent FROM events WHERE path = '/y'",
        ],
        0,
    );
    assert!(!table.contains('\x1b'), "{table}");
    assert!(table.contains("\\u{1b}[31mred"));
}

#[test]
fn sql_from_a_file_and_sql_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let q = dir.path().join("q.sql");
    std::fs::write(&q, "SELECT count(*) AS n FROM events WHERE status >= 400").expect("write");
    let out = run_ok(
        [
            "query",
            data("access.log").to_str().expect("utf-8"),
            "--file",
            q.to_str().expect("utf-8"),
            "--output",
            "csv",
        ],
        0,
    );
    assert_eq!(out, "n\n2\n");
    let bad = run([
        "query",
        data("access.log").to_str().expect("utf-8"),
        "--sql",
        "SELEKT nonsense",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("breachscope: error: in the SQL"));
}
