//! `breachscope ingest` end to end: every input format and compression,
//! damaged archives, real samples, Parquet output and determinism.

mod common;

use common::{data, fixture, read_json, run, run_ok, tree};
use serde_json::Value;

fn ingest(inputs: &[std::path::PathBuf], extra: &[&str], code: i32) -> (tempfile::TempDir, Value) {
    let out = tempfile::tempdir().expect("temp dir");
    let mut args: Vec<std::ffi::OsString> = vec!["ingest".into()];
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    args.extend(["--out".into(), out.path().as_os_str().to_owned()]);
    args.extend(extra.iter().map(|a| (*a).into()));
    run_ok(args, code);
    let manifest = read_json(&out.path().join("manifest.json"));
    (out, manifest)
}

fn input<'m>(manifest: &'m Value, suffix: &str) -> &'m Value {
    manifest["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| i["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        .unwrap_or_else(|| panic!("no input ending in {suffix}"))
}

fn counts(i: &Value) -> (u64, u64, u64) {
    (
        i["records"].as_u64().unwrap_or(0),
        i["rejected"].as_u64().unwrap_or(0),
        i["events"].as_u64().unwrap_or(0),
    )
}

#[test]
fn every_line_is_an_event_or_a_reject() {
    let (_out, m) = ingest(&[data("access.log"), data("gateway.jsonl")], &[], 0);
    for i in m["inputs"].as_array().expect("inputs") {
        let (records, rejected, events) = counts(i);
        assert_eq!(records, rejected + i["parsed"].as_u64().unwrap_or(0), "{i}");
        assert_eq!(i["parsed"], i["events"]);
        assert!(events > 0);
    }
    assert_eq!(counts(input(&m, "access.log")), (9, 3, 6));
    assert_eq!(counts(input(&m, "gateway.jsonl")), (6, 2, 4));
    assert_eq!(
        input(&m, "access.log")["sha256"].as_str().map(str::len),
        Some(64)
    );
}

