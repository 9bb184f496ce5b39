//! The event frame as plain arrays, with rows grouped by IP, credential and
//! principal in time order.
//!
//! Detection and pivoting ask the same questions over and over: which IPs
//! did this credential use before that time, which principals logged in
//! from this address. [`Events`] answers them from id arrays and per-entity
//! row lists built once, instead of filtering the frame each time.

use polars::prelude::*;
use rayon::prelude::*;

use crate::enrich::client::Family;
use crate::frame::Dictionary;
use crate::frame::codes::{Bools, Codes, Values, prefetch};
use crate::frame::columns::{self as c, enriched as e};
use crate::parse::combined::is_public;

/// Rows of one entity, in time order: `rows[offsets[id]..offsets[id + 1]]`.
pub struct Groups {
    offsets: Vec<u32>,
    rows: Vec<u32>,
}

impl Groups {
    fn build(codes: &Codes<'_>, order: &[u32], ids: usize) -> Groups {
        let (offsets, rows) = codes.groups(order, ids);
        Groups { offsets, rows }
    }

    /// Entities with at least one row, in order of their first row (by time,
    /// then frame order: the order of [`Events::order`]).
    pub fn entities(&self, ts: &[i64]) -> Vec<u32> {
        let mut found: Vec<(i64, u32, u32)> = (0..self.offsets.len().saturating_sub(1))
            .filter(|&i| self.offsets[i + 1] > self.offsets[i])
            .map(|i| {
                let first = self.rows[self.offsets[i] as usize];
                (ts[first as usize], first, i as u32)
            })
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(_, _, code)| code).collect()
    }

    /// Rows of entity `code`, oldest first.
    pub fn of(&self, code: u32) -> &[u32] {
        let i = code as usize;
        if i + 1 >= self.offsets.len() {
            return &[];
        }
        &self.rows[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

/// Read-only arrays of the enriched frame.
pub struct Events<'a> {
    pub dict: &'a Dictionary,
    pub ts: &'a [i64],
    pub line: &'a [u64],
    pub source: Codes<'a>,
    pub format: Codes<'a>,
    pub ip: Codes<'a>,
    pub principal: Codes<'a>,
    pub credential: Codes<'a>,
    pub minted: Codes<'a>,
    pub method: Codes<'a>,
    pub action: Codes<'a>,
    pub route: Codes<'a>,
    pub service: Codes<'a>,
    pub resource_type: Codes<'a>,
    pub resource_id: Codes<'a>,
    pub family: Codes<'a>,
    pub outcome: Codes<'a>,
    pub status: Values<'a, i32>,
    pub bytes: Values<'a, u64>,
    pub twin: Values<'a, u32>,
    /// Every row, oldest first (ties in frame order).
    pub order: Vec<u32>,
    pub by_ip: Groups,
    pub by_credential: Groups,
    pub by_principal: Groups,
    success: Option<u32>,
    cloudtrail: Option<u32>,
    /// Per row, the [`flag`] bits: the facts rules test on every row, one
    /// byte to read instead of one array each (and one byte per row of
    /// memory instead of six).
    flags: Vec<u8>,
    /// Ids of `GET` and `HEAD`, for [`Events::is_read`].
    read_methods: [Option<u32>; 2],
    /// Client family of each id of the `client_family` column.
    families: Vec<Option<Family>>,
    /// Per id of the `ip` column: [`IS_ADDRESS`] and [`IS_PUBLIC`] bits.
    ip_kinds: Vec<u8>,
}

/// Bits of [`Events`]' per-row flags.
pub mod flag {
    /// The outcome is success.
    pub const SUCCESS: u8 = 1;
    /// The row reads data (see [`super::Events::is_read`]).
    pub const READ: u8 = 2;
    /// A login or token attempt (`is_login`).
    pub const LOGIN: u8 = 4;
    /// A change of state (`is_change`).
    pub const CHANGE: u8 = 8;
    /// The second log line of a request (`duplicate`).
    pub const DUPLICATE: u8 = 16;
    /// An instance-role credential (`instance_credential`).
    pub const INSTANCE: u8 = 32;
    /// Authenticated with a second factor (`mfa` true).
    pub const MFA: u8 = 64;
    /// Logged as authenticated without one (`mfa` false).
    pub const NO_MFA: u8 = 128;
}

/// The boolean columns folded into [`Events`]' flags, read once.
struct RowFacts<'a> {
    mfa: Bools<'a>,
    read_only: Bools<'a>,
    instance: Bools<'a>,
    login: Bools<'a>,
    change: Bools<'a>,
    duplicate: Bools<'a>,
}

/// The value of an `ip` id parses as an IP address.
const IS_ADDRESS: u8 = 1;
/// The value of an `ip` id is a public IP address.
const IS_PUBLIC: u8 = 2;

