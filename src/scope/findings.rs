//! The scoping answers, as `findings.json` holds them.
//!
//! The attacker's rows are marked in the frame (`malicious`, `attacker_ip`,
//! `compromised_credential`, and the other line of each twin), the SQL of
//! `queries/` answers the aggregate questions over it, and evidence (file
//! and line, both lines of a twin) is attached from the index. Every list
//! is sorted, so the same evidence gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::Analysis;
use super::detect::{Detection, Kind, Severity, human_bytes};
use super::index::Events;
use super::pivot::From as HopFrom;
use super::queries::{self, QuerySet};
use crate::frame::codes::{Codes, bool_column, column_of};
use crate::frame::{Dictionary, sql_view};
use crate::report::manifest::{InputEntry, TOOL, Tool};
use crate::report::tabular::{Cell, column_cells};
use crate::time::format_rfc3339;

/// Columns added to the frame by scoping.
pub mod columns {
    /// The row is the attacker's.
    pub const MALICIOUS: &str = "malicious";
    /// The row's address is an attacker address, after it turned.
    pub const ATTACKER_IP: &str = "attacker_ip";
    /// The row's credential is compromised, after the compromise.
    pub const COMPROMISED_CREDENTIAL: &str = "compromised_credential";
    /// Source file of the other line of the same request.
    pub const TWIN_SOURCE: &str = "twin_source";
    /// Line of the other line of the same request.
    pub const TWIN_LINE: &str = "twin_line";
}

/// Resource types whose ids identify a person (a data subject); the same
/// list is in `queries/affected_data_subjects.sql`.
pub const PERSON_TYPES: &[&str] = &[
    "customer",
    "user",
    "member",
    "patient",
    "client",
    "employee",
    "person",
    "people",
    "contact",
    "student",
    "applicant",
    "subscriber",
    "profile",
];

/// Most citations per finding.
const EVIDENCE_ROWS: usize = 3;

