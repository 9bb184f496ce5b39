//! The attack told in phases, for people: built once from the findings and
//! written by both the Markdown and the HTML report.

use std::collections::BTreeMap;

use crate::scope::detect::{Severity, human_bytes};
use crate::scope::findings::Findings;
use crate::scope::index::Events;
use crate::time::format_rfc3339;

const HOUR: i64 = 3_600_000_000_000;

/// One phase of the attack and what happened in it.
pub struct Phase {
    pub title: &'static str,
    pub items: Vec<String>,
}

/// Events in one hour: all of them, and the attacker's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: i64,
    pub all: u64,
    pub attacker: u64,
}

impl Bucket {
    /// The hour starting at `start`, with no events yet.
    fn empty(start: i64) -> Bucket {
        Bucket {
            start,
            all: 0,
            attacker: 0,
        }
    }
}

/// The human side of a report.
pub struct Story {
    pub summary: Vec<String>,
    pub phases: Vec<Phase>,
    pub hourly: Vec<Bucket>,
}

impl Story {
    /// Tells the story of `f`; `malicious` marks the attacker's rows.
    pub fn of(f: &Findings<'_>, ev: &Events<'_>, malicious: &[bool]) -> Story {
        Story {
            summary: summary_lines(f),
            phases: phases(f),
            hourly: hourly(ev, malicious),
        }
    }
}

/// The executive summary, a sentence per line.
pub fn summary_lines(f: &Findings<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let count = |sev: Severity| f.detections.iter().filter(|d| d.severity == sev).count();
    match (&f.first_malicious_event, &f.last_malicious_event) {
        (Some(first), Some(last)) => out.push(format!(
            "The attacker was active from {first} to {last}: {} events from {} addresses.",
            f.attacker_events,
            f.attacker_ips.len()
        )),
        _ => out.push("No attacker activity was found from the seeds.".to_string()),
    }
    if !f.compromised_principals.is_empty() {
        let names: Vec<&str> = f
            .compromised_principals
            .iter()
            .map(|p| p.principal.as_str())
            .collect();
        out.push(format!(
            "They acted as {} account(s) ({}) with {} credential(s) to revoke.",
            names.len(),
            names.join(", "),
            f.compromised_credentials.len()
        ));
    }
    let people = f
        .affected_data_subjects
        .iter()
        .filter(|s| crate::scope::findings::PERSON_TYPES.contains(&s.resource_type.as_str()))
        .count();
    let objects = f.affected_data_subjects.len() - people;
    let bytes: u64 = f.data_accessed.iter().map(|a| a.bytes).sum();
    if !f.data_accessed.is_empty() {
        out.push(format!(
            "They read the records of {people} people and {objects} stored file(s): \
             {} in {} distinct resources.",
            human_bytes(bytes),
            f.data_accessed.len()
        ));
    }
    if !f.lateral_movement.is_empty() {
        out.push(format!(
            "They moved laterally {} time(s).",
            f.lateral_movement.len()
        ));
    }
    if !f.unauthorized_changes.is_empty() {
        let actions: Vec<&str> = f
            .unauthorized_changes
            .iter()
            .map(|c| c.action.as_str())
            .collect();
        out.push(format!(
            "They made {} change(s): {}.",
            actions.len(),
            actions.join(", ")
        ));
    }
    out.push(format!(
        "Detections: {} high, {} medium, {} low.",
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low)
    ));
    out
}

fn phases(f: &Findings<'_>) -> Vec<Phase> {
    let detected = |rules: &[&str]| -> Vec<String> {
        let mut items: Vec<(String, String)> = f
            .detections
            .iter()
            .filter(|d| rules.contains(&d.rule.as_str()) && d.severity >= Severity::Medium)
            .map(|d| {
                (
                    d.first.clone(),
                    format!("{}: {} — {} ({})", d.first, d.subject, d.summary, d.rule),
                )
            })
            .collect();
        items.sort();
        items.into_iter().map(|(_, s)| s).collect()
    };
    let mut initial = detected(&[
        "password-spray",
        "brute-force",
        "new-ip-login",
        "instance-credential-exfiltration",
    ]);
    if initial.is_empty() {
        if let Some(first) = &f.first_malicious_event {
            initial.push(format!("{first}: first attacker event"));
        }
    }
    let mut misuse = detected(&["credential-new-ip", "credential-parallel-ips"]);
    misuse.extend(f.compromised_credentials.iter().map(|c| {
        format!(
            "{} of {} misused from {} to {} ({} events)",
            c.credential,
            c.principal.as_deref().unwrap_or("unknown"),
            c.first_misuse.as_deref().unwrap_or("-"),
            c.last_misuse.as_deref().unwrap_or("-"),
            c.events
        )
    }));
    let mut data = detected(&["enumeration", "bulk-access"]);
    data.extend(data_by_type(f));
    let lateral = f
        .lateral_movement
        .iter()
        .map(|m| format!("{}: {} → {} ({})", m.time, m.from, m.to, m.kind))
        .collect();
    let changes = f
        .unauthorized_changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} by {} on {}",
                c.time,
                c.action,
                c.principal.as_deref().unwrap_or("unknown"),
                c.target.as_deref().unwrap_or("-")
            )
        })
        .collect();
    vec![
        Phase {
            title: "Initial access",
            items: initial,
        },
        Phase {
            title: "Credential misuse",
            items: misuse,
        },
        Phase {
            title: "Data access",
            items: data,
        },
        Phase {
            title: "Lateral movement",
            items: lateral,
        },
        Phase {
            title: "Changes",
            items: changes,
        },
    ]
}

