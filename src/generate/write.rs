//! Writing the generated traffic in the formats real systems produce.
//!
//! Each rotated edge file covers an equal span of time and is produced by
//! its own task, together with the gateway file and the hourly CloudTrail
//! files of that span, so large incidents are written on every core. Within
//! a span, traffic is produced in ten-minute windows: memory stays small at
//! any size. Rotation follows logrotate with `delaycompress`: the newest
//! file is `access.log`, the one before `access.log.1`, older ones gzip'd;
//! the oldest is a multi-member gzip, as `cat a.gz b.gz` leaves it.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use super::attack::Truth;
use super::{
    AwsCall, AwsIdentity, EdgeFormat, GenerateConfig, GenerateError, Request, Scenario, Summary,
    io_err, traffic,
};
use crate::time::format_rfc3339;

const NS: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * NS;
const WINDOW: i64 = 600 * NS;

/// Edge local time is Central European (UTC+1): access logs carry an offset.
const EDGE_OFFSET_SECS: i64 = 3600;

/// What one span task wrote.
#[derive(Default)]
struct SpanOutput {
    files: Vec<PathBuf>,
    edge: u64,
    gateway: u64,
    records: u64,
}

/// Writes every log of the scenario under `out`.
pub fn write_all(
    sc: &Scenario,
    cfg: &GenerateConfig,
    out: &Path,
) -> Result<Summary, GenerateError> {
    let spans = cfg.edge_files.unwrap_or(cfg.days).max(1) as i64;
    let total = sc.days * 24 * HOUR;
    let span_len = (total / spans / HOUR).max(1) * HOUR;
    let out = &out.join("logs");
    for dir in ["edge", "gateway", "cloudtrail"] {
        std::fs::create_dir_all(out.join(dir)).map_err(|e| io_err(&out.join(dir), e))?;
    }
    let start = sc.start_day * 24 * HOUR;
    let outputs: Vec<Result<SpanOutput, GenerateError>> = (0..spans)
        .into_par_iter()
        .map(|i| {
            let from = start + i * span_len;
            let to = if i + 1 == spans {
                start + total
            } else {
                from + span_len
            };
            write_span(sc, cfg, out, i, spans, from, to)
        })
        .collect();
    let mut summary = Summary {
        files: Vec::new(),
        edge_lines: 0,
        gateway_lines: 0,
        cloudtrail_records: 0,
        truth: Truth::default(),
    };
    for o in outputs {
        let o = o?;
        summary.files.extend(o.files);
        summary.edge_lines += o.edge;
        summary.gateway_lines += o.gateway;
        summary.cloudtrail_records += o.records;
    }
    if !cfg.edge_only {
        summary.files.push(write_digest(sc, out)?);
    }
    summary.files.sort();
    summary.truth = sc.attack.truth.clone();
    Ok(summary)
}

/// Name of rotated edge file `i` of `n` (0 is the oldest).
fn edge_name(i: i64, n: i64, format: EdgeFormat, gzip_all: Option<i64>) -> String {
    let base = match format {
        EdgeFormat::Combined => "access.log",
        EdgeFormat::Json => "access.json.log",
    };
    if let Some(start) = gzip_all {
        return format!("{base}-{}.gz", stamp(start)[..11].replace('T', ""));
    }
    match n - 1 - i {
        0 => base.to_string(),
        1 => format!("{base}.1"),
        k => format!("{base}.{k}.gz"),
    }
}

/// A log file being written, plain or gzip'd.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl Sink {
    fn create(path: &Path, gzip: bool) -> Result<Sink, GenerateError> {
        let file =
            BufWriter::with_capacity(1 << 20, File::create(path).map_err(|e| io_err(path, e))?);
        Ok(if gzip {
            Sink::Gzip(Box::new(GzEncoder::new(file, Compression::new(6))))
        } else {
            Sink::Plain(file)
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Plain(w) => w,
            Sink::Gzip(w) => w.as_mut(),
        }
    }

    /// Ends the current gzip member and starts another in the same file.
    fn new_member(self) -> std::io::Result<Sink> {
        match self {
            Sink::Gzip(enc) => Ok(Sink::Gzip(Box::new(GzEncoder::new(
                enc.finish()?,
                Compression::new(6),
            )))),
            plain => Ok(plain),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(enc) => enc.finish()?.flush(),
        }
    }
}