/// A citation: file and 1-based line (or record).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    pub source: String,
    pub line: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeedEntry {
    pub kind: Kind,
    pub value: String,
    pub origin: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AttackerIp {
    pub ip: String,
    pub first: String,
    pub last: String,
    pub events: u64,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CompromisedCredential {
    pub credential: String,
    pub principal: Option<String>,
    pub first_misuse: Option<String>,
    pub last_misuse: Option<String>,
    pub events: u64,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CompromisedPrincipal {
    pub principal: String,
    pub first: String,
    pub last: String,
    pub events: u64,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DataSubject {
    pub id: String,
    pub resource_type: String,
    pub accesses: u64,
    pub first: String,
    pub last: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DataAccess {
    pub principal: Option<String>,
    pub resource_type: String,
    pub resource_id: String,
    pub count: u64,
    pub bytes: u64,
    pub first: String,
    pub last: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct LateralMovement {
    pub from: String,
    pub to: String,
    pub kind: String,
    pub time: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub principal: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub time: String,
    pub count: u64,
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DetectionEntry {
    pub rule: String,
    pub severity: Severity,
    pub subject: String,
    pub first: String,
    pub last: String,
    pub count: u64,
    pub evidence: Vec<Evidence>,
    pub summary: String,
}

/// How one item entered the scope.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct HopEntry {
    pub time: String,
    pub to_kind: Kind,
    pub to: String,
    pub from: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// A weakness the logs show.
#[derive(Clone, Debug, Serialize)]
pub struct Hardening {
    pub issue: String,
    pub detail: String,
    pub count: u64,
}

/// An address given or found that is shared by many principals and so was
/// not expanded.
#[derive(Clone, Debug, Serialize)]
pub struct SharedAddress {
    pub ip: String,
    pub principals: u64,
}

/// The machine contract of `scope`.
#[derive(Serialize)]
pub struct Findings<'a> {
    pub tool: Tool,
    pub inputs: Vec<InputEntry<'a>>,
    pub seeds: Vec<SeedEntry>,
    pub attacker_ips: Vec<AttackerIp>,
    pub compromised_credentials: Vec<CompromisedCredential>,
    pub compromised_principals: Vec<CompromisedPrincipal>,
    pub affected_data_subjects: Vec<DataSubject>,
    pub data_accessed: Vec<DataAccess>,
    pub lateral_movement: Vec<LateralMovement>,
    pub unauthorized_changes: Vec<Change>,
    pub detections: Vec<DetectionEntry>,
    pub first_malicious_event: Option<String>,
    pub last_malicious_event: Option<String>,
    pub attacker_events: u64,
    /// Why each item is in scope.
    pub pivot: Vec<HopEntry>,
    pub hardening: Vec<Hardening>,
    pub shared_addresses: Vec<SharedAddress>,
    pub unmatched_iocs: Vec<String>,
}

/// Findings plus the tables the other outputs are written from.
pub struct Report<'a> {
    pub findings: Findings<'a>,
    /// Attacker events in time order (see `queries/timeline.sql`).
    pub timeline: DataFrame,
    /// The frame with the scope columns, for `--parquet`.
    pub scoped: DataFrame,
}

/// Marks the attacker's rows and answers every scoping question.
pub fn build<'a>(
    frame: &DataFrame,
    ev: &Events<'_>,
    analysis: &Analysis,
    inputs: Vec<InputEntry<'a>>,
    queries: &QuerySet,
    dict: &Dictionary,
) -> PolarsResult<Report<'a>> {
    let scoped = with_scope_columns(frame, ev, analysis, dict)?;
    // The scoping queries all start from `WHERE malicious`: run them over
    // the attacker's rows only, which gives the same answers without
    // casting millions of benign rows to text. The hardening queries look
    // at everything.
    let mask = bool_column("malicious", &analysis.scope.malicious);
    let attacker_rows = scoped.filter(&mask)?;
    let run = |q| queries.run(q, sql_view(attacker_rows.clone()));
    let run_all = |q| queries.run(q, sql_view(scoped.clone()));
    let malicious = &analysis.scope.malicious;
    let counted: Vec<usize> = analysis
        .scope
        .rows
        .iter()
        .map(|&r| r as usize)
        .filter(|&r| !ev.is_duplicate(r))
        .collect();
    // A request logged twice happened when the first log saw it.
    let request_time = |r: usize| ev.twin_of(r).map_or(ev.ts[r], |t| ev.ts[r].min(ev.ts[t]));
    let first_event = counted.iter().map(|&r| request_time(r)).min();
    let last_event = counted.iter().map(|&r| request_time(r)).max();
    let findings = Findings {
        tool: TOOL,
        inputs,
        seeds: seeds(ev, analysis),
        attacker_ips: attacker_ips(&run(queries::ATTACKER_IPS)?, ev, malicious)?,
        compromised_credentials: credentials(
            &run(queries::COMPROMISED_CREDENTIALS)?,
            ev,
            analysis,
        )?,
        compromised_principals: principals(&run(queries::COMPROMISED_PRINCIPALS)?, ev, malicious)?,
        affected_data_subjects: subjects(&run(queries::AFFECTED_DATA_SUBJECTS)?)?,
        data_accessed: accesses(&run(queries::DATA_ACCESSED)?)?,
        lateral_movement: lateral_movement(ev, analysis),
        unauthorized_changes: changes(
            &run(queries::UNAUTHORIZED_CHANGES)?,
            ev,
            &analysis.scope.rows,
        )?,
        detections: analysis
            .detections
            .iter()
            .map(|d| detection_entry(ev, d))
            .collect(),
        first_malicious_event: first_event.map(format_rfc3339),
        last_malicious_event: last_event.map(format_rfc3339),
        attacker_events: counted.len() as u64,
        pivot: hops(ev, analysis),
        hardening: hardening(
            ev,
            analysis,
            &run_all(queries::KEYS_IN_QUERY_STRINGS)?,
            &run_all(queries::LOGINS_WITHOUT_MFA)?,
        )?,
        shared_addresses: analysis
            .scope
            .shared
            .iter()
            .map(|(ip, n)| SharedAddress {
                ip: ev.text(*ip).to_string(),
                principals: *n as u64,
            })
            .collect(),
        unmatched_iocs: analysis.unmatched.clone(),
    };
    let timeline = run(queries::TIMELINE)?;
    Ok(Report {
        findings,
        timeline,
        scoped,
    })
}

/// The frame with `malicious`, `attacker_ip`, `compromised_credential` and
/// the twin citations.
fn with_scope_columns(
    frame: &DataFrame,
    ev: &Events<'_>,
    analysis: &Analysis,
    dict: &Dictionary,
) -> PolarsResult<DataFrame> {
    let scope = &analysis.scope;
    let n = ev.len();
    // Rows of an entity from the time it turned: one array read a row, the
    // rows shared out over the pool.
    let after = |map: &BTreeMap<u32, i64>, codes: &Codes<'_>| -> Vec<bool> {
        let mut since = vec![i64::MAX; ev.dict.len()];
        for (&code, &t) in map {
            if let Some(s) = since.get_mut(code as usize) {
                *s = t;
            }
        }
        (0..n)
            .into_par_iter()
            .map(|r| {
                since
                    .get(codes.get(r) as usize)
                    .is_some_and(|&t| ev.ts[r] >= t)
            })
            .collect()
    };
    let attacker_ip = after(&scope.ips, &ev.ip);
    let compromised = after(&scope.credentials, &ev.credential);
    let (twin_source, twin_line) = if ev.has_twins() {
        let sources: Vec<u32> = (0..n)
            .into_par_iter()
            .map(|r| ev.twin_of(r).map_or(Codes::NULL, |t| ev.source.get(t)))
            .collect();
        let lines = UInt64Chunked::from_iter_options(
            columns::TWIN_LINE.into(),
            (0..n).map(|r| ev.twin_of(r).map(|t| ev.line[t])),
        );
        (
            column_of(columns::TWIN_SOURCE, sources, dict),
            lines.into_column(),
        )
    } else {
        (
            Column::full_null(columns::TWIN_SOURCE.into(), n, dict.dtype()),
            Column::full_null(columns::TWIN_LINE.into(), n, &DataType::UInt64),
        )
    };
    let mut out = frame.clone();
    out.with_column(bool_column(columns::MALICIOUS, &scope.malicious).into_column())?;
    out.with_column(bool_column(columns::ATTACKER_IP, &attacker_ip).into_column())?;
    out.with_column(bool_column(columns::COMPROMISED_CREDENTIAL, &compromised).into_column())?;
    out.with_column(twin_source)?;
    out.with_column(twin_line)?;
    Ok(out)
}

/// Citations for `rows`, each followed by its twin, at most
/// [`EVIDENCE_ROWS`] rows.
pub fn evidence(ev: &Events<'_>, rows: impl IntoIterator<Item = usize>) -> Vec<Evidence> {
    let mut out = Vec::new();
    for r in rows.into_iter().take(EVIDENCE_ROWS) {
        out.push(cite(ev, r));
        if let Some(t) = ev.twin_of(r) {
            out.push(cite(ev, t));
        }
    }
    out
}

fn cite(ev: &Events<'_>, r: usize) -> Evidence {
    Evidence {
        source: ev.text(ev.source.get(r)).to_string(),
        line: ev.line[r],
    }
}

/// The named column of a result as cells.
fn cells(df: &DataFrame, name: &str) -> PolarsResult<Vec<Cell>> {
    column_cells(df.column(name)?)
}

fn text(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Null => None,
        other => Some(other.text()),
    }
}

fn number(cell: &Cell) -> u64 {
    match cell {
        Cell::UInt(n) => *n,
        Cell::Int(n) => u64::try_from(*n).unwrap_or(0),
        Cell::Float(x) => *x as u64,
        _ => 0,
    }
}

fn seeds(ev: &Events<'_>, analysis: &Analysis) -> Vec<SeedEntry> {
    let set: BTreeSet<SeedEntry> = analysis
        .seeds
        .iter()
        .map(|o| SeedEntry {
            kind: o.seed.kind,
            value: ev.text(o.seed.code).to_string(),
            origin: o.origin.clone(),
        })
        .collect();
    set.into_iter().collect()
}

/// Malicious, counted rows of one entity group, oldest first.
fn malicious_rows<'r>(
    ev: &'r Events<'_>,
    rows: &'r [u32],
    malicious: &'r [bool],
) -> impl Iterator<Item = usize> + 'r {
    rows.iter()
        .map(|&r| r as usize)
        .filter(move |&r| malicious[r] && !ev.is_duplicate(r))
}

