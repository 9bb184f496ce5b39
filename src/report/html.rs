//! `report.html`: the incident report as one self-contained page.
//!
//! No script, font or image is fetched: styles are inline and the charts are
//! inline SVG, so the page opens on an air-gapped analysis machine. Every
//! piece of log text goes through [`for_html`].

use std::fmt::Write as _;
use std::io::Write;

use super::escape::for_html as h;
use super::narrative::{Bucket, Story, hour_label};
use crate::scope::detect::{Severity, human_bytes};
use crate::scope::findings::{Evidence, Findings};

/// Rows shown in long tables; the full lists are in findings.json.
const TABLE_ROWS: usize = 100;

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;\
    margin:2em auto;max-width:1200px;color:#1d2330;padding:0 1em}\
    h1{font-size:1.7em;margin-bottom:.2em}\
    h2{margin-top:2em;border-bottom:2px solid #e3e6ec;padding-bottom:.2em}\
    h3{margin-bottom:.3em}\
    table{border-collapse:collapse;width:100%;margin:.6em 0;font-size:13px}\
    th,td{border:1px solid #dde1e8;padding:4px 7px;text-align:left;vertical-align:top;\
    word-break:break-word}\
    th{background:#f3f5f8}code{font-size:12px;background:#f3f5f8;padding:1px 3px;border-radius:3px}\
    .summary{background:#fff6f5;border-left:4px solid #c8372d;padding:.6em 1.2em}\
    .high{color:#b3261e;font-weight:600}.medium{color:#a15c00;font-weight:600}\
    .low{color:#5a6472}.muted{color:#5a6472}.chart{margin:.5em 0 1.5em}";

fn cite(e: &[Evidence]) -> String {
    e.iter()
        .take(2)
        .map(|c| format!("<code>{}:{}</code>", h(&c.source), c.line))
        .collect::<Vec<_>>()
        .join("<br>")
}

fn table(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    out.push_str("<table><tr>");
    for col in header {
        let _ = write!(out, "<th>{}</th>", h(col));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// Writes the page.
pub fn write(out: &mut dyn Write, f: &Findings<'_>, story: &Story) -> std::io::Result<()> {
    let mut s = String::with_capacity(64 << 10);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Incident report</title><style>{STYLE}</style></head><body>\
         <h1>Incident report</h1><p class=\"muted\">Written by {} {} from {} inputs. \
         Every finding cites file and line.</p>",
        f.tool.name,
        f.tool.version,
        f.inputs.len()
    );
    summary(&mut s, story);
    narrative(&mut s, story);
    charts(&mut s, &story.hourly);
    tables(&mut s, f);
    detections(&mut s, f);
    pivot(&mut s, f);
    hardening(&mut s, f);
    manifest(&mut s, f);
    s.push_str("</body></html>\n");
    out.write_all(s.as_bytes())
}

fn summary(s: &mut String, story: &Story) {
    s.push_str("<h2>Executive summary</h2><div class=\"summary\"><ul>");
    for line in &story.summary {
        let _ = write!(s, "<li>{}</li>", h(line));
    }
    s.push_str("</ul></div>");
}

fn narrative(s: &mut String, story: &Story) {
    s.push_str("<h2>Attack narrative</h2>");
    for phase in &story.phases {
        let _ = write!(s, "<h3>{}</h3>", h(phase.title));
        if phase.items.is_empty() {
            s.push_str("<p class=\"muted\">Nothing found.</p>");
            continue;
        }
        s.push_str("<ul>");
        for item in &phase.items {
            let _ = write!(s, "<li>{}</li>", h(item));
        }
        s.push_str("</ul>");
    }
}

/// Two bar charts over the same hours: all events (the baseline) and the
/// attacker's, each on its own scale.
fn charts(s: &mut String, hourly: &[Bucket]) {
    s.push_str("<h2>Activity over time</h2>");
    if hourly.is_empty() {
        s.push_str("<p class=\"muted\">No events.</p>");
        return;
    }
    let first = hour_label(hourly[0].start);
    let last = hour_label(hourly[hourly.len() - 1].start);
    let _ = write!(
        s,
        "<p class=\"muted\">Events per hour, UTC, from {first} to {last}.</p>"
    );
    bars(s, hourly, |b| b.all, "#8a94a6", "all events (baseline)");
    bars(s, hourly, |b| b.attacker, "#c8372d", "attacker events");
}

fn bars(
    s: &mut String,
    hourly: &[Bucket],
    value: impl Fn(&Bucket) -> u64,
    color: &str,
    label: &str,
) {
    const W: f64 = 1100.0;
    const H: f64 = 120.0;
    let max = hourly.iter().map(&value).max().unwrap_or(0).max(1) as f64;
    let step = W / hourly.len() as f64;
    let _ = write!(
        s,
        "<div class=\"chart\"><svg viewBox=\"0 0 {W} {}\" width=\"100%\" role=\"img\" \
         aria-label=\"{label}\">\
         <text x=\"0\" y=\"12\" font-size=\"12\" fill=\"#1d2330\">{label} (max {} per hour)</text>",
        H + 20.0,
        max as u64
    );
    for (i, b) in hourly.iter().enumerate() {
        let v = value(b);
        if v == 0 {
            continue;
        }
        let height = (v as f64 / max * H).max(1.0);
        let _ = write!(
            s,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{height:.2}\" \
             fill=\"{color}\"><title>{} {v}</title></rect>",
            i as f64 * step,
            20.0 + H - height,
            (step - 0.5).max(0.5),
            hour_label(b.start)
        );
    }
    s.push_str("</svg></div>");
}

fn tables(s: &mut String, f: &Findings<'_>) {
    s.push_str("<h2>Attacker addresses</h2>");
    table(
        s,
        &["address", "first", "last", "events", "evidence"],
        f.attacker_ips.iter().map(|a| {
            vec![
                format!("<code>{}</code>", h(&a.ip)),
                a.first.clone(),
                a.last.clone(),
                a.events.to_string(),
                cite(&a.evidence),
            ]
        }),
    );
    s.push_str("<h2>Compromised credentials</h2>");
    table(
        s,
        &[
            "credential",
            "owner",
            "first misuse",
            "last misuse",
            "events",
            "evidence",
        ],
        f.compromised_credentials.iter().map(|c| {
            vec![
                format!("<code>{}</code>", h(&c.credential)),
                h(c.principal.as_deref().unwrap_or("-")).into_owned(),
                c.first_misuse
                    .clone()
                    .unwrap_or_else(|| "never used".into()),
                c.last_misuse.clone().unwrap_or_default(),
                c.events.to_string(),
                cite(&c.evidence),
            ]
        }),
    );
    s.push_str("<h2>Compromised accounts</h2>");
    table(
        s,
        &["account", "first", "last", "events", "evidence"],
        f.compromised_principals.iter().map(|p| {
            vec![
                h(&p.principal).into_owned(),
                p.first.clone(),
                p.last.clone(),
                p.events.to_string(),
                cite(&p.evidence),
            ]
        }),
    );
    let _ = write!(s, "<h2>Data accessed ({})</h2>", f.data_accessed.len());
    table(
        s,
        &[
            "by",
            "resource type",
            "id",
            "reads",
            "bytes",
            "first",
            "last",
        ],
        f.data_accessed.iter().take(TABLE_ROWS).map(|a| {
            vec![
                h(a.principal.as_deref().unwrap_or("-")).into_owned(),
                h(&a.resource_type).into_owned(),
                h(&a.resource_id).into_owned(),
                a.count.to_string(),
                human_bytes(a.bytes),
                a.first.clone(),
                a.last.clone(),
            ]
        }),
    );
    let _ = write!(
        s,
        "<h2>Affected data subjects ({})</h2>",
        f.affected_data_subjects.len()
    );
    table(
        s,
        &["id", "type", "reads", "first", "last"],
        f.affected_data_subjects.iter().take(TABLE_ROWS).map(|d| {
            vec![
                h(&d.id).into_owned(),
                h(&d.resource_type).into_owned(),
                d.accesses.to_string(),
                d.first.clone(),
                d.last.clone(),
            ]
        }),
    );
    s.push_str("<h2>Lateral movement</h2>");
    table(
        s,
        &["time", "from", "to", "kind", "evidence"],
        f.lateral_movement.iter().map(|m| {
            vec![
                m.time.clone(),
                h(&m.from).into_owned(),
                h(&m.to).into_owned(),
                h(&m.kind).into_owned(),
                cite(&m.evidence),
            ]
        }),
    );
    s.push_str("<h2>Unauthorized changes</h2>");
    table(
        s,
        &["time", "by", "action", "target", "evidence"],
        f.unauthorized_changes.iter().map(|c| {
            vec![
                c.time.clone(),
                h(c.principal.as_deref().unwrap_or("-")).into_owned(),
                format!("<code>{}</code>", h(&c.action)),
                h(c.target.as_deref().unwrap_or("-")).into_owned(),
                cite(&c.evidence),
            ]
        }),
    );
}

fn severity(sev: Severity) -> &'static str {
    match sev {
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

fn detections(s: &mut String, f: &Findings<'_>) {
    let _ = write!(s, "<h2>Detections ({})</h2>", f.detections.len());
    let mut sorted: Vec<_> = f.detections.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.first.cmp(&b.first)));
    table(
        s,
        &[
            "severity", "rule", "subject", "first", "count", "why", "evidence",
        ],
        sorted.into_iter().take(TABLE_ROWS).map(|d| {
            vec![
                format!("<span class=\"{0}\">{0}</span>", severity(d.severity)),
                h(&d.rule).into_owned(),
                h(&d.subject).into_owned(),
                d.first.clone(),
                d.count.to_string(),
                h(&d.summary).into_owned(),
                cite(&d.evidence),
            ]
        }),
    );
}

fn pivot(s: &mut String, f: &Findings<'_>) {
    s.push_str("<h2>Why each item is in scope</h2>");
    table(
        s,
        &["time", "item", "reached from", "because", "evidence"],
        f.pivot.iter().map(|p| {
            vec![
                p.time.clone(),
                h(&p.to).into_owned(),
                h(&p.from).into_owned(),
                h(&p.reason).into_owned(),
                cite(&p.evidence),
            ]
        }),
    );
}

fn hardening(s: &mut String, f: &Findings<'_>) {
    s.push_str("<h2>Hardening: what the logs show was missing</h2>");
    if f.hardening.is_empty() {
        s.push_str("<p class=\"muted\">Nothing found.</p>");
        return;
    }
    s.push_str("<ul>");
    for item in &f.hardening {
        let _ = write!(
            s,
            "<li><strong>{}</strong>: {}</li>",
            h(&item.issue),
            h(&item.detail)
        );
    }
    s.push_str("</ul>");
}

fn manifest(s: &mut String, f: &Findings<'_>) {
    s.push_str("<h2>Evidence manifest</h2>");
    table(
        s,
        &[
            "input", "SHA-256", "bytes", "format", "records", "rejected", "note",
        ],
        f.inputs.iter().map(|i| {
            let note = match (&i.skipped, &i.damage) {
                (Some(skip), _) => h(skip).into_owned(),
                (_, Some(d)) => format!("incomplete: {} at byte {}", h(d.reason), d.offset),
                _ => String::new(),
            };
            vec![
                h(i.path).into_owned(),
                format!("<code>{}</code>", i.sha256),
                i.bytes.to_string(),
                i.format.unwrap_or("-").to_string(),
                i.records.to_string(),
                i.rejected.to_string(),
                note,
            ]
        }),
    );
}