/// Classifies every id used in the `ip` column, once, in parallel: rules
/// ask about each row's address again and again.
fn ip_kinds(by_ip: &Groups, dict: &Dictionary, ids: usize) -> Vec<u8> {
    let used: Vec<u32> = (0..ids as u32)
        .filter(|&c| !by_ip.of(c).is_empty())
        .collect();
    let kinds: Vec<(u32, u8)> = used
        .par_iter()
        .map(|&code| (code, classify(dict.text(code).unwrap_or(""))))
        .collect();
    let mut out = vec![0u8; ids];
    for (code, kind) in kinds {
        out[code as usize] = kind;
    }
    out
}

/// The [`IS_ADDRESS`] and [`IS_PUBLIC`] bits of an `ip` value.
fn classify(text: &str) -> u8 {
    let mut kind = 0;
    if text.parse::<std::net::IpAddr>().is_ok() {
        kind |= IS_ADDRESS;
    }
    if is_public(text.as_bytes()) {
        kind |= IS_PUBLIC;
    }
    kind
}

/// The family of every id of the `client_family` column.
fn families(family: &Codes<'_>, dict: &Dictionary, ids: usize) -> Vec<Option<Family>> {
    let mut out = vec![None; ids];
    for code in family.distinct(ids) {
        if let Some(slot) = out.get_mut(code as usize) {
            *slot = Some(crate::enrich::client::family_named(
                dict.text(code).unwrap_or(""),
            ));
        }
    }
    out
}