fn write_span(
    sc: &Scenario,
    cfg: &GenerateConfig,
    out: &Path,
    i: i64,
    n: i64,
    from: i64,
    to: i64,
) -> Result<SpanOutput, GenerateError> {
    let mut o = SpanOutput::default();
    let edge_path = out.join("edge").join(edge_name(
        i,
        n,
        cfg.edge_format,
        cfg.gzip_all.then_some(from),
    ));
    let gzip_edge = cfg.gzip_all || n - 1 - i >= 2;
    let multi_member = gzip_edge && i == 0;
    let mut edge = Sink::create(&edge_path, gzip_edge)?;
    let gw_path = out
        .join("gateway")
        .join(format!("gateway-{}.jsonl.gz", stamp(from)));
    let mut gateway = if cfg.edge_only {
        None
    } else {
        Some(Sink::create(&gw_path, true)?)
    };
    let mut calls: Vec<AwsCall> = Vec::new();
    let mut line = String::with_capacity(512);
    let mut t = from;
    while t < to {
        let end = (t + WINDOW).min(to);
        let window = ((t - sc.start_day * 24 * HOUR) / WINDOW) as u64;
        let mut reqs = traffic::requests(sc, window, t, end);
        reqs.extend(
            sc.attack
                .requests
                .iter()
                .filter(|r| (t..end).contains(&r.ts))
                .cloned(),
        );
        reqs.sort_by(|a, b| (a.ts, &a.ip, &a.path).cmp(&(b.ts, &b.ip, &b.path)));
        for r in &reqs {
            line.clear();
            match (cfg.edge_format, cfg.edge_user) {
                (EdgeFormat::Combined, false) => combined_line(r, &mut line),
                (EdgeFormat::Combined, true) => combined_line_with_user(r, &mut line),
                (EdgeFormat::Json, false) => nginx_json_line(r, &mut line),
                (EdgeFormat::Json, true) => nginx_json_line_with_user(r, &mut line),
            }
            edge.writer()
                .write_all(line.as_bytes())
                .map_err(|e| io_err(&edge_path, e))?;
            o.edge += 1;
        }
        if let Some(gw) = gateway.as_mut() {
            o.gateway += write_gateway(gw, &reqs, &gw_path, &mut line)?;
            calls.extend(traffic::aws_calls(sc, window, t, end));
            calls.extend(
                sc.attack
                    .aws
                    .iter()
                    .filter(|c| (t..end).contains(&c.ts))
                    .cloned(),
            );
        }
        t = end;
        if multi_member && t.rem_euclid(6 * HOUR) == 0 && t < to {
            edge = edge.new_member().map_err(|e| io_err(&edge_path, e))?;
        }
    }
    edge.finish().map_err(|e| io_err(&edge_path, e))?;
    o.files.push(edge_path);
    if let Some(gw) = gateway {
        gw.finish().map_err(|e| io_err(&gw_path, e))?;
        o.files.push(gw_path);
        o.records = calls.len() as u64;
        o.files.extend(write_cloudtrail(sc, out, calls)?);
    }
    Ok(o)
}

/// `YYYYMMDDTHHMMZ` of an instant.
fn stamp(ts: i64) -> String {
    format_rfc3339(ts)
        .replace(['-', ':'], "")
        .chars()
        .take(13)
        .collect::<String>()
        + "Z"
}

fn write_gateway(
    gw: &mut Sink,
    reqs: &[Request],
    path: &Path,
    line: &mut String,
) -> Result<u64, GenerateError> {
    let mut api: Vec<&Request> = reqs.iter().filter(|r| r.to_gateway).collect();
    // The gateway logs when the request reached it: a few ms after the edge.
    api.sort_by_key(|r| (gateway_ts(r), r.ip.clone()));
    for r in &api {
        line.clear();
        gateway_line(r, line);
        gw.writer()
            .write_all(line.as_bytes())
            .map_err(|e| io_err(path, e))?;
    }
    Ok(api.len() as u64)
}

fn gateway_ts(r: &Request) -> i64 {
    r.ts + i64::from(3 + r.latency_ms % 17) * 1_000_000
}

/// `10/Mar/2026:10:47:10 +0100` in the edge's local time.
fn clf_time(ts: i64) -> String {
    let local = ts / NS + EDGE_OFFSET_SECS;
    match chrono::DateTime::from_timestamp(local, 0) {
        Some(dt) => dt.format("%d/%b/%Y:%H:%M:%S +0100").to_string(),
        None => String::from("01/Jan/1970:00:00:00 +0000"),
    }
}

fn target(r: &Request) -> String {
    match &r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.clone(),
    }
}