fn attacker_ips(
    df: &DataFrame,
    ev: &Events<'_>,
    malicious: &[bool],
) -> PolarsResult<Vec<AttackerIp>> {
    let (ip, first, last, events) = (
        cells(df, "ip")?,
        cells(df, "first")?,
        cells(df, "last")?,
        cells(df, "events")?,
    );
    Ok((0..df.height())
        .filter_map(|i| {
            let value = text(&ip[i])?;
            let code = ev.dict.lookup(&value)?;
            Some(AttackerIp {
                evidence: evidence(ev, malicious_rows(ev, ev.by_ip.of(code), malicious)),
                ip: value,
                first: first[i].text(),
                last: last[i].text(),
                events: number(&events[i]),
            })
        })
        .collect())
}

fn credentials(
    df: &DataFrame,
    ev: &Events<'_>,
    analysis: &Analysis,
) -> PolarsResult<Vec<CompromisedCredential>> {
    let malicious = &analysis.scope.malicious;
    let names = [
        "credential",
        "principal",
        "first_misuse",
        "last_misuse",
        "events",
    ];
    let cols: Vec<Vec<Cell>> = names
        .iter()
        .map(|n| cells(df, n))
        .collect::<PolarsResult<_>>()?;
    let mut out: BTreeMap<String, CompromisedCredential> = BTreeMap::new();
    for (i, cell) in cols[0].iter().enumerate() {
        let Some(value) = text(cell) else {
            continue;
        };
        let code = ev.dict.lookup(&value).unwrap_or(Codes::NULL);
        let mut rows: Vec<usize> = minting_row(ev, code, &analysis.scope.rows)
            .into_iter()
            .collect();
        rows.extend(malicious_rows(ev, ev.by_credential.of(code), malicious));
        let entry = CompromisedCredential {
            credential: value.clone(),
            principal: text(&cols[1][i]),
            first_misuse: text(&cols[2][i]),
            last_misuse: text(&cols[3][i]),
            events: number(&cols[4][i]),
            evidence: evidence(ev, rows),
        };
        out.insert(value, entry);
    }
    // Credentials in scope never used by the attacker (a minted key kept
    // for later) still have to be revoked.
    for &code in analysis.scope.credentials.keys() {
        let value = ev.text(code).to_string();
        if out.contains_key(&value) {
            continue;
        }
        let Some(mint) = minting_row(ev, code, &analysis.scope.rows) else {
            continue;
        };
        out.insert(
            value.clone(),
            CompromisedCredential {
                credential: value,
                principal: None,
                first_misuse: None,
                last_misuse: None,
                events: 0,
                evidence: evidence(ev, [mint]),
            },
        );
    }
    Ok(out.into_values().collect())
}

