//! `notify.csv`: one row per affected person, with what of theirs was
//! accessed, when and how much, for the people who write the notices.
//!
//! Two kinds of people are affected: data subjects, whose records the
//! attacker read (customers, users, members...), and account holders, whose
//! accounts the attacker acted as.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::escape::for_csv;
use crate::scope::findings::{Findings, PERSON_TYPES};

#[derive(Default)]
struct Person {
    what: BTreeSet<String>,
    accesses: u64,
    bytes: u64,
    first: String,
    last: String,
    by: BTreeSet<String>,
}

/// Writes the notification list.
pub fn write_csv(out: &mut dyn Write, f: &Findings<'_>) -> std::io::Result<()> {
    let mut people: BTreeMap<(String, String), Person> = BTreeMap::new();
    for a in &f.data_accessed {
        let base = a.resource_type.split('.').next().unwrap_or_default();
        if !PERSON_TYPES.contains(&base) {
            continue;
        }
        let p = people
            .entry((base.to_string(), a.resource_id.clone()))
            .or_default();
        p.what.insert(a.resource_type.clone());
        p.accesses += a.count;
        p.bytes += a.bytes;
        if p.first.is_empty() || a.first < p.first {
            p.first = a.first.clone();
        }
        if a.last > p.last {
            p.last = a.last.clone();
        }
        if let Some(by) = &a.principal {
            p.by.insert(by.clone());
        }
    }
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "kind",
        "person",
        "type",
        "what_was_accessed",
        "accesses",
        "bytes",
        "first",
        "last",
        "by",
    ])?;
    for ((ty, id), p) in &people {
        w.write_record([
            "data subject",
            &for_csv(id),
            ty,
            &for_csv(&p.what.iter().cloned().collect::<Vec<_>>().join("; ")),
            &p.accesses.to_string(),
            &p.bytes.to_string(),
            &p.first,
            &p.last,
            &for_csv(&p.by.iter().cloned().collect::<Vec<_>>().join("; ")),
        ])?;
    }
    for c in &f.compromised_principals {
        w.write_record([
            "account used by the attacker",
            &for_csv(&c.principal),
            "account",
            "the account itself: the attacker acted as it",
            &c.events.to_string(),
            "",
            &c.first,
            &c.last,
            "attacker",
        ])?;
    }
    w.flush()
}
