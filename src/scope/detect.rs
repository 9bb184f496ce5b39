//! Detections that need no seed: what an analyst looks for first.
//!
//! Each rule reads every principal's or credential's own history in time
//! order, so "new" always means new *for that identity*: an address never
//! used by this principal before, a client family it never used, a change
//! it never made. Identities need [`BASELINE_NS`] of history before their
//! behaviour can be called new; without it only rules that need no history
//! (spraying, enumeration, instance credentials used off the instance) fire.
//!
//! Rules and their subjects:
//!
//! - `password-spray` (IP): failed logins for 10+ accounts within an hour, 80%+ of
//!   its logins failing.
//! - `brute-force` (IP): 10+ failed logins for one account within 15 minutes.
//! - `new-ip-login` (principal): a successful login from an address the principal
//!   never used; severity rises with a new client family, a missing second factor,
//!   an address seen spraying.
//! - `credential-new-ip` (credential): a key used from an address it never used;
//!   high with a new client family.
//! - `credential-parallel-ips` (credential): one credential alternating between two
//!   addresses within 30 minutes.
//! - `enumeration` (principal or IP): 100+ distinct ids of one resource type read
//!   within 10 minutes, 5x above its own past.
//! - `bulk-access` (principal): an hour of reads 10x above the principal's busiest
//!   past hour (and over 5 MB or 100 reads).
//! - `unauthorized-change` (principal): a sensitive change the principal never made
//!   before, or any sensitive change from a flagged address or credential.
//! - `instance-credential-exfiltration` (credential): an EC2 instance-role session
//!   used from a public address with a workstation client.

use std::collections::VecDeque;

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;
use serde::Serialize;

use super::index::Events;
use crate::enrich::client::Family;
use crate::frame::codes::{Codes, prefetch};

const NS: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * NS;
const HOUR: i64 = 60 * MINUTE;

/// History an identity needs before its behaviour can be called new.
pub const BASELINE_NS: i64 = 24 * HOUR;

/// How many rows ahead a walk over an identity's rows asks for the columns
/// it reads: enough to cover a trip to memory with the work of the rows in
/// between, few enough that the lines are still cached when their turn
/// comes.
const AHEAD: usize = 8;

/// The rows of `rows`, each as an index, calling `hint` with the row
/// [`AHEAD`] places further on before handing one out: the walks below
/// read columns of rows scattered through the frame, and `hint` asks for
/// those lines early (see [`prefetch`]).
fn ahead<'r>(rows: &'r [u32], hint: impl Fn(usize) + 'r) -> impl Iterator<Item = usize> + 'r {
    rows.iter().enumerate().map(move |(i, &row)| {
        if let Some(&next) = rows.get(i + AHEAD) {
            hint(next as usize);
        }
        row as usize
    })
}

/// How much a detection matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

/// What a detection or seed is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ip,
    Principal,
    Credential,
}

/// A starting point for the pivot: an entity, compromised since a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Seed {
    pub kind: Kind,
    pub code: u32,
    pub since: i64,
}

/// One finding of a rule.
#[derive(Clone, Debug)]
pub struct Detection {
    pub rule: &'static str,
    pub severity: Severity,
    pub kind: Kind,
    pub subject: u32,
    pub first: i64,
    pub last: i64,
    pub count: u64,
    /// Rows that show it, oldest first.
    pub rows: Vec<u32>,
    /// Entities to pivot from when the severity is medium or more.
    pub seeds: Vec<Seed>,
    /// One line saying why.
    pub summary: String,
}

impl Detection {
    /// Adds a pivot starting point: `code` of `kind`, compromised since
    /// `since`.
    fn seed(&mut self, kind: Kind, code: u32, since: i64) {
        self.seeds.push(Seed { kind, code, since });
    }
}

/// The identities rules walk, each in order of its first event.
struct Subjects {
    principals: Vec<u32>,
    credentials: Vec<u32>,
    ips: Vec<u32>,
}