#[test]
fn rejects_are_written_with_reasons_and_escaped_bytes() {
    let (out, _m) = ingest(&[data("access.log")], &[], 0);
    let text = std::fs::read_to_string(out.path().join("rejects.jsonl")).expect("rejects");
    let rejects = common::json_lines(&text);
    let lines: Vec<u64> = rejects
        .iter()
        .map(|r| r["line"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(lines, [3, 4, 9]);
    assert_eq!(rejects[1]["reason"], "blank line");
    assert_eq!(
        rejects[2]["reason"],
        "user agent is not a closed quoted string"
    );
    assert!(
        rejects[0]["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("tests/data/access.log"))
    );
}

#[test]
fn gzip_and_plain_give_identical_events() {
    let query = "SELECT ts, line, ip, principal, method, path, query, status, bytes, user_agent FROM events";
    let plain = run_ok(
        [
            "query",
            data("access.log").to_str().expect("utf-8"),
            "--sql",
            query,
            "--output",
            "json",
        ],
        0,
    );
    let gz = run_ok(
        [
            "query",
            data("access.log.gz").to_str().expect("utf-8"),
            "--sql",
            query,
            "--output",
            "json",
        ],
        0,
    );
    assert_eq!(plain, gz);
    assert_eq!(plain.lines().count(), 6);
    assert!(
        plain.contains(r#""path":"/caf\\xE9/menu""#),
        "non-UTF-8 byte kept visibly: {plain}"
    );
}

#[test]
fn multi_member_gzip_is_read_to_the_end() {
    let (_o, m) = ingest(&[data("multi-member.log.gz")], &[], 0);
    let i = input(&m, "multi-member.log.gz");
    assert_eq!(counts(i), (500, 0, 500));
    assert_eq!(i["compression"], "gzip");
    assert_eq!(i["incomplete"], false);
}

#[test]
fn truncated_gzip_keeps_lines_before_the_damage_and_exits_3() {
    let (_o, m) = ingest(&[data("truncated.log.gz")], &[], 3);
    let i = input(&m, "truncated.log.gz");
    let (records, rejected, events) = counts(i);
    assert!(events > 9_000 && events < 20_000, "{events}");
    assert_eq!(rejected, 1, "only the line cut by the damage");
    assert_eq!(records, events + 1);
    assert_eq!(i["incomplete"], true);
    assert_eq!(i["damage"]["reason"], "archive is truncated");
    assert_eq!(m["incomplete"], true);
}

#[test]
fn corrupt_gzip_is_flagged() {
    let (_o, m) = ingest(&[data("corrupt.log.gz")], &[], 3);
    let i = input(&m, "corrupt.log.gz");
    assert!(
        i["damage"]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("archive is corrupt")),
        "{i}"
    );
    assert!(counts(i).2 > 0);
}

#[test]
fn non_logs_are_skipped_with_a_reason() {
    let real = fixture("real");
    let (_o, m) = ingest(
        &[
            data("cloudtrail-digest.json.gz"),
            data("archive.log.zst"),
            real.join("loghub/Apache_2k.log"),
            real.join("otrf-aws-cloudtrail/LICENSE"),
        ],
        &[],
        0,
    );
    assert!(
        input(&m, "digest.json.gz")["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("digest"))
    );
    assert!(
        input(&m, ".zst")["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("zstd"))
    );
    assert!(
        input(&m, "Apache_2k.log")["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("error log"))
    );
    assert!(
        input(&m, "LICENSE")["skipped"]
            .as_str()
            .is_some_and(|s| s.contains("not a recognised"))
    );
    assert_eq!(m["events"], 0);
}

#[test]
fn json_mappings_are_reported_and_overridable() {
    let (_o, m) = ingest(
        &[data("custom.jsonl")],
        &["--map", data("custom.map").to_str().expect("utf-8")],
        0,
    );
    let mapping = input(&m, "custom.jsonl")["mapping"]
        .as_array()
        .expect("mapping")
        .clone();
    let has = |col: &str, field: &str, how: &str| {
        mapping
            .iter()
            .any(|e| e["column"] == col && e["field"] == field && e["how"] == how)
    };
    assert!(has("principal", "who", "--map"));
    assert!(has("ts", "when", "inferred from values"));
    assert!(has("ip", "peer", "inferred from values"));
    let out = run_ok(
        [
            "query",
            data("custom.jsonl").to_str().expect("utf-8"),
            "--map",
            data("custom.map").to_str().expect("utf-8"),
            "--sql",
            "SELECT principal, ip, status FROM events ORDER BY line",
            "--output",
            "csv",
        ],
        0,
    );
    assert_eq!(
        out,
        "principal,ip,status\ngrace,203.0.113.50,200\nheidi,203.0.113.51,404\n"
    );
}

#[test]
fn cloudtrail_layouts_agree() {
    let q = "SELECT principal, credential, action, resource_type, resource_id, minted_credential, outcome, bytes \
             FROM events ORDER BY ts";
    let records = run_ok(
        [
            "query",
            data("cloudtrail.json.gz").to_str().expect("utf-8"),
            "--sql",
            q,
            "--output",
            "csv",
        ],
        0,
    );
    let lines = run_ok(
        [
            "query",
            data("cloudtrail-lines.json").to_str().expect("utf-8"),
            "--sql",
            q,
            "--output",
            "csv",
        ],
        0,
    );
    assert_eq!(records, lines);
    assert!(records.contains("ops,AKIAOPS1,CreateAccessKey,iam-user,backup,AKIANEW1,success,"));
    assert!(records.contains("backup,AKIANEW1,GetObject,s3-object,exports/a.csv,,success,1048576"));
    assert!(records.contains("backup,,CreateUser,iam-user,x,,denied,"));
}

/// Resources of HTTP rows follow from their paths whether the input holds
/// only HTTP logs (the columns are then written from the per-path values)
/// or CloudTrail records too (which name their resources themselves).
#[test]
fn http_resources_are_the_same_with_or_without_cloudtrail() {
    let q = "SELECT line, path, resource_type, resource_id FROM events \
             WHERE format = 'combined' ORDER BY line";
    let http = data("access.log");
    let query = |inputs: &[&std::path::Path]| {
        let mut args: Vec<&str> = vec!["query"];
        args.extend(inputs.iter().map(|p| p.to_str().expect("utf-8")));
        args.extend(["--sql", q, "--output", "csv"]);
        run_ok(args, 0)
    };
    let alone = query(&[&http]);
    let mixed = query(&[&http, &data("cloudtrail.json.gz")]);
    assert_eq!(alone, mixed);
    assert!(alone.lines().count() > 3, "{alone}");
    assert!(
        alone
            .lines()
            .skip(1)
            .all(|row| row.split(',').nth(2).is_some_and(|ty| !ty.is_empty())),
        "every HTTP row names a resource type: {alone}"
    );
}

#[test]
fn truncated_cloudtrail_document_keeps_earlier_records() {
    let (_o, m) = ingest(&[data("cloudtrail-truncated.json.gz")], &[], 3);
    let i = input(&m, "cloudtrail-truncated.json.gz");
    let (records, rejected, events) = counts(i);
    assert!(events > 10 && events < 200, "{events}");
    assert_eq!((rejected, records), (1, events + 1));
}

#[test]
fn real_samples_are_read_completely() {
    let real = fixture("real");
    let (_o, m) = ingest(std::slice::from_ref(&real), &[], 0);
    let apache = input(&m, "elastic-examples-apache/apache_logs");
    assert_eq!(counts(apache), (10_000, 1, 9_999));
    assert_eq!(counts(input(&m, "apache_logs.gz")), (10_000, 1, 9_999));
    assert_eq!(
        counts(input(&m, "ec2_proxy_s3_exfiltration_2020-09-14011940.json")),
        (103, 0, 103)
    );
    for name in [
        "apache-access-darwin-2.4.23.log",
        "apache-access-test.log",
        "nginx-access-access.log",
        "nginx-access-test-with-host.log",
        "nginx-access-test.log",
    ] {
        let i = input(&m, name);
        assert_eq!(i["rejected"], 0, "{name}");
        assert!(i["events"].as_u64().is_some_and(|e| e > 0), "{name}");
    }
    let stratus: u64 = m["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter(|i| {
            i["path"]
                .as_str()
                .is_some_and(|p| p.contains("stratus") && p.ends_with(".json"))
        })
        .map(|i| i["events"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(stratus, 310);
    // Only the userIdentity fragment and apache line 8899 (twice) are rejected.
    assert_eq!(m["rejected"], 3);
}

#[test]
fn edge_case_clients_are_read_as_filebeat_would() {
    let dir = fixture("real/elastic-beats-access-edgecases");
    let csv = run_ok(
        [
            "query",
            dir.to_str().expect("utf-8"),
            "--sql",
            "SELECT ip, service FROM events WHERE source LIKE '%with-host%' ORDER BY line",
            "--output",
            "csv",
        ],
        0,
    );
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows[0], "127.0.0.1,example.com");
    assert_eq!(rows[2], "81.2.69.143,example.com");
    assert_eq!(rows[5], "2a02:cf40:10ff:f00f:0000:0000:0:8000,1.128.3.4");
    assert_eq!(rows[7], "unix:,example.com");
}

#[test]
fn parquet_is_partitioned_by_day() {
    let (out, m) = ingest(&[data("multi-member.log.gz")], &[], 0);
    let parts = m["partitions"].as_array().expect("partitions");
    let paths: Vec<&str> = parts.iter().filter_map(|p| p["path"].as_str()).collect();
    assert_eq!(
        paths,
        [
            "day=2026-03-05/events.parquet",
            "day=2026-03-06/events.parquet"
        ]
    );
    assert_eq!(parts[0]["rows"], 300);
    for p in paths {
        let bytes = std::fs::read(out.path().join(p)).expect("partition file");
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    }
}

#[test]
fn since_and_until_filter_early_but_count_everything() {
    let (_o, m) = ingest(
        &[data("multi-member.log.gz")],
        &["--since", "2026-03-06"],
        0,
    );
    let i = input(&m, "multi-member.log.gz");
    assert_eq!(counts(i), (500, 0, 200));
    assert_eq!(i["outside_window"], 300);
    let (_o, m) = ingest(
        &[data("multi-member.log.gz")],
        &["--until", "2026-03-05"],
        0,
    );
    assert_eq!(m["events"], 300);
}

#[test]
fn outputs_are_byte_identical_across_runs_and_thread_counts() {
    let inputs = [
        data("access.log.gz"),
        data("gateway.jsonl"),
        data("cloudtrail.json.gz"),
        fixture("real/elastic-examples-apache"),
    ];
    let (a, _) = ingest(&inputs, &["--threads", "1"], 0);
    let (b, _) = ingest(&inputs, &["--threads", "2"], 0);
    let (c, _) = ingest(&inputs, &[], 0);
    let (ta, tb, tc) = (tree(a.path()), tree(b.path()), tree(c.path()));
    assert!(ta.len() > 3);
    assert_eq!(ta, tb);
    assert_eq!(ta, tc);
}

#[test]
fn evidence_is_not_modified() {
    let path = data("truncated.log.gz");
    let before = std::fs::read(&path).expect("read");
    let _ = ingest(std::slice::from_ref(&path), &[], 3);
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn bad_arguments_fail_fast_with_one_line() {
    for args in [
        vec!["ingest", "no/such/file.log", "--out", "/tmp/never"],
        vec![
            "ingest",
            "tests/data/access.log",
            "--out",
            "/tmp/never",
            "--since",
            "yesterday",
        ],
        vec![
            "ingest",
            "tests/data/access.log",
            "--out",
            "/tmp/never",
            "--format",
            "syslog",
        ],
        vec![
            "ingest",
            "tests/data/access.log",
            "--out",
            "/tmp/never",
            "--tz",
            "Mars/Base",
        ],
        vec![
            "ingest",
            "tests/data/access.log",
            "--out",
            "/tmp/never",
            "--map",
            "tests/data/iocs.txt",
        ],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("breachscope: error: "), "{err}");
    }
}