/// The attacker row that minted credential `code`, if any, among the
/// attacker's `rows`.
fn minting_row(ev: &Events<'_>, code: u32, rows: &[u32]) -> Option<usize> {
    if code == Codes::NULL {
        return None;
    }
    rows.iter()
        .map(|&r| r as usize)
        .find(|&r| !ev.is_duplicate(r) && ev.minted.get(r) == code)
}

fn principals(
    df: &DataFrame,
    ev: &Events<'_>,
    malicious: &[bool],
) -> PolarsResult<Vec<CompromisedPrincipal>> {
    let (p, first, last, events) = (
        cells(df, "principal")?,
        cells(df, "first")?,
        cells(df, "last")?,
        cells(df, "events")?,
    );
    Ok((0..df.height())
        .filter_map(|i| {
            let value = text(&p[i])?;
            let code = ev.dict.lookup(&value)?;
            let rows = malicious_rows(ev, ev.by_principal.of(code), malicious)
                .filter(|&r| ev.succeeded(r));
            Some(CompromisedPrincipal {
                evidence: evidence(ev, rows),
                principal: value,
                first: first[i].text(),
                last: last[i].text(),
                events: number(&events[i]),
            })
        })
        .collect())
}

fn subjects(df: &DataFrame) -> PolarsResult<Vec<DataSubject>> {
    let names = ["id", "resource_type", "accesses", "first", "last"];
    let cols: Vec<Vec<Cell>> = names
        .iter()
        .map(|n| cells(df, n))
        .collect::<PolarsResult<_>>()?;
    Ok((0..df.height())
        .map(|i| DataSubject {
            id: cols[0][i].text(),
            resource_type: cols[1][i].text(),
            accesses: number(&cols[2][i]),
            first: cols[3][i].text(),
            last: cols[4][i].text(),
        })
        .collect())
}

