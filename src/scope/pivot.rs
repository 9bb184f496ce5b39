//! Pivot expansion: from seeds to everything the attacker touched.
//!
//! The graph has three kinds of nodes (addresses, credentials, principals)
//! and is walked until nothing new is reached:
//!
//! - from an attacker address, after it turned malicious: the credentials
//!   used and principals acted as from it, unless that credential or
//!   principal already used the address before (its own usual place), and
//!   the credentials it was issued or minted;
//! - from a compromised credential, after its compromise: the addresses it
//!   was used from that it never used before, the principals it acted as,
//!   and the credentials minted with it.
//!
//! Principals are reached but never expanded: a person's own sessions from
//! the office are not the attacker's. Addresses shared by many principals
//! (a corporate NAT, a carrier gateway) are never expanded either, even
//! when given as an indicator. Every node records the hop that reached it,
//! with the rows that prove it.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::detect::{BASELINE_NS, Kind, Seed};
use super::index::Events;
use crate::frame::codes::Codes;

/// Principals seen succeeding from one address above which it is shared
/// infrastructure.
pub const SHARED_PRINCIPALS: usize = 10;

/// Where a hop starts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum From {
    /// A seed, with where it came from (`ioc` or a detection rule).
    Seed(String),
    Node(Kind, u32),
}

/// How one node entered the scope.
#[derive(Clone, Debug)]
pub struct Hop {
    pub from: From,
    pub to: (Kind, u32),
    pub reason: &'static str,
    pub time: i64,
    pub rows: Vec<u32>,
}

/// What the attacker touched.
#[derive(Default)]
pub struct Scope {
    /// Node → time from which its activity is the attacker's.
    pub ips: BTreeMap<u32, i64>,
    pub credentials: BTreeMap<u32, i64>,
    pub principals: BTreeMap<u32, i64>,
    pub hops: Vec<Hop>,
    /// Seed addresses not expanded because they are shared, with the
    /// number of principals seen on them.
    pub shared: Vec<(u32, usize)>,
    /// Rows that are the attacker's.
    pub malicious: Vec<bool>,
    /// The same rows, oldest first (ties in frame order): the few rows the
    /// answers cite, without another pass over every row for each answer.
    pub rows: Vec<u32>,
}

/// A seed with its origin (`ioc` or the rule that raised it).
#[derive(Clone, Debug)]
pub struct Origin {
    pub seed: Seed,
    pub origin: String,
}

struct Walk<'e, 'a> {
    ev: &'e Events<'a>,
    scope: Scope,
    shared_cache: HashMap<u32, usize>,
    baseline_cache: HashMap<u32, HashSet<u32>>,
}

/// Expands `seeds` over the events.
pub fn expand(ev: &Events<'_>, seeds: &[Origin]) -> Scope {
    let mut w = Walk {
        ev,
        scope: Scope::default(),
        shared_cache: HashMap::new(),
        baseline_cache: HashMap::new(),
    };
    let mut ordered: Vec<&Origin> = seeds.iter().collect();
    ordered.sort_by(|a, b| {
        (a.seed.since, a.seed.kind, ev.text(a.seed.code), &a.origin).cmp(&(
            b.seed.since,
            b.seed.kind,
            ev.text(b.seed.code),
            &b.origin,
        ))
    });
    for s in ordered {
        w.add(
            s.seed.kind,
            s.seed.code,
            s.seed.since,
            From::Seed(s.origin.clone()),
            "seed",
            Vec::new(),
        );
    }
    while w.step() {}
    w.mark_rows();
    w.scope
}

impl Walk<'_, '_> {
    /// Adds a node, or moves its start earlier; true when something changed.
    fn add(
        &mut self,
        kind: Kind,
        code: u32,
        since: i64,
        from: From,
        reason: &'static str,
        rows: Vec<u32>,
    ) -> bool {
        if code == Codes::NULL {
            return false;
        }
        if kind == Kind::Ip {
            if !self.ev.is_address(code) {
                return false;
            }
            let users = self.principals_on(code);
            if users >= SHARED_PRINCIPALS {
                if matches!(from, From::Seed(_))
                    && !self.scope.shared.iter().any(|(c, _)| *c == code)
                {
                    self.scope.shared.push((code, users));
                }
                return false;
            }
        }
        let map = match kind {
            Kind::Ip => &mut self.scope.ips,
            Kind::Credential => &mut self.scope.credentials,
            Kind::Principal => &mut self.scope.principals,
        };
        match map.get(&code) {
            Some(&t) if t <= since => false,
            _ => {
                map.insert(code, since);
                // Keep the hop that reached the node earliest.
                self.scope.hops.retain(|h| h.to != (kind, code));
                self.scope.hops.push(Hop {
                    from,
                    to: (kind, code),
                    reason,
                    time: since,
                    rows,
                });
                true
            }
        }
    }