/// One nginx `combined` line.
pub fn combined_line(r: &Request, out: &mut String) {
    combined(r, "-", out);
}

/// One `combined` line whose `$remote_user` is the authenticated principal,
/// as an edge that authenticates (basic auth, `auth_request`) logs it.
pub fn combined_line_with_user(r: &Request, out: &mut String) {
    combined(r, r.principal.as_deref().unwrap_or("-"), out);
}

fn combined(r: &Request, user: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "{} - {user} [{}] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\"",
        r.ip,
        clf_time(r.ts),
        r.method,
        target(r),
        r.status,
        r.bytes,
        r.referer.unwrap_or("-"),
        r.ua
    );
}

/// One nginx JSON log line with nginx's variable names.
pub fn nginx_json_line(r: &Request, out: &mut String) {
    nginx_json(r, "-", out);
}

/// One nginx JSON log line whose `remote_user` is the authenticated
/// principal: the same request as [`combined_line_with_user`] writes.
pub fn nginx_json_line_with_user(r: &Request, out: &mut String) {
    nginx_json(r, r.principal.as_deref().unwrap_or("-"), out);
}

fn nginx_json(r: &Request, user: &str, out: &mut String) {
    let ms = r.ts / 1_000_000;
    let v = json!({
        "time_iso8601": format_rfc3339(ms * 1_000_000),
        "remote_addr": r.ip,
        "remote_user": user,
        "request_method": r.method,
        "request_uri": target(r),
        "server_protocol": "HTTP/1.1",
        "status": r.status,
        "body_bytes_sent": r.bytes,
        "http_referer": r.referer.unwrap_or("-"),
        "http_user_agent": r.ua,
        "request_time": f64::from(r.latency_ms) / 1000.0,
    });
    out.push_str(&v.to_string());
    out.push('\n');
}

/// One API-gateway JSON line.
pub fn gateway_line(r: &Request, out: &mut String) {
    let ts = gateway_ts(r);
    let mut m = Map::new();
    m.insert(
        "time".into(),
        format_rfc3339(ts - ts.rem_euclid(1_000_000)).into(),
    );
    m.insert("requestId".into(), request_id(r).into());
    m.insert("clientIp".into(), r.ip.clone().into());
    if let Some(p) = &r.principal {
        m.insert("user".into(), p.clone().into());
    }
    if let Some(c) = &r.credential {
        m.insert("credentialId".into(), c.clone().into());
    }
    m.insert("method".into(), r.method.into());
    m.insert("path".into(), target(r).into());
    m.insert("status".into(), r.status.into());
    m.insert("responseLength".into(), r.bytes.into());
    m.insert("latencyMs".into(), r.latency_ms.into());
    m.insert("userAgent".into(), r.ua.clone().into());
    m.insert("service".into(), r.service.into());
    if let Some(mfa) = r.mfa {
        m.insert("mfa".into(), mfa.into());
    }
    if let Some(i) = &r.issued {
        m.insert("issuedCredential".into(), i.clone().into());
    }
    out.push_str(&Value::Object(m).to_string());
    out.push('\n');
}

/// A request id derived from the request, stable across runs.
fn request_id(r: &Request) -> String {
    let h = super::hashed(&format!("{}{}{}{}", r.ts, r.ip, r.path, r.method));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 48) & 0xffff,
        h & 0xffff_ffff_ffff
    )
}

/// Hourly `{"Records": [...]}` files in the S3 layout CloudTrail delivers.
fn write_cloudtrail(
    sc: &Scenario,
    out: &Path,
    mut calls: Vec<AwsCall>,
) -> Result<Vec<PathBuf>, GenerateError> {
    calls.sort_by_key(|c| (c.ts, c.name));
    let mut files = Vec::new();
    let mut i = 0;
    while i < calls.len() {
        let hour = calls[i].ts.div_euclid(HOUR);
        let j = calls[i..]
            .iter()
            .position(|c| c.ts.div_euclid(HOUR) != hour)
            .map_or(calls.len(), |k| i + k);
        let records: Vec<Value> = calls[i..j].iter().map(|c| record(sc, c)).collect();
        let path = cloudtrail_path(sc, out, hour * HOUR, "CloudTrail");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
        let mut sink = Sink::create(&path, true)?;
        let doc = json!({ "Records": records });
        sink.writer()
            .write_all(doc.to_string().as_bytes())
            .map_err(|e| io_err(&path, e))?;
        sink.finish().map_err(|e| io_err(&path, e))?;
        files.push(path);
        i = j;
    }
    Ok(files)
}