/// Runs every rule; detections come out sorted by rule, subject and time.
///
/// Rules look at one identity at a time, so each spreads its identities
/// over the pool; results are collected in identity order, which keeps the
/// output independent of the thread count.
pub fn detect(ev: &Events<'_>) -> Vec<Detection> {
    let phase = crate::timing::Phase::start("detection subjects");
    let subjects = Subjects {
        principals: ev.by_principal.entities(ev.ts),
        credentials: ev.by_credential.entities(ev.ts),
        ips: ev.by_ip.entities(ev.ts),
    };
    drop(phase);
    fn timed<T>(name: &'static str, rule: &dyn Fn() -> T) -> T {
        let _phase = crate::timing::Phase::start(name);
        rule()
    }
    let mut out = timed("rule password-spray, brute-force", &|| login_failures(ev));
    let spraying: HashSet<u32> = out
        .iter()
        .filter(|d| d.kind == Kind::Ip)
        .map(|d| d.subject)
        .collect();
    let by_principal = timed("rules new-ip-login, enumeration, bulk-access", &|| {
        principal_rules(ev, &subjects.principals, &spraying)
    });
    out.extend(by_principal.new_ip_logins);
    out.extend(timed("rule credential-new-ip", &|| {
        per_subject(&subjects.credentials, |c| credential_new_ips(ev, c))
    }));
    out.extend(timed("rule credential-parallel-ips", &|| {
        per_subject(&subjects.credentials, |c| {
            parallel_ips(ev, c).into_iter().collect()
        })
    }));
    out.extend(timed("rule instance-credential-exfiltration", &|| {
        instance_credentials(ev)
    }));
    out.extend(by_principal.enumeration);
    out.extend(timed("rule enumeration by address", &|| {
        // Most addresses have too few rows without a principal to enumerate
        // anything: ruled out without visiting their rows. The few left are
        // the busiest (crawlers, carrier NATs), one task each on the pool.
        let anonymous = anonymous_rows(ev);
        let candidates: Vec<u32> = subjects
            .ips
            .iter()
            .copied()
            .filter(|&ip| {
                anonymous
                    .get(ip as usize)
                    .is_some_and(|&n| n as usize >= ENUMERATION_MIN_IDS)
            })
            .collect();
        per_subject(&candidates, |ip| address_enumeration(ev, ip))
    }));
    out.extend(by_principal.bulk_access);
    let flagged: HashSet<(Kind, u32)> = out
        .iter()
        .filter(|d| d.severity >= Severity::Medium)
        .flat_map(|d| d.seeds.iter().map(|s| (s.kind, s.code)))
        .collect();
    out.extend(timed("rule unauthorized-change", &|| {
        per_subject(&subjects.principals, |p| {
            unauthorized_changes(ev, p, &flagged).into_iter().collect()
        })
    }));
    out.sort_by(|a, b| {
        (a.rule, ev.text(a.subject), a.first).cmp(&(b.rule, ev.text(b.subject), b.first))
    });
    out
}

/// Detections of the rules that walk each principal's rows.
struct PrincipalRules {
    new_ip_logins: Vec<Detection>,
    enumeration: Vec<Detection>,
    bulk_access: Vec<Detection>,
}

/// Runs the principal rules one principal at a time: a principal's rows lie
/// scattered through the frame, and the second and third rule find them
/// still in the core's cache where separate passes would fetch them from
/// memory again. Results stay in principal order, rule by rule.
fn principal_rules(ev: &Events<'_>, principals: &[u32], spraying: &HashSet<u32>) -> PrincipalRules {
    let per: Vec<(Vec<Detection>, Option<Detection>, Option<Detection>)> = principals
        .par_iter()
        .map(|&p| {
            (
                new_ip_logins(ev, p, spraying),
                enumeration_by(ev, Kind::Principal, p, ev.by_principal.of(p)),
                bulk_access(ev, p),
            )
        })
        .collect();
    let mut out = PrincipalRules {
        new_ip_logins: Vec::new(),
        enumeration: Vec::new(),
        bulk_access: Vec::new(),
    };
    for (new_ip, enumeration, bulk) in per {
        out.new_ip_logins.extend(new_ip);
        out.enumeration.extend(enumeration);
        out.bulk_access.extend(bulk);
    }
    out
}

/// Runs `rule` for every subject on the pool, results in subject order.
fn per_subject(subjects: &[u32], rule: impl Fn(u32) -> Vec<Detection> + Sync) -> Vec<Detection> {
    subjects.par_iter().flat_map_iter(|&s| rule(s)).collect()
}

