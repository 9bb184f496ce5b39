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
use crate::frame::codes::{Codes, Values};
use crate::frame::columns::{self as c, enriched as e};
use crate::parse::combined::is_public;

/// Rows of one entity, in time order: `rows[offsets[id]..offsets[id + 1]]`.
pub struct Groups {
    offsets: Vec<u32>,
    rows: Vec<u32>,
}

impl Groups {
    fn build(codes: &Codes<'_>, order: &[u32], ids: usize) -> Groups {
        let mut counts = vec![0u32; ids + 1];
        for &row in order {
            let code = codes.get(row as usize);
            if (code as usize) < ids {
                counts[code as usize + 1] += 1;
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let offsets = counts.clone();
        let mut next = counts;
        let mut rows = vec![0u32; offsets[ids] as usize];
        for &row in order {
            let code = codes.get(row as usize) as usize;
            if code < ids {
                rows[next[code] as usize] = row;
                next[code] += 1;
            }
        }
        Groups { offsets, rows }
    }

    /// Entities with at least one row, in order of their first row.
    pub fn entities(&self, order_pos: &[u32]) -> Vec<u32> {
        let mut found: Vec<(u32, u32)> = (0..self.offsets.len().saturating_sub(1))
            .filter(|&i| self.offsets[i + 1] > self.offsets[i])
            .map(|i| {
                (
                    order_pos[self.rows[self.offsets[i] as usize] as usize],
                    i as u32,
                )
            })
            .collect();
        found.sort_unstable();
        found.into_iter().map(|(_, code)| code).collect()
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
    pub mfa: Vec<Option<bool>>,
    pub read_only: Vec<Option<bool>>,
    pub instance: Vec<bool>,
    pub is_login: Vec<bool>,
    pub is_change: Vec<bool>,
    pub duplicate: Vec<bool>,
    pub twin: Values<'a, u32>,
    /// Every row, oldest first (ties in frame order).
    pub order: Vec<u32>,
    /// Position of each row in `order`.
    pub rank: Vec<u32>,
    pub by_ip: Groups,
    pub by_credential: Groups,
    pub by_principal: Groups,
    success: Option<u32>,
    cloudtrail: Option<u32>,
    /// Per row, the [`flag`] bits: the facts rules test on every row, one
    /// byte to read instead of one array each.
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

fn bools(df: &DataFrame, name: &str) -> PolarsResult<Vec<bool>> {
    Ok(df
        .column(name)?
        .bool()?
        .iter()
        .map(|b| b.unwrap_or(false))
        .collect())
}

impl<'a> Events<'a> {
    /// Indexes an enriched frame.
    pub fn new(df: &'a DataFrame, dict: &'a Dictionary) -> PolarsResult<Events<'a>> {
        let ts = df.column(c::TS)?.datetime()?.physical().cont_slice()?;
        let mut order: Vec<u32> = (0..ts.len() as u32).collect();
        order.par_sort_unstable_by_key(|&r| (ts[r as usize], r));
        let ids = dict.len();
        let ip = Codes::of(df, c::IP)?;
        let credential = Codes::of(df, c::CREDENTIAL)?;
        let principal = Codes::of(df, c::PRINCIPAL)?;
        let mut rank = vec![0u32; order.len()];
        for (pos, &row) in order.iter().enumerate() {
            rank[row as usize] = pos as u32;
        }
        let (by_ip, (by_credential, by_principal)) = rayon::join(
            || Groups::build(&ip, &order, ids),
            || {
                rayon::join(
                    || Groups::build(&credential, &order, ids),
                    || Groups::build(&principal, &order, ids),
                )
            },
        );
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
            status: Values::of(df.column(c::STATUS)?.i32()?),
            bytes: Values::of(df.column(c::BYTES)?.u64()?),
            mfa: df.column(c::MFA)?.bool()?.iter().collect(),
            read_only: df.column(c::READ_ONLY)?.bool()?.iter().collect(),
            instance: bools(df, c::INSTANCE_CREDENTIAL)?,
            is_login: bools(df, e::IS_LOGIN)?,
            is_change: bools(df, e::IS_CHANGE)?,
            duplicate: bools(df, e::DUPLICATE)?,
            twin: Values::of(df.column(e::TWIN)?.u32()?),
            order,
            rank,
            by_ip,
            by_credential,
            by_principal,
            success: dict.lookup("success"),
            cloudtrail: dict.lookup("cloudtrail"),
            read_methods: [dict.lookup("GET"), dict.lookup("HEAD")],
            flags: Vec::new(),
        };
        ev.flags = (0..ev.len())
            .into_par_iter()
            .map(|r| ev.row_flags(r))
            .collect();
        Ok(ev)
    }

    fn row_flags(&self, row: usize) -> u8 {
        let mut bits = 0;
        if self.success.is_some_and(|s| self.outcome.get(row) == s) {
            bits |= flag::SUCCESS;
        }
        if self.reads_data(row) {
            bits |= flag::READ;
        }
        bits
    }

    fn reads_data(&self, row: usize) -> bool {
        if self.is_login[row] || self.is_change[row] {
            return false;
        }
        let method = self.method.get(row);
        if method == Codes::NULL {
            return self.read_only[row].unwrap_or(false);
        }
        self.read_methods.contains(&Some(method))
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
        self.flags[row] & flag::SUCCESS != 0
    }

    /// Whether the row comes from CloudTrail.
    #[inline]
    pub fn is_cloudtrail(&self, row: usize) -> bool {
        self.cloudtrail.is_some_and(|c| self.format.get(row) == c)
    }

    /// Whether the row reads data: a GET/HEAD, or a read-only AWS call.
    #[inline]
    pub fn is_read(&self, row: usize) -> bool {
        self.flags[row] & flag::READ != 0
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