fn cloudtrail_path(sc: &Scenario, out: &Path, ts: i64, kind: &str) -> PathBuf {
    let day = crate::time::day_of(ts).replace('-', "/");
    let tag = format!("{:08x}", super::hashed(&format!("{ts}{kind}")) as u32);
    out.join("cloudtrail/AWSLogs")
        .join(&sc.aws.account)
        .join(kind)
        .join(&sc.aws.region)
        .join(day)
        .join(format!(
            "{}_{kind}_{}_{}_{tag}.json.gz",
            sc.aws.account,
            sc.aws.region,
            stamp(ts)
        ))
}

/// A CloudTrail record for one call.
fn record(sc: &Scenario, c: &AwsCall) -> Value {
    let mut r = Map::new();
    r.insert("eventVersion".into(), "1.09".into());
    r.insert("userIdentity".into(), identity(sc, &c.identity));
    r.insert(
        "eventTime".into(),
        format_rfc3339(c.ts - c.ts.rem_euclid(NS)).into(),
    );
    r.insert("eventSource".into(), c.source.into());
    r.insert("eventName".into(), c.name.into());
    r.insert("awsRegion".into(), sc.aws.region.clone().into());
    r.insert("sourceIPAddress".into(), c.ip.clone().into());
    r.insert("userAgent".into(), c.ua.into());
    if let Some(e) = c.error {
        r.insert("errorCode".into(), e.into());
        r.insert(
            "errorMessage".into(),
            format!("User is not authorized to perform: {}", c.name).into(),
        );
    }
    r.insert("requestParameters".into(), c.params.clone());
    r.insert("responseElements".into(), c.response.clone());
    if !c.extra.is_null() {
        r.insert("additionalEventData".into(), c.extra.clone());
    }
    let id = super::hashed(&format!("{}{}{}", c.ts, c.name, c.ip));
    r.insert("requestID".into(), format!("{id:016X}").into());
    r.insert(
        "eventID".into(),
        format!(
            "{:08x}-{:04x}-4000-8000-{:012x}",
            id >> 32,
            id & 0xffff,
            id >> 16
        )
        .into(),
    );
    r.insert("readOnly".into(), c.read_only.into());
    r.insert("eventType".into(), c.event_type.into());
    r.insert(
        "managementEvent".into(),
        (c.source != "s3.amazonaws.com" || c.name.contains("Bucket")).into(),
    );
    r.insert("recipientAccountId".into(), sc.aws.account.clone().into());
    Value::Object(r)
}

fn identity(sc: &Scenario, id: &AwsIdentity) -> Value {
    let acct = &sc.aws.account;
    match id {
        AwsIdentity::IamUser { name, key } => {
            let mut v = json!({
                "type": "IAMUser",
                "principalId": format!("AIDA{}", name.len()),
                "arn": format!("arn:aws:iam::{acct}:user/{name}"),
                "accountId": acct,
                "userName": name
            });
            if !key.is_empty() {
                v["accessKeyId"] = key.clone().into();
            }
            v
        }
        AwsIdentity::InstanceRole { role, session, key } => json!({
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLEROLE:{session}"),
            "arn": format!("arn:aws:sts::{acct}:assumed-role/{role}/{session}"),
            "accountId": acct,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": format!("arn:aws:iam::{acct}:role/{role}"),
                    "userName": role
                },
                "attributes": {"mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0"
            }
        }),
        AwsIdentity::Service { name } => json!({"type": "AWSService", "invokedBy": name}),
    }
}

/// One digest file, as CloudTrail delivers next to the logs: not a log.
fn write_digest(sc: &Scenario, out: &Path) -> Result<PathBuf, GenerateError> {
    let ts = sc.attack_day * 24 * HOUR;
    let path = cloudtrail_path(sc, out, ts, "CloudTrail-Digest");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    }
    let doc = json!({
        "awsAccountId": sc.aws.account,
        "digestStartTime": format_rfc3339(ts - HOUR),
        "digestEndTime": format_rfc3339(ts),
        "digestS3Bucket": "nw-cloudtrail",
        "digestS3Object": "AWSLogs/digest.json.gz",
        "digestPublicKeyFingerprint": "00000000000000000000000000000000",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "logFiles": []
    });
    let mut sink = Sink::create(&path, true)?;
    sink.writer()
        .write_all(doc.to_string().as_bytes())
        .map_err(|e| io_err(&path, e))?;
    sink.finish().map_err(|e| io_err(&path, e))?;
    Ok(path)
}
