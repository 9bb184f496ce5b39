//! `breachscope generate`: deterministic incidents with an answer key.

mod common;

use common::{read_json, run_ok, tree};

fn generate(seed: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    run_ok(
        [
            "generate",
            "--out",
            dir.path().to_str().expect("utf-8"),
            "--seed",
            seed,
            "--size",
            "600KB",
            "--customers",
            "800",
        ],
        0,
    );
    dir
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (generate("3"), generate("3"), generate("4"));
    let (ta, tb, tc) = (tree(a.path()), tree(b.path()), tree(c.path()));
    assert!(ta.len() > 20);
    assert_eq!(ta, tb);
    assert_ne!(ta, tc);
}

#[test]
fn writes_every_format_and_an_answer_key() {
    let dir = generate("5");
    let logs = dir.path().join("logs");
    let files: Vec<String> = tree(&logs).into_iter().map(|(p, _)| p).collect();
    assert!(files.iter().any(|f| f == "edge/access.log"));
    assert!(files.iter().any(|f| f == "edge/access.log.2.gz"));
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("gateway/") && f.ends_with(".jsonl.gz"))
    );
    assert!(
        files
            .iter()
            .any(|f| f.contains("/CloudTrail/") && f.ends_with(".json.gz"))
    );
    assert!(files.iter().any(|f| f.contains("/CloudTrail-Digest/")));
    let truth = read_json(&dir.path().join("truth.json"));
    assert_eq!(truth["attacker_ips"].as_array().map(Vec::len), Some(4));
    assert!(truth["attacker_events"].as_u64().is_some_and(|n| n > 500));
    // All of it reads back without a reject.
    let out = run_ok(
        [
            "ingest",
            logs.to_str().expect("utf-8"),
            "--out",
            dir.path().join("lake").to_str().expect("utf-8"),
        ],
        0,
    );
    assert!(out.contains(", 0 rejected)"), "{out}");
}

/// The edge logs of one seed written as `combined` and as nginx JSON lines,
/// both with `--edge-user`: the side-by-side benchmark sets one against the
/// other, so they must hold the same requests by the same principals.
#[test]
fn edge_formats_hold_the_same_requests() {
    let edge = |format: &str| {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().to_str().expect("utf-8");
        let args = ["--out", out, "--seed", "6", "--size", "400KB"];
        let opts = ["--customers", "300", "--edge-only", "--edge-user"];
        run_ok(
            ["generate"]
                .into_iter()
                .chain(args)
                .chain(opts)
                .chain(["--edge-format", format]),
            0,
        );
        let sql = "SELECT principal, ip, method, path, status, count(*) AS n FROM events \
                   GROUP BY principal, ip, method, path, status \
                   ORDER BY principal, ip, method, path, status";
        let logs = dir.path().join("logs");
        run_ok(
            [
                "query",
                logs.to_str().expect("utf-8"),
                "--sql",
                sql,
                "--output",
                "csv",
            ],
            0,
        )
    };
    let (combined, json) = (edge("combined"), edge("json"));
    assert_eq!(combined, json);
    let with_principal = combined
        .lines()
        .skip(1)
        .filter(|row| !row.starts_with(','))
        .count();
    assert!(with_principal > 50, "{combined}");
}