fn detection(
    rule: &'static str,
    severity: Severity,
    kind: Kind,
    subject: u32,
    ev: &Events<'_>,
    rows: Vec<u32>,
) -> Detection {
    let first = rows.first().map_or(0, |&r| ev.ts[r as usize]);
    let last = rows.last().map_or(0, |&r| ev.ts[r as usize]);
    Detection {
        rule,
        severity,
        kind,
        subject,
        first,
        last,
        count: rows.len() as u64,
        rows,
        seeds: Vec::new(),
        summary: String::new(),
    }
}

/// Password spraying and brute force, by source address.
fn login_failures(ev: &Events<'_>) -> Vec<Detection> {
    let mut by_ip: HashMap<u32, Vec<u32>> = HashMap::new();
    for &row in &ev.order {
        let r = row as usize;
        if ev.is_login(r) && !ev.is_duplicate(r) && ev.ip.get(r) != Codes::NULL {
            by_ip.entry(ev.ip.get(r)).or_default().push(row);
        }
    }
    let mut out = Vec::new();
    for (ip, rows) in by_ip {
        let failures: Vec<u32> = rows
            .iter()
            .copied()
            .filter(|&r| !ev.succeeded(r as usize))
            .collect();
        if failures.len() < 10 || failures.len() * 10 < rows.len() * 8 {
            continue;
        }
        if let Some(d) = spray(ev, ip, &rows, &failures) {
            out.push(d);
        } else if let Some(d) = brute_force(ev, ip, &failures) {
            out.push(d);
        }
    }
    out
}

fn spray(ev: &Events<'_>, ip: u32, logins: &[u32], failures: &[u32]) -> Option<Detection> {
    let mut window: VecDeque<u32> = VecDeque::new();
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let mut best = 0;
    for &row in failures {
        let ts = ev.ts[row as usize];
        window.push_back(row);
        *counts.entry(ev.principal.get(row as usize)).or_default() += 1;
        while let Some(&old) = window.front() {
            if ts - ev.ts[old as usize] <= HOUR {
                break;
            }
            window.pop_front();
            let p = ev.principal.get(old as usize);
            if let Some(c) = counts.get_mut(&p) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&p);
                }
            }
        }
        best = best.max(counts.len());
    }
    if best < 10 {
        return None;
    }
    let targets: HashSet<u32> = failures
        .iter()
        .map(|&r| ev.principal.get(r as usize))
        .collect();
    let hit = logins
        .iter()
        .any(|&r| ev.succeeded(r as usize) && targets.contains(&ev.principal.get(r as usize)));
    let severity = if hit || targets.len() >= 25 {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut d = detection(
        "password-spray",
        severity,
        Kind::Ip,
        ip,
        ev,
        failures.to_vec(),
    );
    d.seed(Kind::Ip, ip, d.first);
    d.summary = format!(
        "{} failed logins for {} accounts{}",
        failures.len(),
        targets.len(),
        if hit { ", then a success" } else { "" }
    );
    Some(d)
}

fn brute_force(ev: &Events<'_>, ip: u32, failures: &[u32]) -> Option<Detection> {
    let mut per: HashMap<u32, Vec<u32>> = HashMap::new();
    for &r in failures {
        per.entry(ev.principal.get(r as usize)).or_default().push(r);
    }
    let (principal, rows) = per
        .into_iter()
        .filter(|(_, rows)| max_in_window(ev, rows, 15 * MINUTE) >= 10)
        .max_by(|(pa, ra), (pb, rb)| {
            ra.len()
                .cmp(&rb.len())
                .then_with(|| ev.text(*pb).cmp(ev.text(*pa)))
        })?;
    let mut d = detection("brute-force", Severity::Medium, Kind::Ip, ip, ev, rows);
    d.seed(Kind::Ip, ip, d.first);
    d.summary = format!("{} failed logins for {}", d.count, ev.text(principal));
    Some(d)
}

