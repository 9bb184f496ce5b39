//! `report.md`: the incident report as Markdown, for people.

use std::io::Write;

use super::escape::for_markdown as md;
use super::narrative::{Story, hour_label};
use crate::scope::detect::{Severity, human_bytes};
use crate::scope::findings::{Evidence, Findings};

/// Rows shown in long tables; the full lists are in findings.json.
const TABLE_ROWS: usize = 50;

fn cite(e: &[Evidence]) -> String {
    e.first()
        .map(|c| format!("`{}:{}`", md(&c.source), c.line))
        .unwrap_or_default()
}

fn more(out: &mut dyn Write, total: usize) -> std::io::Result<()> {
    if total > TABLE_ROWS {
        writeln!(out, "\n{} more in findings.json.", total - TABLE_ROWS)?;
    }
    Ok(())
}

/// Writes the report.
pub fn write(out: &mut dyn Write, f: &Findings<'_>, story: &Story) -> std::io::Result<()> {
    writeln!(out, "# Incident report\n")?;
    writeln!(
        out,
        "Written by {} {} from {} inputs; every finding cites file and line.\n",
        f.tool.name,
        f.tool.version,
        f.inputs.len()
    )?;
    writeln!(out, "## Executive summary\n")?;
    for line in &story.summary {
        writeln!(out, "- {}", md(line))?;
    }
    writeln!(out, "\n## Attack narrative\n")?;
    for phase in &story.phases {
        writeln!(out, "### {}\n", phase.title)?;
        if phase.items.is_empty() {
            writeln!(out, "Nothing found.\n")?;
            continue;
        }
        for item in &phase.items {
            writeln!(out, "- {}", md(item))?;
        }
        writeln!(out)?;
    }
    activity(out, story)?;
    tables(out, f)?;
    detections(out, f)?;
    pivot(out, f)?;
    hardening(out, f)?;
    manifest(out, f)
}

fn activity(out: &mut dyn Write, story: &Story) -> std::io::Result<()> {
    writeln!(out, "## Activity over time\n")?;
    writeln!(
        out,
        "Hours with attacker activity (all events in the same hour for comparison):\n"
    )?;
    writeln!(
        out,
        "| hour (UTC) | all events | attacker events |\n|---|---|---|"
    )?;
    for b in story.hourly.iter().filter(|b| b.attacker > 0) {
        writeln!(
            out,
            "| {} | {} | {} |",
            hour_label(b.start),
            b.all,
            b.attacker
        )?;
    }
    writeln!(out)
}

fn tables(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "## Attacker addresses\n\n\
         | address | first | last | events | evidence |\n\
         |---|---|---|---|---|"
    )?;
    for a in &f.attacker_ips {
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            md(&a.ip),
            a.first,
            a.last,
            a.events,
            cite(&a.evidence)
        )?;
    }
    writeln!(
        out,
        "\n## Compromised credentials\n\n\
         | credential | owner | first misuse | last misuse | events | evidence |\n\
         |---|---|---|---|---|---|"
    )?;
    for c in &f.compromised_credentials {
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            md(&c.credential),
            md(c.principal.as_deref().unwrap_or("-")),
            c.first_misuse.as_deref().unwrap_or("-"),
            c.last_misuse.as_deref().unwrap_or("-"),
            c.events,
            cite(&c.evidence)
        )?;
    }
    writeln!(
        out,
        "\n## Compromised accounts\n\n\
         | account | first | last | events | evidence |\n\
         |---|---|---|---|---|"
    )?;
    for p in &f.compromised_principals {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&p.principal),
            p.first,
            p.last,
            p.events,
            cite(&p.evidence)
        )?;
    }
    writeln!(
        out,
        "\n## Data accessed\n\n\
         | by | resource type | id | reads | bytes | first | last |\n\
         |---|---|---|---|---|---|---|"
    )?;
    for a in f.data_accessed.iter().take(TABLE_ROWS) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md(a.principal.as_deref().unwrap_or("-")),
            md(&a.resource_type),
            md(&a.resource_id),
            a.count,
            human_bytes(a.bytes),
            a.first,
            a.last
        )?;
    }
    more(out, f.data_accessed.len())?;
    writeln!(
        out,
        "\n## Affected data subjects ({})\n\n\
         | id | type | reads | first | last |\n\
         |---|---|---|---|---|",
        f.affected_data_subjects.len()
    )?;
    for s in f.affected_data_subjects.iter().take(TABLE_ROWS) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&s.id),
            md(&s.resource_type),
            s.accesses,
            s.first,
            s.last
        )?;
    }
    more(out, f.affected_data_subjects.len())?;
    writeln!(
        out,
        "\n## Lateral movement\n\n| time | from | to | kind | evidence |\n|---|---|---|---|---|"
    )?;
    for m in &f.lateral_movement {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            m.time,
            md(&m.from),
            md(&m.to),
            m.kind,
            cite(&m.evidence)
        )?;
    }
    writeln!(
        out,
        "\n## Unauthorized changes\n\n\
         | time | by | action | target | evidence |\n\
         |---|---|---|---|---|"
    )?;
    for c in &f.unauthorized_changes {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            c.time,
            md(c.principal.as_deref().unwrap_or("-")),
            md(&c.action),
            md(c.target.as_deref().unwrap_or("-")),
            cite(&c.evidence)
        )?;
    }
    writeln!(out)
}

fn detections(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "## Detections\n\n\
         | severity | rule | subject | first | count | why | evidence |\n\
         |---|---|---|---|---|---|---|"
    )?;
    let mut shown = 0;
    for d in f
        .detections
        .iter()
        .filter(|d| d.severity >= Severity::Medium)
    {
        writeln!(
            out,
            "| {:?} | {} | {} | {} | {} | {} | {} |",
            d.severity,
            d.rule,
            md(&d.subject),
            d.first,
            d.count,
            md(&d.summary),
            cite(&d.evidence)
        )?;
        shown += 1;
    }
    let low = f.detections.len() - shown;
    if low > 0 {
        writeln!(
            out,
            "\n{low} low-severity detections (usually travel or new devices) \
             are listed in findings.json."
        )?;
    }
    writeln!(out)
}

fn pivot(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "## Why each item is in scope\n\n\
         | time | item | reached from | because | evidence |\n\
         |---|---|---|---|---|"
    )?;
    for h in &f.pivot {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            h.time,
            md(&h.to),
            md(&h.from),
            h.reason,
            cite(&h.evidence)
        )?;
    }
    writeln!(out)
}

fn hardening(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    writeln!(out, "## Hardening: what the logs show was missing\n")?;
    if f.hardening.is_empty() {
        writeln!(out, "Nothing found.\n")?;
    }
    for h in &f.hardening {
        writeln!(out, "- **{}**: {}", h.issue, md(&h.detail))?;
    }
    writeln!(out)
}

fn manifest(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    writeln!(
        out,
        "## Evidence manifest\n\n\
         | input | SHA-256 | bytes | format | records | rejected | note |\n\
         |---|---|---|---|---|---|---|"
    )?;
    for i in &f.inputs {
        let note = match (&i.skipped, &i.damage) {
            (Some(s), _) => md(s),
            (_, Some(d)) => format!("incomplete: {} at byte {}", md(d.reason), d.offset),
            _ => String::new(),
        };
        writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            md(i.path),
            i.sha256,
            i.bytes,
            i.format.unwrap_or("-"),
            i.records,
            i.rejected,
            note
        )?;
    }
    Ok(())
}
