//! `breachscope scope` graded against the generator's answer key, on the
//! real OTRF CloudTrail attack, and for the properties of its outputs.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{fixture, read_json, run_ok, tree};
use serde_json::Value;

fn generate(dir: &Path, seed: u64) {
    run_ok(
        [
            "generate",
            "--out",
            dir.to_str().expect("utf-8"),
            "--seed",
            &seed.to_string(),
            "--size",
            "2MB",
            "--customers",
            "2000",
        ],
        0,
    );
}

fn scope(inputs: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "scope",
        inputs.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "-q",
    ];
    args.extend_from_slice(extra);
    run_ok(args, 0);
    read_json(&out.join("findings.json"))
}

/// Values of `keys` of every item of list `name`, joined with `|`.
fn set(v: &Value, name: &str, keys: &[&str]) -> BTreeSet<String> {
    v[name]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is a list"))
        .iter()
        .map(|item| match item {
            Value::String(s) => s.clone(),
            _ => keys
                .iter()
                .map(|k| item[*k].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join("|"),
        })
        .collect()
}

/// Recall must be 1.0 and precision at least 0.95.
fn grade(name: &str, got: &BTreeSet<String>, want: &BTreeSet<String>) {
    let hits = got.intersection(want).count();
    let recall = if want.is_empty() {
        1.0
    } else {
        hits as f64 / want.len() as f64
    };
    let precision = if got.is_empty() {
        1.0
    } else {
        hits as f64 / got.len() as f64
    };
    let missing: Vec<_> = want.difference(got).take(5).collect();
    let extra: Vec<_> = got.difference(want).take(5).collect();
    assert!(
        recall == 1.0,
        "{name}: recall {recall:.3}, missing {missing:?}"
    );
    assert!(
        precision >= 0.95,
        "{name}: precision {precision:.3}, extra {extra:?}"
    );
}

fn grade_against_truth(findings: &Value, truth: &Value) {
    let keyed = [
        ("attacker_ips", vec!["ip"]),
        ("compromised_credentials", vec!["credential"]),
        ("compromised_principals", vec!["principal"]),
        ("affected_data_subjects", vec!["id"]),
        (
            "data_accessed",
            vec!["principal", "resource_type", "resource_id"],
        ),
        ("lateral_movement", vec!["from", "to", "kind"]),
        (
            "unauthorized_changes",
            vec!["principal", "action", "target"],
        ),
    ];
    for (name, keys) in keyed {
        grade(name, &set(findings, name, &keys), &set(truth, name, &keys));
    }
    let mut serious = findings.clone();
    if let Some(list) = serious["detections"].as_array_mut() {
        list.retain(|d| d["severity"] != "low");
    }
    grade(
        "detections",
        &set(&serious, "detections", &["rule", "subject"]),
        &set(truth, "detections", &["rule", "subject"]),
    );
    for key in [
        "first_malicious_event",
        "last_malicious_event",
        "attacker_events",
    ] {
        assert_eq!(findings[key], truth[key], "{key}");
    }
}

fn assert_no_decoys(findings: &Value, truth: &Value) {
    let decoys = &truth["decoys"];
    let ips = set(findings, "attacker_ips", &["ip"]);
    let principals = set(findings, "compromised_principals", &["principal"]);
    let creds = set(findings, "compromised_credentials", &["credential"]);
    for ip in decoys["ips"].as_array().expect("decoy ips") {
        assert!(
            !ips.contains(ip.as_str().unwrap_or("")),
            "decoy address {ip} reported"
        );
    }
    for p in decoys["principals"].as_array().expect("decoy principals") {
        assert!(
            !principals.contains(p.as_str().unwrap_or("")),
            "decoy principal {p} reported"
        );
    }
    for c in decoys["credentials"].as_array().expect("decoy credentials") {
        assert!(
            !creds.contains(c.as_str().unwrap_or("")),
            "decoy credential {c} reported"
        );
    }
    // The traveller and the office are at most low-severity news.
    for d in findings["detections"].as_array().expect("detections") {
        if d["subject"] == "li.wei" {
            assert_eq!(d["severity"], "low", "{d}");
        }
    }
}

#[test]
fn scoping_from_detections_matches_the_answer_key_over_several_seeds() {
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().expect("temp dir");
        generate(dir.path(), seed);
        let findings = scope(&dir.path().join("logs"), &dir.path().join("out"), &[]);
        let truth = read_json(&dir.path().join("truth.json"));
        grade_against_truth(&findings, &truth);
        assert_no_decoys(&findings, &truth);
    }
}

