//! Scope stage: detections, pivot expansion and the scoping answers.
//!
//! [`analyse`] runs the detections of [`detect`], turns the indicators given
//! by the analyst (or, without any, the medium and high detections) into
//! seeds, and expands them with [`pivot`]. [`findings`] then marks the
//! attacker's rows in the frame and answers the scoping questions with the
//! SQL of `queries/`, adding evidence (file and line) to every answer.

pub mod detect;
pub mod findings;
pub mod index;
pub mod pivot;
pub mod queries;

use std::collections::BTreeSet;

use detect::{Detection, Kind, Severity};
use index::Events;
use pivot::{Origin, Scope};

/// How to scope.
#[derive(Clone, Debug, Default)]
pub struct ScopeOptions {
    /// Indicators from the analyst: addresses, credentials, principals.
    pub iocs: Vec<String>,
    /// Also pivot from detections when indicators are given.
    pub with_detections: bool,
}

/// Detections, seeds and the expanded scope.
pub struct Analysis {
    pub detections: Vec<Detection>,
    pub seeds: Vec<Origin>,
    /// Indicators that appear nowhere in the events.
    pub unmatched: Vec<String>,
    pub scope: Scope,
}

/// Runs detections and the pivot over indexed events.
pub fn analyse(ev: &Events<'_>, opts: &ScopeOptions) -> Analysis {
    let phase = crate::timing::Phase::start("detections");
    let detections = detect::detect(ev);
    drop(phase);
    let _phase = crate::timing::Phase::start("pivot");
    let (mut seeds, unmatched) = indicator_seeds(ev, &opts.iocs);
    if opts.iocs.is_empty() || opts.with_detections {
        seeds.extend(detection_seeds(&detections));
    }
    let scope = pivot::expand(ev, &seeds);
    Analysis {
        detections,
        seeds,
        unmatched,
        scope,
    }
}

/// Seeds from medium and high detections.
fn detection_seeds(detections: &[Detection]) -> Vec<Origin> {
    detections
        .iter()
        .filter(|d| d.severity >= Severity::Medium)
        .flat_map(|d| {
            d.seeds.iter().map(|s| Origin {
                seed: s.clone(),
                origin: d.rule.to_string(),
            })
        })
        .collect()
}

/// Seeds from the analyst's indicators: each value is looked up as an
/// address, a credential (used or minted) and a principal.
fn indicator_seeds(ev: &Events<'_>, iocs: &[String]) -> (Vec<Origin>, Vec<String>) {
    let mut seeds = Vec::new();
    let mut unmatched = Vec::new();
    let unique: BTreeSet<&String> = iocs.iter().collect();
    for value in unique {
        let Some(code) = ev.dict.lookup(value.trim()) else {
            unmatched.push(value.clone());
            continue;
        };
        let mut found = false;
        for kind in [Kind::Ip, Kind::Credential, Kind::Principal] {
            let present = match kind {
                Kind::Ip => !ev.by_ip.of(code).is_empty(),
                Kind::Credential => {
                    !ev.by_credential.of(code).is_empty() || minted_somewhere(ev, code)
                }
                Kind::Principal => !ev.by_principal.of(code).is_empty(),
            };
            if !present {
                continue;
            }
            found = true;
            let mut s = pivot::seed_for_indicator(ev, kind, code);
            if s.is_empty() && kind == Kind::Credential {
                s.push(detect::Seed {
                    kind,
                    code,
                    since: first_minting(ev, code).unwrap_or(i64::MIN),
                });
            }
            seeds.extend(s.into_iter().map(|seed| Origin {
                seed,
                origin: "ioc".into(),
            }));
        }
        if !found {
            unmatched.push(value.clone());
        }
    }
    (seeds, unmatched)
}

fn minted_somewhere(ev: &Events<'_>, code: u32) -> bool {
    first_minting(ev, code).is_some()
}

fn first_minting(ev: &Events<'_>, code: u32) -> Option<i64> {
    ev.order
        .iter()
        .map(|&r| r as usize)
        .find(|&r| ev.minted.get(r) == code)
        .map(|r| ev.ts[r])
}