fn accesses(df: &DataFrame) -> PolarsResult<Vec<DataAccess>> {
    let names = [
        "principal",
        "resource_type",
        "resource_id",
        "count",
        "bytes",
        "first",
        "last",
    ];
    let cols: Vec<Vec<Cell>> = names
        .iter()
        .map(|n| cells(df, n))
        .collect::<PolarsResult<_>>()?;
    Ok((0..df.height())
        .map(|i| DataAccess {
            principal: text(&cols[0][i]),
            resource_type: cols[1][i].text(),
            resource_id: cols[2][i].text(),
            count: number(&cols[3][i]),
            bytes: number(&cols[4][i]),
            first: cols[5][i].text(),
            last: cols[6][i].text(),
        })
        .collect())
}

fn changes(df: &DataFrame, ev: &Events<'_>, attacker: &[u32]) -> PolarsResult<Vec<Change>> {
    let names = ["principal", "action", "target", "time", "count"];
    let cols: Vec<Vec<Cell>> = names
        .iter()
        .map(|n| cells(df, n))
        .collect::<PolarsResult<_>>()?;
    Ok((0..df.height())
        .map(|i| {
            let (principal, action, target) =
                (text(&cols[0][i]), cols[1][i].text(), text(&cols[2][i]));
            let rows = attacker.iter().map(|&r| r as usize).filter(|&r| {
                !ev.is_duplicate(r)
                    && ev.is_change(r)
                    && ev.succeeded(r)
                    && ev.text(ev.action.get(r)) == action
                    && Some(ev.text(ev.principal.get(r))) == principal.as_deref()
                    && Some(ev.text(ev.resource_id.get(r))) == target.as_deref()
            });
            Change {
                evidence: evidence(ev, rows),
                principal,
                action,
                target,
                time: cols[3][i].text(),
                count: number(&cols[4][i]),
            }
        })
        .collect())
}

fn detection_entry(ev: &Events<'_>, d: &Detection) -> DetectionEntry {
    DetectionEntry {
        rule: d.rule.to_string(),
        severity: d.severity,
        subject: ev.text(d.subject).to_string(),
        first: format_rfc3339(d.first),
        last: format_rfc3339(d.last),
        count: d.count,
        evidence: evidence(ev, d.rows.iter().map(|&r| r as usize)),
        summary: d.summary.clone(),
    }
}

fn hops(ev: &Events<'_>, analysis: &Analysis) -> Vec<HopEntry> {
    let mut out: Vec<HopEntry> = analysis
        .scope
        .hops
        .iter()
        .map(|h| HopEntry {
            time: format_rfc3339(h.time),
            to_kind: h.to.0,
            to: ev.text(h.to.1).to_string(),
            from: match &h.from {
                HopFrom::Seed(origin) => format!("seed ({origin})"),
                HopFrom::Node(_, code) => ev.text(*code).to_string(),
            },
            reason: h.reason.to_string(),
            evidence: evidence(ev, h.rows.iter().map(|&r| r as usize)),
        })
        .collect();
    out.sort();
    out
}

/// Which log family a row belongs to: movement between them is a move to a
/// new service or account.
fn family_of_log(ev: &Events<'_>, r: usize) -> bool {
    ev.is_cloudtrail(r)
}