#[test]
fn bundled_incident_matches_its_answer_key() {
    let out = tempfile::tempdir().expect("temp dir");
    let findings = scope(&fixture("incident/logs"), out.path(), &[]);
    grade_against_truth(&findings, &read_json(&fixture("incident/truth.json")));
}

#[test]
fn one_attacker_address_leads_to_everything_connected_to_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(dir.path(), 4);
    let truth = read_json(&dir.path().join("truth.json"));
    let findings = scope(
        &dir.path().join("logs"),
        &dir.path().join("out"),
        &["--ioc", "203.0.113.66"],
    );
    // The sprayer never got in: nothing links it to this address.
    let mut want = set(&truth, "attacker_ips", &["ip"]);
    want.remove("203.0.113.77");
    grade(
        "attacker_ips",
        &set(&findings, "attacker_ips", &["ip"]),
        &want,
    );
    for (name, key) in [
        ("compromised_credentials", "credential"),
        ("compromised_principals", "principal"),
    ] {
        grade(
            name,
            &set(&findings, name, &[key]),
            &set(&truth, name, &[key]),
        );
    }
    grade(
        "lateral_movement",
        &set(&findings, "lateral_movement", &["from", "to", "kind"]),
        &set(&truth, "lateral_movement", &["from", "to", "kind"]),
    );
    assert_eq!(findings["seeds"][0]["origin"], "ioc");
    assert_no_decoys(&findings, &truth);
}

#[test]
fn a_shared_address_given_as_indicator_is_not_expanded() {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(dir.path(), 5);
    let findings = scope(
        &dir.path().join("logs"),
        &dir.path().join("out"),
        &["--ioc", "192.0.2.10"],
    );
    assert_eq!(findings["attacker_ips"], Value::Array(Vec::new()));
    assert_eq!(findings["compromised_principals"], Value::Array(Vec::new()));
    assert_eq!(findings["shared_addresses"][0]["ip"], "192.0.2.10");
}

#[test]
fn stolen_instance_role_session_in_the_otrf_dataset() {
    let out = tempfile::tempdir().expect("temp dir");
    let findings = scope(&fixture("real/otrf-aws-cloudtrail"), out.path(), &[]);
    let creds = set(&findings, "compromised_credentials", &["credential"]);
    assert_eq!(creds, BTreeSet::from(["ASIA5FLZVX4OPVKKVBMX".to_string()]));
    let role = "arn:aws:sts::123456789123:assumed-role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0/i-0317f6c6b66ae9c40";
    assert_eq!(
        set(&findings, "compromised_principals", &["principal"]),
        BTreeSet::from([role.to_string()])
    );
    let data = set(
        &findings,
        "data_accessed",
        &["resource_type", "resource_id"],
    );
    assert!(
        data.contains("s3-object|mordors3stack-s3bucket-llp2yingx64a/ring.txt"),
        "{data:?}"
    );
    assert!(
        data.contains("s3-bucket|mordors3stack-s3bucket-llp2yingx64a"),
        "{data:?}"
    );
    let text = std::fs::read_to_string(out.path().join("timeline.jsonl")).expect("timeline");
    assert!(
        !text.contains("pedro"),
        "the benign user is not in the timeline"
    );
    assert_eq!(findings["attacker_events"], 11);
    assert_eq!(
        findings["detections"][0]["rule"],
        "instance-credential-exfiltration"
    );
}

#[test]
fn outputs_are_byte_identical_across_runs_and_thread_counts() {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(dir.path(), 6);
    let logs = dir.path().join("logs");
    let mut trees = Vec::new();
    for threads in ["1", "2", "2"] {
        let out = dir.path().join(format!("out-{}", trees.len()));
        scope(&logs, &out, &["--threads", threads, "--parquet"]);
        trees.push(tree(&out));
    }
    assert!(trees[0].len() >= 9);
    assert_eq!(trees[0], trees[1]);
    assert_eq!(trees[1], trees[2]);
}