    /// One pass over every node; true when the scope grew.
    fn step(&mut self) -> bool {
        let mut changed = false;
        for ip in self.ev.by_text(self.scope.ips.keys().copied()) {
            changed |= self.expand_address(ip, self.scope.ips[&ip]);
        }
        for cred in self.ev.by_text(self.scope.credentials.keys().copied()) {
            changed |= self.expand_credential(cred, self.scope.credentials[&cred]);
        }
        changed
    }

    fn expand_address(&mut self, ip: u32, since: i64) -> bool {
        let ev = self.ev;
        let mut changed = false;
        for &row in ev.by_ip.of(ip) {
            let r = row as usize;
            if ev.ts[r] < since || ev.is_duplicate(r) || !ev.succeeded(r) {
                continue;
            }
            let from = From::Node(Kind::Ip, ip);
            let cred = ev.credential.get(r);
            if cred != Codes::NULL && !self.used_before(Kind::Credential, cred, ip, since) {
                changed |= self.add(
                    Kind::Credential,
                    cred,
                    ev.ts[r],
                    from.clone(),
                    "used from an attacker address",
                    vec![row],
                );
            }
            let p = ev.principal.get(r);
            if p != Codes::NULL && !self.used_before(Kind::Principal, p, ip, since) {
                changed |= self.add(
                    Kind::Principal,
                    p,
                    ev.ts[r],
                    from.clone(),
                    "acted as from an attacker address",
                    vec![row],
                );
            }
            changed |= self.minted(r, from);
        }
        changed
    }

    fn expand_credential(&mut self, cred: u32, since: i64) -> bool {
        let ev = self.ev;
        let baseline = self.baseline_ips(cred, since);
        let mut changed = false;
        for &row in ev.by_credential.of(cred) {
            let r = row as usize;
            if ev.ts[r] < since || ev.is_duplicate(r) || !ev.succeeded(r) {
                continue;
            }
            let from = From::Node(Kind::Credential, cred);
            let ip = ev.ip.get(r);
            if !baseline.contains(&ip) {
                changed |= self.add(
                    Kind::Ip,
                    ip,
                    ev.ts[r],
                    from.clone(),
                    "compromised credential used from it",
                    vec![row],
                );
            }
            let p = ev.principal.get(r);
            if p != Codes::NULL {
                changed |= self.add(
                    Kind::Principal,
                    p,
                    ev.ts[r],
                    from.clone(),
                    "compromised credential acted as",
                    vec![row],
                );
            }
            changed |= self.minted(r, from);
        }
        changed
    }

    /// A credential issued (login) or minted (new key) by an attacker row.
    fn minted(&mut self, r: usize, from: From) -> bool {
        let m = self.ev.minted.get(r);
        if m == Codes::NULL {
            return false;
        }
        let reason = if self.ev.is_login(r) {
            "issued to the attacker's login"
        } else {
            "minted by the attacker"
        };
        self.add(
            Kind::Credential,
            m,
            self.ev.ts[r],
            from,
            reason,
            vec![r as u32],
        )
    }

    /// Whether `who` succeeded from `ip` before `since`: its own address.
    fn used_before(&self, kind: Kind, who: u32, ip: u32, since: i64) -> bool {
        let rows = match kind {
            Kind::Credential => self.ev.by_credential.of(who),
            _ => self.ev.by_principal.of(who),
        };
        rows.iter()
            .map(|&r| r as usize)
            .take_while(|&r| self.ev.ts[r] < since)
            .any(|r| self.ev.ip.get(r) == ip && self.ev.succeeded(r))
    }