/// Moves from one identity to another: keys minted by the attacker, and
/// credentials of another principal first misused by the attacker.
fn lateral_movement(ev: &Events<'_>, analysis: &Analysis) -> Vec<LateralMovement> {
    let malicious = &analysis.scope.malicious;
    let counted = |r: usize| malicious[r] && !ev.is_duplicate(r) && ev.succeeded(r);
    let mut edges: BTreeMap<(String, String, String), (i64, Vec<usize>)> = BTreeMap::new();
    let mut add = |from: u32, to: u32, kind: &str, r: usize, rows: Vec<usize>| {
        if from == Codes::NULL || to == Codes::NULL || from == to {
            return;
        }
        let key = (
            ev.text(from).to_string(),
            ev.text(to).to_string(),
            kind.to_string(),
        );
        let entry = edges.entry(key).or_insert((ev.ts[r], rows.clone()));
        if ev.ts[r] < entry.0 {
            *entry = (ev.ts[r], rows);
        }
    };
    let first_use: BTreeMap<String, (u32, usize)> = first_uses(ev, analysis);
    for &row in &analysis.scope.rows {
        let r = row as usize;
        let m = ev.minted.get(r);
        if !counted(r) || m == Codes::NULL || ev.is_login(r) {
            continue;
        }
        let owner = first_use.get(ev.text(m)).map(|&(_, u)| ev.principal.get(u));
        let kind = if owner == Some(ev.principal.get(r)) {
            "new credential"
        } else {
            "minted key"
        };
        add(ev.principal.get(r), m, kind, r, vec![r]);
    }
    for &(cred, u) in first_use.values() {
        let to = ev.principal.get(u);
        if to == Codes::NULL {
            continue;
        }
        let origin = match minting_row(ev, cred, &analysis.scope.rows) {
            Some(m) => Some(m),
            None => previous_identity(ev, malicious, u, to),
        };
        let Some(o) = origin else { continue };
        let kind = if family_of_log(ev, o) != family_of_log(ev, u) {
            "new service or account"
        } else {
            "second principal"
        };
        add(ev.principal.get(o), to, kind, u, vec![o, u]);
    }
    edges
        .into_iter()
        .map(|((from, to, kind), (t, rows))| LateralMovement {
            from,
            to,
            kind,
            time: format_rfc3339(t),
            evidence: evidence(ev, rows),
        })
        .collect()
}

/// First counted attacker row of each compromised credential, by its text.
fn first_uses(ev: &Events<'_>, analysis: &Analysis) -> BTreeMap<String, (u32, usize)> {
    let malicious = &analysis.scope.malicious;
    analysis
        .scope
        .credentials
        .keys()
        .filter_map(|&cred| {
            let first = ev
                .by_credential
                .of(cred)
                .iter()
                .map(|&r| r as usize)
                .find(|&r| malicious[r] && !ev.is_duplicate(r) && ev.succeeded(r))?;
            Some((ev.text(cred).to_string(), (cred, first)))
        })
        .collect()
}

/// The identity the attacker was acting as from the same address just
/// before row `u`, if it is another one.
fn previous_identity(ev: &Events<'_>, malicious: &[bool], u: usize, not: u32) -> Option<usize> {
    let ip = ev.ip.get(u);
    ev.by_ip
        .of(ip)
        .iter()
        .map(|&r| r as usize)
        .take_while(|&r| ev.ts[r] < ev.ts[u])
        .filter(|&r| malicious[r] && !ev.is_duplicate(r) && ev.succeeded(r))
        .filter(|&r| {
            let p = ev.principal.get(r);
            p != Codes::NULL && p != not
        })
        .last()
}