impl<'a> Events<'a> {
    /// Indexes an enriched frame.
    pub fn new(df: &'a DataFrame, dict: &'a Dictionary) -> PolarsResult<Events<'a>> {
        let ts = df.column(c::TS)?.datetime()?.physical().cont_slice()?;
        let phase = crate::timing::Phase::start("index: time order");
        let mut order: Vec<u32> = (0..ts.len() as u32).collect();
        order.par_sort_unstable_by_key(|&r| (ts[r as usize], r));
        drop(phase);
        let phase = crate::timing::Phase::start("index: rows by address, credential, principal");
        let ids = dict.len();
        let ip = Codes::of(df, c::IP)?;
        let credential = Codes::of(df, c::CREDENTIAL)?;
        let principal = Codes::of(df, c::PRINCIPAL)?;
        let (by_ip, (by_credential, by_principal)) = rayon::join(
            || Groups::build(&ip, &order, ids),
            || {
                rayon::join(
                    || Groups::build(&credential, &order, ids),
                    || Groups::build(&principal, &order, ids),
                )
            },
        );
        drop(phase);
        let _phase = crate::timing::Phase::start("index: per-row flags");
        let family = Codes::of(df, e::CLIENT_FAMILY)?;
        let mut ev = Events {
            dict,
            ts,
            line: df.column(c::LINE)?.u64()?.cont_slice()?,
            source: Codes::of(df, c::SOURCE)?,
            format: Codes::of(df, c::FORMAT)?,
            ip,
            principal,
            credential,
            minted: Codes::of(df, c::MINTED_CREDENTIAL)?,
            method: Codes::of(df, c::METHOD)?,
            action: Codes::of(df, c::ACTION)?,
            route: Codes::of(df, e::ROUTE)?,
            service: Codes::of(df, c::SERVICE)?,
            resource_type: Codes::of(df, c::RESOURCE_TYPE)?,
            resource_id: Codes::of(df, c::RESOURCE_ID)?,
            families: families(&family, dict, ids),
            ip_kinds: ip_kinds(&by_ip, dict, ids),
            family,
            outcome: Codes::of(df, c::OUTCOME)?,
            status: Values::column::<Int32Type>(df, c::STATUS)?,
            bytes: Values::column::<UInt64Type>(df, c::BYTES)?,
            twin: Values::column::<UInt32Type>(df, e::TWIN)?,
            order,
            by_ip,
            by_credential,
            by_principal,
            success: dict.lookup("success"),
            cloudtrail: dict.lookup("cloudtrail"),
            read_methods: [dict.lookup("GET"), dict.lookup("HEAD")],
            flags: Vec::new(),
        };
        let facts = RowFacts {
            mfa: Bools::column(df, c::MFA)?,
            read_only: Bools::column(df, c::READ_ONLY)?,
            instance: Bools::column(df, c::INSTANCE_CREDENTIAL)?,
            login: Bools::column(df, e::IS_LOGIN)?,
            change: Bools::column(df, e::IS_CHANGE)?,
            duplicate: Bools::column(df, e::DUPLICATE)?,
        };
        ev.flags = (0..ev.len())
            .into_par_iter()
            .map(|r| ev.row_flags(r, &facts))
            .collect();
        Ok(ev)
    }

    fn row_flags(&self, row: usize, facts: &RowFacts<'_>) -> u8 {
        let mut bits = 0;
        let mut set = |on: bool, bit: u8| {
            if on {
                bits |= bit;
            }
        };
        set(
            self.success.is_some_and(|s| self.outcome.get(row) == s),
            flag::SUCCESS,
        );
        let (login, change) = (facts.login.is(row), facts.change.is(row));
        set(login, flag::LOGIN);
        set(change, flag::CHANGE);
        set(!login && !change && self.reads_data(row, facts), flag::READ);
        set(facts.duplicate.is(row), flag::DUPLICATE);
        set(facts.instance.is(row), flag::INSTANCE);
        set(facts.mfa.get(row) == Some(true), flag::MFA);
        set(facts.mfa.get(row) == Some(false), flag::NO_MFA);
        bits
    }

    /// A GET or HEAD, or (without a method) a read-only AWS call.
    fn reads_data(&self, row: usize, facts: &RowFacts<'_>) -> bool {
        let method = self.method.get(row);
        if method == Codes::NULL {
            return facts.read_only.is(row);
        }
        self.read_methods.contains(&Some(method))
    }

    /// Hints that the flags, address and client of `row` are about to be
    /// read: what a walk over an identity's history reads of every row.
    #[inline(always)]
    pub fn prefetch_history(&self, row: usize) {
        prefetch(&self.flags, row);
        self.ip.prefetch(row);
        self.family.prefetch(row);
    }

    /// Hints that the flags of `row` are about to be read.
    #[inline(always)]
    pub fn prefetch_flags(&self, row: usize) {
        prefetch(&self.flags, row);
    }

    /// Hints that the flags, resource type and id of `row` are about to be
    /// read.
    #[inline(always)]
    pub fn prefetch_resource(&self, row: usize) {
        prefetch(&self.flags, row);
        self.resource_type.prefetch(row);
        self.resource_id.prefetch(row);
    }

    /// Hints that the time and size of `row` are about to be read.
    #[inline(always)]
    pub fn prefetch_volume(&self, row: usize) {
        prefetch(self.ts, row);
        self.bytes.prefetch(row);
    }

    #[inline]
    fn has(&self, row: usize, bit: u8) -> bool {
        self.flags[row] & bit != 0
    }

    /// Whether the row is a login or token attempt.
    #[inline]
    pub fn is_login(&self, row: usize) -> bool {
        self.has(row, flag::LOGIN)
    }

    /// Whether the row changed state.
    #[inline]
    pub fn is_change(&self, row: usize) -> bool {
        self.has(row, flag::CHANGE)
    }

    /// Whether the row is the second log line of a request counted through
    /// its twin.
    #[inline]
    pub fn is_duplicate(&self, row: usize) -> bool {
        self.has(row, flag::DUPLICATE)
    }

    /// Whether the row's credential is an EC2 instance-role session.
    #[inline]
    pub fn is_instance(&self, row: usize) -> bool {
        self.has(row, flag::INSTANCE)
    }

    /// Whether the session used a second factor, when logged.
    #[inline]
    pub fn mfa(&self, row: usize) -> Option<bool> {
        if self.has(row, flag::MFA) {
            Some(true)
        } else if self.has(row, flag::NO_MFA) {
            Some(false)
        } else {
            None
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The text of an id.
    pub fn text(&self, code: u32) -> &'a str {
        self.dict.text(code).unwrap_or("")
    }

    /// `codes` ordered by their text: dictionary ids depend on the order in
    /// which parallel parsers met the values, their texts do not.
    pub fn by_text(&self, codes: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let mut v: Vec<u32> = codes.into_iter().collect();
        v.sort_by(|a, b| self.text(*a).cmp(self.text(*b)).then(a.cmp(b)));
        v
    }

    /// Response bytes of a row (0 when not logged).
    #[inline]
    pub fn bytes_of(&self, r: usize) -> u64 {
        self.bytes.get(r).unwrap_or(0)
    }

    /// The other log line of the same request.
    #[inline]
    pub fn twin_of(&self, r: usize) -> Option<usize> {
        self.twin.get(r).map(|t| t as usize)
    }

    /// Whether any request was logged twice.
    pub fn has_twins(&self) -> bool {
        !self.twin.is_all_null()
    }

    /// Whether the row's outcome is success.
    #[inline]
    pub fn succeeded(&self, row: usize) -> bool {
        self.has(row, flag::SUCCESS)
    }

    /// Whether the row comes from CloudTrail.
    #[inline]
    pub fn is_cloudtrail(&self, row: usize) -> bool {
        self.cloudtrail.is_some_and(|c| self.format.get(row) == c)
    }

    /// Whether the row reads data: a GET/HEAD, or a read-only AWS call.
    #[inline]
    pub fn is_read(&self, row: usize) -> bool {
        self.has(row, flag::READ)
    }

    /// Client family of the row.
    pub fn family_of(&self, row: usize) -> Option<Family> {
        let code = self.family.get(row);
        self.families.get(code as usize).copied().flatten()
    }

    /// Whether id `code` of the `ip` column is a public IP address.
    pub fn is_public_ip(&self, code: u32) -> bool {
        self.ip_kind(code) & IS_PUBLIC != 0
    }

    /// Whether id `code` is an IP address at all (not a host or AWS service).
    pub fn is_address(&self, code: u32) -> bool {
        self.ip_kind(code) & IS_ADDRESS != 0
    }

    fn ip_kind(&self, code: u32) -> u8 {
        match self.ip_kinds.get(code as usize) {
            Some(&kind) => kind,
            // Not in the ip column: classify the text itself.
            None => classify(self.text(code)),
        }
    }
}