    /// Addresses a credential succeeded from before `since`.
    fn baseline_ips(&mut self, cred: u32, since: i64) -> HashSet<u32> {
        let ev = self.ev;
        self.baseline_cache
            .entry(cred)
            .or_insert_with(|| {
                ev.by_credential
                    .of(cred)
                    .iter()
                    .map(|&r| r as usize)
                    .take_while(|&r| ev.ts[r] < since)
                    .filter(|&r| ev.succeeded(r))
                    .map(|r| ev.ip.get(r))
                    .collect()
            })
            .clone()
    }

    /// Distinct principals that succeeded from `ip` (capped at the shared
    /// threshold).
    fn principals_on(&mut self, ip: u32) -> usize {
        let ev = self.ev;
        *self.shared_cache.entry(ip).or_insert_with(|| {
            let mut seen = HashSet::new();
            for &r in ev.by_ip.of(ip) {
                let p = ev.principal.get(r as usize);
                if p != Codes::NULL
                    && ev.succeeded(r as usize)
                    && seen.insert(p)
                    && seen.len() >= SHARED_PRINCIPALS
                {
                    break;
                }
            }
            seen.len()
        })
    }

    /// Marks the attacker's rows: from an attacker address after it turned,
    /// or with a compromised credential from an address that is not its own;
    /// a row's twin follows it.
    fn mark_rows(&mut self) {
        let ev = self.ev;
        let mut malicious = vec![false; ev.len()];
        for (&ip, &since) in &self.scope.ips {
            for &r in ev.by_ip.of(ip) {
                if ev.ts[r as usize] >= since {
                    malicious[r as usize] = true;
                }
            }
        }
        let creds: Vec<(u32, i64)> = self
            .scope
            .credentials
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        for (cred, since) in creds {
            let baseline = self.baseline_ips(cred, since);
            for &r in ev.by_credential.of(cred) {
                let r = r as usize;
                if ev.ts[r] >= since && !baseline.contains(&ev.ip.get(r)) {
                    malicious[r] = true;
                }
            }
        }
        for r in 0..malicious.len() {
            if let Some(t) = ev.twin_of(r) {
                if malicious[t] {
                    malicious[r] = true;
                }
            }
        }
        self.scope.rows = ev
            .order
            .iter()
            .copied()
            .filter(|&r| malicious[r as usize])
            .collect();
        self.scope.malicious = malicious;
    }
}

/// When an indicator given without a time turned malicious: for a
/// credential or principal with a day of history, its first success from an
/// address it never used; otherwise its first appearance.
pub fn seed_for_indicator(ev: &Events<'_>, kind: Kind, code: u32) -> Vec<Seed> {
    let rows = match kind {
        Kind::Ip => ev.by_ip.of(code),
        Kind::Credential => ev.by_credential.of(code),
        Kind::Principal => ev.by_principal.of(code),
    };
    let Some(&first) = rows.first() else {
        return Vec::new();
    };
    let first_ts = ev.ts[first as usize];
    if kind == Kind::Ip {
        return vec![Seed {
            kind,
            code,
            since: first_ts,
        }];
    }
    let mut known: HashSet<u32> = HashSet::new();
    let mut seeds = Vec::new();
    for &row in rows {
        let r = row as usize;
        if ev.is_duplicate(r) || !ev.succeeded(r) {
            continue;
        }
        let ip = ev.ip.get(r);
        let mature = ev.ts[r] - first_ts >= BASELINE_NS;
        if mature && !known.contains(&ip) && ev.is_address(ip) {
            seeds.push(Seed {
                kind: Kind::Ip,
                code: ip,
                since: ev.ts[r],
            });
            if kind == Kind::Credential && seeds.len() == 1 {
                seeds.push(Seed {
                    kind,
                    code,
                    since: ev.ts[r],
                });
            }
        }
        known.insert(ip);
    }
    match kind {
        Kind::Credential if seeds.is_empty() => vec![Seed {
            kind,
            code,
            since: first_ts,
        }],
        Kind::Principal => {
            let since = seeds.first().map_or(first_ts, |s| s.since);
            seeds.push(Seed { kind, code, since });
            seeds
        }
        _ => seeds,
    }
}