/// Weaknesses the logs show.
fn hardening(
    ev: &Events<'_>,
    analysis: &Analysis,
    keys: &DataFrame,
    mfa: &DataFrame,
) -> PolarsResult<Vec<Hardening>> {
    let mut out = Vec::new();
    for d in analysis
        .detections
        .iter()
        .filter(|d| d.rule == "enumeration")
    {
        let throttled = d
            .rows
            .iter()
            .any(|&r| ev.status.get(r as usize) == Some(429));
        if !throttled {
            let route = d
                .rows
                .first()
                .map_or("", |&r| ev.text(ev.route.get(r as usize)));
            out.push(Hardening {
                issue: "no rate limiting on enumeration".into(),
                detail: format!(
                    "{route} served {} distinct ids to {} within 10 minutes without a single 429",
                    d.count,
                    ev.text(d.subject)
                ),
                count: d.count,
            });
        }
    }
    let (route, requests, creds) = (
        cells(keys, "route")?,
        cells(keys, "requests")?,
        cells(keys, "credentials")?,
    );
    for i in 0..keys.height() {
        out.push(Hardening {
            issue: "credentials in query strings".into(),
            detail: format!(
                "{} received {} credentials in the query string; \
                 they are written to every proxy and access log",
                route[i].text(),
                number(&creds[i])
            ),
            count: number(&requests[i]),
        });
    }
    let (principal, logins, by_attacker) = (
        cells(mfa, "principal")?,
        cells(mfa, "logins")?,
        cells(mfa, "by_attacker")?,
    );
    let total: u64 = (0..mfa.height()).map(|i| number(&logins[i])).sum();
    if total > 0 {
        let attacker: Vec<String> = (0..mfa.height())
            .filter(|&i| number(&by_attacker[i]) > 0)
            .map(|i| principal[i].text())
            .collect();
        out.push(Hardening {
            issue: "logins without a second factor".into(),
            detail: format!(
                "{total} successful logins by {} accounts are logged without MFA{}",
                mfa.height(),
                if attacker.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; the attacker logged in this way as {}",
                        attacker.join(", ")
                    )
                }
            ),
            count: total,
        });
    }
    out.extend(over_broad_keys(ev, analysis));
    for d in analysis
        .detections
        .iter()
        .filter(|d| d.rule == "instance-credential-exfiltration")
    {
        out.push(Hardening {
            issue: "instance credentials usable off the instance".into(),
            detail: format!(
                "the EC2 role session {} was used from outside; \
                 require IMDSv2 with a hop limit of 1 and restrict the role with \
                 aws:SourceVpc or aws:ec2InstanceSourceVPC conditions",
                ev.text(d.subject)
            ),
            count: d.count,
        });
    }
    Ok(out)
}

/// Compromised keys whose misuse spanned reading data and changing identity
/// or access: more power than one job needs.
fn over_broad_keys(ev: &Events<'_>, analysis: &Analysis) -> Vec<Hardening> {
    let malicious = &analysis.scope.malicious;
    let mut out = Vec::new();
    for cred in ev.by_text(analysis.scope.credentials.keys().copied()) {
        let rows: Vec<usize> = ev
            .by_credential
            .of(cred)
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| malicious[r] && ev.succeeded(r))
            .collect();
        let reads = rows.iter().any(|&r| ev.is_read(r) && ev.bytes_of(r) > 0);
        let identity_changes: BTreeSet<&str> = rows
            .iter()
            .filter(|&&r| ev.is_change(r) && super::detect::is_sensitive(ev, r))
            .map(|&r| ev.text(ev.action.get(r)))
            .collect();
        if reads && !identity_changes.is_empty() {
            let owner = rows.first().map_or("", |&r| ev.text(ev.principal.get(r)));
            let read_bytes: u64 = rows
                .iter()
                .filter(|&&r| ev.is_read(r))
                .map(|&r| ev.bytes_of(r))
                .sum();
            out.push(Hardening {
                issue: "over-broad credential".into(),
                detail: format!(
                    "{} ({owner}) could both read data ({}) and make security changes ({}); \
                     scope it to one job",
                    ev.text(cred),
                    human_bytes(read_bytes),
                    identity_changes.into_iter().collect::<Vec<_>>().join(", ")
                ),
                count: rows.len() as u64,
            });
        }
    }
    out
}

/// Column names the scope adds, for tests and the README.
pub const SCOPE_COLUMNS: [&str; 5] = [
    columns::MALICIOUS,
    columns::ATTACKER_IP,
    columns::COMPROMISED_CREDENTIAL,
    columns::TWIN_SOURCE,
    columns::TWIN_LINE,
];