#[test]
fn every_output_is_written_and_timesketch_ready() {
    let out = tempfile::tempdir().expect("temp dir");
    scope(&fixture("incident/logs"), out.path(), &[]);
    for name in [
        "findings.json",
        "timeline.csv",
        "timeline.jsonl",
        "notify.csv",
        "containment.md",
        "report.md",
        "report.html",
        "rejects.jsonl",
    ] {
        assert!(out.path().join(name).exists(), "{name}");
    }
    let csv = std::fs::read_to_string(out.path().join("timeline.csv")).expect("csv");
    assert!(csv.starts_with("message,datetime,timestamp_desc,"));
    let first = common::json_lines(
        &std::fs::read_to_string(out.path().join("timeline.jsonl")).expect("jsonl"),
    )[0]
    .clone();
    for key in ["message", "datetime", "timestamp_desc", "source", "line"] {
        assert!(!first[key].is_null(), "{key} in {first}");
    }
    let notify = std::fs::read_to_string(out.path().join("notify.csv")).expect("notify");
    assert!(
        notify
            .lines()
            .any(|l| l.starts_with("data subject,100500,customer,")),
        "{notify}"
    );
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("html");
    assert!(
        html.contains("<svg")
            && !html.contains("<script")
            && !html.contains("http://")
            && !html.contains("https://")
    );
}

#[test]
fn attacker_text_is_escaped_in_every_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("evil.log");
    let mut text = String::new();
    for i in 0..5 {
        text.push_str(&format!(
            "203.0.113.9 - mallory [05/Mar/2026:10:00:0{i} +0000] \"GET /x/<script>alert(1)</script>?q=%3Cb%3E HTTP/1.1\" 200 5 \"-\" \"=cmd|'/c calc'!A1 <img src=x onerror=alert(2)> \x1b[2J\"\n"
        ));
    }
    std::fs::write(&log, text).expect("write");
    let out = dir.path().join("out");
    scope(&log, &out, &["--ioc", "203.0.113.9"]);
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "raw HTML in report"
    );
    assert!(html.contains("&lt;script&gt;"));
    let csv = std::fs::read_to_string(out.join("timeline.csv")).expect("csv");
    assert!(csv.contains(",'=cmd|"), "formula neutralised: {csv}");
    for name in [
        "timeline.csv",
        "report.md",
        "containment.md",
        "notify.csv",
        "findings.json",
        "timeline.jsonl",
        "report.html",
    ] {
        let bytes = std::fs::read(out.join(name)).expect("output");
        assert!(!bytes.contains(&0x1b), "escape byte in {name}");
    }
}

#[test]
fn detect_lists_detections_by_severity() {
    let out = run_ok(
        [
            "detect",
            fixture("incident/logs").to_str().expect("utf-8"),
            "--min-severity",
            "high",
            "--output",
            "json",
            "-q",
        ],
        0,
    );
    let rows = common::json_lines(&out);
    let rules: BTreeSet<&str> = rows.iter().filter_map(|r| r["rule"].as_str()).collect();
    for rule in [
        "password-spray",
        "new-ip-login",
        "enumeration",
        "credential-parallel-ips",
        "unauthorized-change",
    ] {
        assert!(rules.contains(rule), "{rule} in {rules:?}");
    }
    assert!(rows.iter().all(|r| r["severity"] == "high"));
}

#[test]
fn enumeration_is_judged_by_address_only_for_reads_without_an_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = String::new();
    // The same burst of reads of 150 customer records in five minutes,
    // once without an account and once by account `eve`.
    for (ip, user) in [("203.0.113.50", "-"), ("198.51.100.7", "eve")] {
        for i in 0..150 {
            log.push_str(&format!(
                "{ip} - {user} [11/Mar/2026:10:{:02}:{:02} +0000] \
                 \"GET /api/v1/customers/{} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"\n",
                i / 30,
                (i * 2) % 60,
                1000 + i
            ));
        }
    }
    let path = dir.path().join("access.log");
    std::fs::write(&path, log).expect("write log");
    let out = run_ok(
        [
            "detect",
            path.to_str().expect("utf-8"),
            "--output",
            "json",
            "-q",
        ],
        0,
    );
    let subjects: BTreeSet<String> = common::json_lines(&out)
        .iter()
        .filter(|r| r["rule"] == "enumeration")
        .filter_map(|r| r["subject"].as_str().map(String::from))
        .collect();
    let want: BTreeSet<String> = ["203.0.113.50", "eve"].map(String::from).into();
    assert_eq!(subjects, want);
}
