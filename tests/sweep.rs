//! `breachscope sweep`: counts equal `zgrep -c -F` per indicator and file.

mod common;

use common::{data, fixture, json_lines, run_ok, zgrep_count};

#[test]
fn counts_match_zgrep_on_every_file() {
    let incident = fixture("incident/logs");
    let iocs = [
        "203.0.113.66",
        "2001:db8:dead::beef",
        "198.51.100.23",
        "dana.reyes",
        "GetObject",
        "/api/v1/admin/config",
    ];
    let mut args: Vec<String> = vec![
        "sweep".into(),
        incident.display().to_string(),
        "--output".into(),
        "json".into(),
    ];
    for i in iocs {
        args.extend(["--ioc".into(), i.into()]);
    }
    let rows = json_lines(&run_ok(&args, 0));
    assert!(!rows.is_empty());
    let files: Vec<std::path::PathBuf> = walk(&incident);
    for ioc in iocs {
        for f in &files {
            let expected = zgrep_count(f, ioc);
            let got = rows
                .iter()
                .find(|r| r["ioc"] == ioc && r["file"] == f.display().to_string())
                .map_or(0, |r| r["lines"].as_u64().unwrap_or(0));
            assert_eq!(got, expected, "{ioc} in {}", f.display());
        }
    }
}

#[test]
fn first_and_last_lines_and_missing_indicators() {
    let out = run_ok(
        [
            "sweep",
            data("access.log").to_str().expect("utf-8"),
            "--ioc-file",
            data("iocs.txt").to_str().expect("utf-8"),
        ],
        0,
    );
    let mut lines = out.lines();
    assert!(lines.next().is_some_and(|h| h.starts_with("ioc")));
    let row: Vec<&str> = lines.next().expect("a hit").split_whitespace().collect();
    assert_eq!(row[0], "203.0.113.9");
    assert_eq!(&row[2..], ["4", "6", "9"]);
    assert!(out.contains("not found: AKIANEW1, never-seen-value, sess_a1"));
}

#[test]
fn real_apache_sample_counts_match() {
    let path = fixture("real/elastic-examples-apache/apache_logs.gz");
    let rows = json_lines(&run_ok(
        [
            "sweep",
            path.to_str().expect("utf-8"),
            "--ioc",
            "66.249.73.135",
            "--ioc",
            "Googlebot",
            "--output",
            "json",
        ],
        0,
    ));
    for r in rows {
        let ioc = r["ioc"].as_str().expect("ioc");
        assert_eq!(r["lines"].as_u64(), Some(zgrep_count(&path, ioc)), "{ioc}");
    }
}

#[test]
fn damaged_archives_are_searched_up_to_the_damage() {
    let path = data("truncated.log.gz");
    let out = common::run([
        "sweep",
        path.to_str().expect("utf-8"),
        "--ioc",
        "GET",
        "--output",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text.lines().nth(1).expect("a row");
    let count: u64 = row
        .split(',')
        .nth(2)
        .and_then(|c| c.parse().ok())
        .expect("count");
    assert!(count > 9_000, "{row}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("archive is truncated"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    common::tree(dir)
        .into_iter()
        .map(|(rel, _)| dir.join(rel))
        .collect()
}

#[test]
fn window_keeps_lines_whose_time_is_inside() {
    let path = data("multi-member.log.gz");
    let all = json_lines(&run_ok(
        [
            "sweep",
            path.to_str().expect("utf-8"),
            "--ioc",
            "GET",
            "--output",
            "json",
        ],
        0,
    ));
    let late = json_lines(&run_ok(
        [
            "sweep",
            path.to_str().expect("utf-8"),
            "--ioc",
            "GET",
            "--since",
            "2026-03-06",
            "--output",
            "json",
        ],
        0,
    ));
    assert_eq!(all[0]["lines"], 500);
    assert_eq!(late[0]["lines"], 200);
    assert_eq!(late[0]["first_line"], 301);
}