/// Reads summed by identity and resource type.
fn data_by_type(f: &Findings<'_>) -> Vec<String> {
    // (ids, reads, bytes, first, last) per identity and resource type.
    type Sums = (u64, u64, u64, String, String);
    let mut groups: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for a in &f.data_accessed {
        let key = (
            a.principal.clone().unwrap_or_else(|| "unknown".into()),
            a.resource_type.clone(),
        );
        let g = groups
            .entry(key)
            .or_insert((0, 0, 0, a.first.clone(), a.last.clone()));
        g.0 += 1;
        g.1 += a.count;
        g.2 += a.bytes;
        g.3 = g.3.clone().min(a.first.clone());
        g.4 = g.4.clone().max(a.last.clone());
    }
    groups
        .into_iter()
        .map(|((who, ty), (ids, reads, bytes, first, last))| {
            format!(
                "{who} read {ids} {ty} resource(s) in {reads} reads ({}) from {first} to {last}",
                human_bytes(bytes)
            )
        })
        .collect()
}

/// Events per hour over the whole evidence, and the attacker's share.
fn hourly(ev: &Events<'_>, malicious: &[bool]) -> Vec<Bucket> {
    let rows = malicious
        .iter()
        .enumerate()
        .filter(|&(r, _)| !ev.is_duplicate(r))
        .map(|(r, &bad)| (ev.ts[r], bad));
    per_hour(rows)
}

/// Buckets of every hour from the first to the last of `rows` (time, and
/// whether the attacker's), empty hours included.
fn per_hour(rows: impl Iterator<Item = (i64, bool)>) -> Vec<Bucket> {
    let mut buckets: BTreeMap<i64, Bucket> = BTreeMap::new();
    let add = |buckets: &mut BTreeMap<i64, Bucket>, run: Bucket| {
        if run.all > 0 {
            let b = buckets.entry(run.start).or_insert(Bucket::empty(run.start));
            b.all += run.all;
            b.attacker += run.attacker;
        }
    };
    // Rows come in file order, nearly sorted by time: counted in runs of one
    // hour, added to the map when the hour changes rather than once a row.
    let mut run = Bucket::empty(i64::MIN);
    for (ts, bad) in rows {
        let start = ts.div_euclid(HOUR) * HOUR;
        if start != run.start {
            add(&mut buckets, run);
            run = Bucket::empty(start);
        }
        run.all += 1;
        run.attacker += u64::from(bad);
    }
    add(&mut buckets, run);
    let (Some(&first), Some(&last)) = (buckets.keys().next(), buckets.keys().last()) else {
        return Vec::new();
    };
    (0..=(last - first) / HOUR)
        .map(|i| first + i * HOUR)
        .map(|start| buckets.get(&start).copied().unwrap_or(Bucket::empty(start)))
        .collect()
}

/// `2026-03-11T09:00Z` label of a bucket.
pub fn hour_label(start: i64) -> String {
    let s = format_rfc3339(start);
    format!("{}Z", &s[..16.min(s.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_counted_whatever_the_order_of_rows() {
        // Two files of the same hours read one after the other: hour 1
        // comes back after hour 3, and hour 2 has no rows at all.
        let at = |hour: i64, minute: i64| hour * HOUR + minute * 60_000_000_000;
        let rows = [
            (at(1, 0), false),
            (at(1, 59), true),
            (at(3, 5), false),
            (at(1, 30), true),
            (at(3, 0), true),
        ];
        let got = per_hour(rows.into_iter());
        let want = [(1, 3, 2), (2, 0, 0), (3, 2, 1)].map(|(h, all, attacker)| Bucket {
            start: h * HOUR,
            all,
            attacker,
        });
        assert_eq!(got, want);
        assert!(per_hour(std::iter::empty()).is_empty());
    }
}