fn max_in_window(ev: &Events<'_>, rows: &[u32], width: i64) -> usize {
    let mut start = 0;
    let mut best = 0;
    for end in 0..rows.len() {
        if let Some(&next) = rows.get(end + AHEAD) {
            prefetch(ev.ts, next as usize);
        }
        while ev.ts[rows[end] as usize] - ev.ts[rows[start] as usize] > width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

/// What an identity did before the row being judged.
#[derive(Default)]
struct History {
    first: Option<i64>,
    ips: HashSet<u32>,
    families: HashSet<u32>,
    mfa_logins: bool,
    last: (u32, u32),
}

impl History {
    /// Whether the identity has a day of history with at least one success,
    /// so that something can be called new for it.
    fn mature(&self, ts: i64) -> bool {
        self.first.is_some_and(|f| ts - f >= BASELINE_NS) && !self.ips.is_empty()
    }

    /// Adds row `r`; only successful rows make an address or client known.
    fn record(&mut self, ev: &Events<'_>, r: usize) {
        // Only the first row's time is kept: read it only then, since each
        // row of an identity lies elsewhere in memory.
        if self.first.is_none() {
            self.first = Some(ev.ts[r]);
        }
        if !ev.succeeded(r) {
            return;
        }
        // Consecutive rows mostly repeat the address and client: skip the
        // set when nothing changed.
        let (ip, family) = (ev.ip.get(r), ev.family.get(r));
        if self.ips.is_empty() || self.last != (ip, family) {
            self.ips.insert(ip);
            if family != Codes::NULL {
                self.families.insert(family);
            }
            self.last = (ip, family);
        }
        if ev.is_login(r) && ev.succeeded(r) && ev.mfa(r) == Some(true) {
            self.mfa_logins = true;
        }
    }
}

/// Walks an identity's `rows` with its history and calls `found` for the
/// first row from each address the history does not know yet, among rows
/// that `is_candidate` accepts. Duplicate lines of a request are skipped.
fn first_uses_of_new_addresses(
    ev: &Events<'_>,
    rows: &[u32],
    is_candidate: impl Fn(usize, u32) -> bool,
    mut found: impl FnMut(usize, &History),
) {
    let mut hist = History::default();
    let mut reported: HashSet<u32> = HashSet::new();
    for r in ahead(rows, |next| ev.prefetch_history(next)) {
        if ev.is_duplicate(r) {
            continue;
        }
        let ip = ev.ip.get(r);
        let new = is_candidate(r, ip) && hist.mature(ev.ts[r]) && !hist.ips.contains(&ip);
        if new && reported.insert(ip) {
            found(r, &hist);
        }
        hist.record(ev, r);
    }
}

/// Successful logins of principal `p` from an address it never used.
fn new_ip_logins(ev: &Events<'_>, p: u32, spraying: &HashSet<u32>) -> Vec<Detection> {
    let mut out = Vec::new();
    first_uses_of_new_addresses(
        ev,
        ev.by_principal.of(p),
        |r, ip| ev.is_login(r) && ev.succeeded(r) && ip != Codes::NULL,
        |r, hist| out.push(new_ip_login(ev, p, r, hist, spraying)),
    );
    out
}

fn new_ip_login(
    ev: &Events<'_>,
    principal: u32,
    r: usize,
    hist: &History,
    spraying: &HashSet<u32>,
) -> Detection {
    let ip = ev.ip.get(r);
    let family = ev.family.get(r);
    let mut reasons = Vec::new();
    if family != Codes::NULL && !hist.families.contains(&family) {
        reasons.push(format!("new client ({})", ev.text(family)));
    }
    if ev.mfa(r) == Some(false) && hist.mfa_logins {
        reasons.push("no second factor, which this account used before".to_string());
    }
    if spraying.contains(&ip) {
        reasons.push("from an address that sprayed passwords".to_string());
    }
    let severity = match reasons.len() {
        0 => Severity::Low,
        1 => Severity::Medium,
        _ => Severity::High,
    };
    let mut d = detection(
        "new-ip-login",
        severity,
        Kind::Principal,
        principal,
        ev,
        vec![r as u32],
    );
    d.seed(Kind::Ip, ip, ev.ts[r]);
    if ev.minted.get(r) != Codes::NULL {
        d.seed(Kind::Credential, ev.minted.get(r), ev.ts[r]);
    }
    d.seed(Kind::Principal, principal, ev.ts[r]);
    let why = if reasons.is_empty() {
        String::new()
    } else {
        format!(": {}", reasons.join(", "))
    };
    d.summary = format!(
        "login from {} never used by this account before{why}",
        ev.text(ip)
    );
    d
}

/// Uses of key `cred` from an address it never used.
fn credential_new_ips(ev: &Events<'_>, cred: u32) -> Vec<Detection> {
    let mut out = Vec::new();
    first_uses_of_new_addresses(
        ev,
        ev.by_credential.of(cred),
        |r, ip| !ev.is_login(r) && ev.succeeded(r) && ev.is_address(ip),
        |r, hist| out.push(credential_new_ip(ev, cred, r, hist)),
    );
    out
}

fn credential_new_ip(ev: &Events<'_>, cred: u32, r: usize, hist: &History) -> Detection {
    let ip = ev.ip.get(r);
    let family = ev.family.get(r);
    let new_family = family != Codes::NULL && !hist.families.contains(&family);
    let severity = if new_family {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut d = detection(
        "credential-new-ip",
        severity,
        Kind::Credential,
        cred,
        ev,
        vec![r as u32],
    );
    d.seed(Kind::Credential, cred, ev.ts[r]);
    d.seed(Kind::Ip, ip, ev.ts[r]);
    let client = if new_family {
        format!(" with a new client ({})", ev.text(family))
    } else {
        String::new()
    };
    d.summary = format!("used from {} for the first time{client}", ev.text(ip));
    d
}

/// Key `cred` alternating between two addresses: A, then B, then A.
fn parallel_ips(ev: &Events<'_>, cred: u32) -> Option<Detection> {
    const GAP: i64 = 30 * MINUTE;
    let rows: Vec<u32> = ev
        .by_credential
        .of(cred)
        .iter()
        .copied()
        .filter(|&r| !ev.is_duplicate(r as usize) && ev.is_address(ev.ip.get(r as usize)))
        .collect();
    let mut seen: HashSet<u32> = HashSet::new();
    let mut switch: Option<(u32, u32, usize)> = None;
    let mut prev: Option<usize> = None;
    for (i, &row) in rows.iter().enumerate() {
        let r = row as usize;
        let ip = ev.ip.get(r);
        if let Some(p) = prev {
            let prev_ip = ev.ip.get(rows[p] as usize);
            let gap = ev.ts[r] - ev.ts[rows[p] as usize];
            if ip != prev_ip && gap <= GAP {
                match switch {
                    Some((a, b, at))
                        if ip == a
                            && prev_ip == b
                            && ev.ts[r] - ev.ts[rows[at] as usize] <= GAP =>
                    {
                        return Some(parallel(ev, cred, b, &rows, at));
                    }
                    _ if !seen.contains(&ip) => switch = Some((prev_ip, ip, i)),
                    _ => {}
                }
            }
        }
        seen.insert(ip);
        prev = Some(i);
    }
    None
}

fn parallel(ev: &Events<'_>, cred: u32, intruder: u32, rows: &[u32], at: usize) -> Detection {
    let evidence: Vec<u32> = rows
        .iter()
        .copied()
        .skip(at.saturating_sub(1))
        .take(6)
        .collect();
    let mut d = detection(
        "credential-parallel-ips",
        Severity::High,
        Kind::Credential,
        cred,
        ev,
        evidence,
    );
    let since = ev.ts[rows[at] as usize];
    d.seed(Kind::Credential, cred, since);
    d.seed(Kind::Ip, intruder, since);
    d.count = rows.len() as u64;
    d.summary = format!(
        "used from {} while still in use from another address",
        ev.text(intruder)
    );
    d
}

/// EC2 instance-role sessions used from a public address by a workstation
/// client: credentials taken off the instance (metadata theft).
fn instance_credentials(ev: &Events<'_>) -> Vec<Detection> {
    let mut per: HashMap<u32, Vec<u32>> = HashMap::new();
    for i in 0..ev.order.len() {
        let row = ev.order[i];
        let r = row as usize;
        if !ev.is_instance(r) || ev.is_duplicate(r) || ev.credential.get(r) == Codes::NULL {
            continue;
        }
        let ip = ev.ip.get(r);
        let off_instance = ev.is_public_ip(ip) && is_workstation(ev, r);
        if off_instance {
            per.entry(ev.credential.get(r)).or_default().push(row);
        }
    }
    let mut out = Vec::new();
    for (cred, rows) in per {
        let first = rows[0] as usize;
        let mut d = detection(
            "instance-credential-exfiltration",
            Severity::High,
            Kind::Credential,
            cred,
            ev,
            rows,
        );
        d.seed(Kind::Credential, cred, ev.ts[first]);
        d.seed(Kind::Ip, ev.ip.get(first), ev.ts[first]);
        d.summary = format!(
            "EC2 instance-role session used from {} with {}",
            ev.text(ev.ip.get(first)),
            ev.text(ev.family.get(first))
        );
        out.push(d);
    }
    out
}

fn is_workstation(ev: &Events<'_>, r: usize) -> bool {
    matches!(
        ev.family_of(r),
        Some(Family::Cli | Family::Script | Family::Browser)
    )
}

/// Distinct ids of one resource type an enumeration reads at least.
const ENUMERATION_MIN_IDS: usize = 100;

/// Reads of many distinct ids of one resource type in a short time from
/// address `ip`, among its reads without a principal (those with one are
/// judged by principal in [`principal_rules`]).
fn address_enumeration(ev: &Events<'_>, ip: u32) -> Vec<Detection> {
    let rows: Vec<u32> = ahead(ev.by_ip.of(ip), |next| ev.principal.prefetch(next))
        .filter(|&r| ev.principal.get(r) == Codes::NULL)
        .map(|r| r as u32)
        .collect();
    enumeration_by(ev, Kind::Ip, ip, &rows)
        .into_iter()
        .collect()
}

/// Per id of the `ip` column, its rows without a principal: counted in one
/// pass in frame order, where visiting each address's rows would read the
/// frame at random.
fn anonymous_rows(ev: &Events<'_>) -> Vec<u32> {
    let mut counts = vec![0u32; ev.dict.len()];
    for r in 0..ev.ts.len() {
        if ev.principal.get(r) == Codes::NULL {
            if let Some(n) = counts.get_mut(ev.ip.get(r) as usize) {
                *n += 1;
            }
        }
    }
    counts
}

/// Reads of many distinct ids of one resource type in a short time by
/// `subject`, among its `rows`.
fn enumeration_by(ev: &Events<'_>, kind: Kind, subject: u32, rows: &[u32]) -> Option<Detection> {
    const WIDTH: i64 = 10 * MINUTE;
    const MIN_IDS: usize = ENUMERATION_MIN_IDS;
    // A window cannot hold more distinct ids than rows: most identities
    // never come near, and this check costs no hashing.
    if rows.len() < MIN_IDS || max_in_window(ev, rows, WIDTH) < MIN_IDS {
        return None;
    }
    let route = ev.dict.lookup("route");
    let mut per_type: HashMap<u32, Vec<u32>> = HashMap::new();
    for r in ahead(rows, |next| ev.prefetch_resource(next)) {
        let ty = ev.resource_type.get(r);
        if ev.is_duplicate(r)
            || ty == Codes::NULL
            || Some(ty) == route
            || ev.resource_id.get(r) == Codes::NULL
            || !ev.is_read(r)
        {
            continue;
        }
        per_type.entry(ty).or_default().push(r as u32);
    }
    let mut best: Option<(usize, u32, Vec<u32>, usize)> = None;
    let types = ev.by_text(per_type.keys().copied());
    for ty in types {
        let reads = &per_type[&ty];
        let (distinct, window, before) = busiest_window(ev, reads, WIDTH);
        let above_past = before == 0 || distinct > 5 * before;
        if distinct >= MIN_IDS && above_past && best.as_ref().is_none_or(|b| distinct > b.0) {
            best = Some((distinct, ty, window, before));
        }
    }
    let (distinct, ty, window, before) = best?;
    let severity = if distinct >= 200 {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut d = detection("enumeration", severity, kind, subject, ev, window);
    d.count = distinct as u64;
    d.summary = format!(
        "{distinct} distinct {} ids read within 10 minutes (busiest earlier window: {before})",
        ev.text(ty)
    );
    d.seeds = new_pairs(ev, kind, subject, &d.rows);
    Some(d)
}

/// The 10-minute window with the most distinct ids, its rows, and the most
/// distinct ids of any window that ended an hour or more before it began.
fn busiest_window(ev: &Events<'_>, reads: &[u32], width: i64) -> (usize, Vec<u32>, usize) {
    if reads.is_empty() {
        return (0, Vec::new(), 0);
    }
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let mut start = 0;
    let mut best = (0usize, 0usize, 0usize);
    let mut history: Vec<(i64, usize)> = Vec::new();
    for end in 0..reads.len() {
        let ts = ev.ts[reads[end] as usize];
        *counts
            .entry(ev.resource_id.get(reads[end] as usize))
            .or_default() += 1;
        while ts - ev.ts[reads[start] as usize] > width {
            let id = ev.resource_id.get(reads[start] as usize);
            if let Some(c) = counts.get_mut(&id) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(&id);
                }
            }
            start += 1;
        }
        history.push((ts, counts.len()));
        if counts.len() > best.0 {
            best = (counts.len(), start, end);
        }
    }
    let window_start = reads.get(best.1).map_or(0, |&r| ev.ts[r as usize]);
    let before = history
        .iter()
        .filter(|(t, _)| *t < window_start - HOUR)
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0);
    (best.0, reads[best.1..=best.2].to_vec(), before)
}

/// Credentials and addresses in `rows` that the subject never used before
/// them: what to pivot from when a known identity misbehaves.
fn new_pairs(ev: &Events<'_>, kind: Kind, subject: u32, rows: &[u32]) -> Vec<Seed> {
    let Some(&first) = rows.first() else {
        return Vec::new();
    };
    let start = ev.ts[first as usize];
    let history: &[u32] = match kind {
        Kind::Principal => ev.by_principal.of(subject),
        Kind::Ip => ev.by_ip.of(subject),
        Kind::Credential => ev.by_credential.of(subject),
    };
    let before: Vec<usize> = history
        .iter()
        .map(|&r| r as usize)
        .take_while(|&r| ev.ts[r] < start)
        .collect();
    let old_ips: HashSet<u32> = before.iter().map(|&r| ev.ip.get(r)).collect();
    let old_creds: HashSet<u32> = before.iter().map(|&r| ev.credential.get(r)).collect();
    let mut seeds = Vec::new();
    let mut seen = HashSet::new();
    for &row in rows {
        let r = row as usize;
        let (ip, cred) = (ev.ip.get(r), ev.credential.get(r));
        if kind != Kind::Ip
            && ev.is_address(ip)
            && !old_ips.contains(&ip)
            && seen.insert((Kind::Ip, ip))
        {
            seeds.push(Seed {
                kind: Kind::Ip,
                code: ip,
                since: ev.ts[r],
            });
        }
        if cred != Codes::NULL
            && !old_creds.contains(&cred)
            && seen.insert((Kind::Credential, cred))
        {
            seeds.push(Seed {
                kind: Kind::Credential,
                code: cred,
                since: ev.ts[r],
            });
        }
    }
    seeds
}

/// An hour of reads by `p` far above its busiest hour before.
fn bulk_access(ev: &Events<'_>, p: u32) -> Option<Detection> {
    const MIN_BYTES: u64 = 5 << 20;
    const MIN_READS: u64 = 100;
    let reads: Vec<u32> = ev
        .by_principal
        .of(p)
        .iter()
        .copied()
        .filter(|&r| {
            !ev.is_duplicate(r as usize) && ev.succeeded(r as usize) && ev.is_read(r as usize)
        })
        .collect();
    let &first = ev.by_principal.of(p).first()?;
    let first_seen = ev.ts[first as usize];
    let mut hours: Vec<Hour> = Vec::new();
    for (i, r) in ahead(&reads, |next| ev.prefetch_volume(next)).enumerate() {
        let hour = ev.ts[r].div_euclid(HOUR);
        match hours.last_mut() {
            Some(h) if h.hour == hour => {
                h.bytes += ev.bytes_of(r);
                h.reads.end = i + 1;
            }
            _ => hours.push(Hour {
                hour,
                bytes: ev.bytes_of(r),
                reads: i..i + 1,
            }),
        }
    }
    let (mut max_bytes, mut max_reads) = (0u64, 0u64);
    for i in 0..hours.len() {
        let h = &hours[i];
        let count = h.reads.len() as u64;
        let mature = h.hour * HOUR - first_seen >= BASELINE_NS;
        let over =
            h.bytes > (10 * max_bytes).max(MIN_BYTES) || count > (10 * max_reads).max(MIN_READS);
        if mature && over {
            let rows = &reads[h.reads.clone()];
            return Some(bulk(ev, p, h.bytes, rows, max_bytes, max_reads));
        }
        // The hour just before may already be the attack: compare with
        // hours that ended at least an hour earlier.
        if i > 0 {
            max_bytes = max_bytes.max(hours[i - 1].bytes);
            max_reads = max_reads.max(hours[i - 1].reads.len() as u64);
        }
    }
    None
}

/// One clock hour of a principal's reads.
struct Hour {
    hour: i64,
    bytes: u64,
    /// Its reads, as a range of the principal's read list.
    reads: std::ops::Range<usize>,
}

fn bulk(
    ev: &Events<'_>,
    p: u32,
    bytes: u64,
    rows: &[u32],
    max_bytes: u64,
    max_reads: u64,
) -> Detection {
    let count = rows.len() as u64;
    let ratio =
        (bytes as f64 / max_bytes.max(1) as f64).max(count as f64 / max_reads.max(1) as f64);
    let severity = if bytes >= 100 << 20 || count >= 1000 || ratio >= 50.0 {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut d = detection(
        "bulk-access",
        severity,
        Kind::Principal,
        p,
        ev,
        rows.to_vec(),
    );
    d.summary = format!(
        "{count} reads, {} in one hour (busiest earlier hour: {max_reads} reads, {})",
        human_bytes(bytes),
        human_bytes(max_bytes)
    );
    d.seeds = new_pairs(ev, Kind::Principal, p, rows);
    d
}

/// `31.5 MB`-style sizes.
pub fn human_bytes(b: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Sensitive changes by `p` it never made before, or made from a flagged
/// address or credential.
fn unauthorized_changes(
    ev: &Events<'_>,
    p: u32,
    flagged: &HashSet<(Kind, u32)>,
) -> Option<Detection> {
    let rows = ev.by_principal.of(p);
    let &first = rows.first()?;
    let first_seen = ev.ts[first as usize];
    let mut done: HashSet<u32> = HashSet::new();
    let mut hits: Vec<u32> = Vec::new();
    let mut from_flagged = false;
    for r in ahead(rows, |next| ev.prefetch_flags(next)) {
        if ev.is_duplicate(r) || !ev.is_change(r) || !ev.succeeded(r) || !is_sensitive(ev, r) {
            continue;
        }
        let action = ev.action.get(r);
        let flag = flagged.contains(&(Kind::Ip, ev.ip.get(r)))
            || flagged.contains(&(Kind::Credential, ev.credential.get(r)));
        let mature = ev.ts[r] - first_seen >= BASELINE_NS;
        if flag || (mature && !done.contains(&action)) {
            hits.push(r as u32);
            from_flagged |= flag;
        }
        done.insert(action);
    }
    if hits.is_empty() {
        return None;
    }
    let severity = if from_flagged {
        Severity::High
    } else {
        Severity::Medium
    };
    let actions: Vec<&str> = {
        let mut a: Vec<&str> = hits
            .iter()
            .map(|&r| ev.text(ev.action.get(r as usize)))
            .collect();
        a.sort_unstable();
        a.dedup();
        a
    };
    let mut d = detection(
        "unauthorized-change",
        severity,
        Kind::Principal,
        p,
        ev,
        hits,
    );
    d.summary = format!(
        "{} never made before{}: {}",
        if d.count == 1 { "a change" } else { "changes" },
        if from_flagged {
            ", from a flagged address or credential"
        } else {
            ""
        },
        actions.join(", ")
    );
    Some(d)
}

/// Whether a change touches security or configuration rather than
/// ordinary business data.
pub fn is_sensitive(ev: &Events<'_>, r: usize) -> bool {
    const REST_WORDS: &[&str] = &[
        "admin",
        "config",
        "setting",
        "user",
        "role",
        "permission",
        "key",
        "token",
        "secret",
        "webhook",
        "mfa",
        "password",
        "policy",
        "security",
        "credential",
        "member",
        "group",
        "acl",
        "integration",
    ];
    const AWS_SERVICES: &[&str] = &[
        "iam.",
        "sts.",
        "kms.",
        "organizations.",
        "cloudtrail.",
        "guardduty.",
        "config.",
        "securityhub.",
        "secretsmanager.",
        "ssm.",
        "lambda.",
        "sso.",
        "identitystore.",
        "rolesanywhere.",
    ];
    const AWS_WORDS: &[&str] = &[
        "Bucket",
        "Policy",
        "Acl",
        "SecurityGroup",
        "NetworkAcl",
        "KeyPair",
        "Snapshot",
        "Image",
        "Logging",
        "FlowLogs",
        "Trail",
        "User",
        "Role",
        "LoginProfile",
        "AccessKey",
    ];
    let action = ev.text(ev.action.get(r));
    if ev.is_cloudtrail(r) {
        let service = ev.text(ev.service.get(r));
        AWS_SERVICES.iter().any(|s| service.starts_with(s))
            || AWS_WORDS.iter().any(|w| action.contains(w))
    } else {
        let lower = action.to_ascii_lowercase();
        REST_WORDS.iter().any(|w| lower.contains(w))
    }
}
