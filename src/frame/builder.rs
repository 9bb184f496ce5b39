//! Typed column builders that parsers fill, one row at a time.
//!
//! A parser turns one line or record into an [`EventRef`], a stack value of
//! borrowed byte slices, and pushes it into an [`EventBuilder`]. The builder
//! appends to plain vectors: no heap object per row. Repeated strings (IPs,
//! user agents, paths, principals) are interned first in a small dictionary
//! of the chunk, then each distinct value once in the Polars categorical
//! dictionary shared by all chunks, so a row costs four bytes per text
//! column whatever the length of the text.
//!
//! Columns are allocated lazily: a CloudTrail-only column stays empty while a
//! chunk of nginx lines is parsed, and is padded with nulls only when the
//! chunk is finished. Nulls are kept as sentinels while building and become a
//! validity mask when the frame is assembled.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use polars::prelude::{CategoricalMapping, Categories, DataType};

/// Code of a null in a categorical column while building.
pub(crate) const NULL_CODE: u32 = u32::MAX;
/// Null sentinel of the status column while building.
pub(crate) const NULL_STATUS: i32 = i32::MIN;
/// Null sentinel of the bytes column while building.
pub(crate) const NULL_BYTES: u64 = u64::MAX;
/// Null sentinel of boolean columns while building.
pub(crate) const NULL_BOOL: u8 = 2;

/// Text columns that are dictionary-encoded (categorical).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cat {
    Ip,
    ForwardedFor,
    Principal,
    Credential,
    Service,
    Method,
    Path,
    Query,
    ErrorCode,
    Outcome,
    UserAgent,
    Referer,
    Action,
    ResourceType,
    ResourceId,
    MintedCredential,
    Account,
    Region,
    IdentityType,
    EventType,
}

impl Cat {
    /// Every categorical column, in frame order.
    pub const ALL: [Cat; 20] = [
        Cat::Ip,
        Cat::ForwardedFor,
        Cat::Principal,
        Cat::Credential,
        Cat::Service,
        Cat::Method,
        Cat::Path,
        Cat::Query,
        Cat::ErrorCode,
        Cat::Outcome,
        Cat::UserAgent,
        Cat::Referer,
        Cat::Action,
        Cat::ResourceType,
        Cat::ResourceId,
        Cat::MintedCredential,
        Cat::Account,
        Cat::Region,
        Cat::IdentityType,
        Cat::EventType,
    ];

    /// Number of categorical columns.
    pub const COUNT: usize = Cat::ALL.len();

    /// The frame column this maps to.
    pub fn name(self) -> &'static str {
        use super::columns as c;
        match self {
            Cat::Ip => c::IP,
            Cat::ForwardedFor => c::FORWARDED_FOR,
            Cat::Principal => c::PRINCIPAL,
            Cat::Credential => c::CREDENTIAL,
            Cat::Service => c::SERVICE,
            Cat::Method => c::METHOD,
            Cat::Path => c::PATH,
            Cat::Query => c::QUERY,
            Cat::ErrorCode => c::ERROR_CODE,
            Cat::Outcome => c::OUTCOME,
            Cat::UserAgent => c::USER_AGENT,
            Cat::Referer => c::REFERER,
            Cat::Action => c::ACTION,
            Cat::ResourceType => c::RESOURCE_TYPE,
            Cat::ResourceId => c::RESOURCE_ID,
            Cat::MintedCredential => c::MINTED_CREDENTIAL,
            Cat::Account => c::ACCOUNT,
            Cat::Region => c::REGION,
            Cat::IdentityType => c::IDENTITY_TYPE,
            Cat::EventType => c::EVENT_TYPE,
        }
    }
}

/// Boolean columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    Mfa,
    ReadOnly,
    InstanceCredential,
}

impl Flag {
    /// Every boolean column, in frame order.
    pub const ALL: [Flag; 3] = [Flag::Mfa, Flag::ReadOnly, Flag::InstanceCredential];

    /// The frame column this maps to.
    pub fn name(self) -> &'static str {
        use super::columns as c;
        match self {
            Flag::Mfa => c::MFA,
            Flag::ReadOnly => c::READ_ONLY,
            Flag::InstanceCredential => c::INSTANCE_CREDENTIAL,
        }
    }
}

/// The outcome of an event, derived from its status or error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    /// The value stored in the `outcome` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    /// Outcome of an HTTP status: 401 and 403 are denials, other 4xx and 5xx
    /// failures.
    pub fn from_status(status: i32) -> Outcome {
        match status {
            401 | 403 => Outcome::Denied,
            400..=599 => Outcome::Failure,
            _ => Outcome::Success,
        }
    }

    /// Outcome of a CloudTrail `errorCode`: access errors are denials.
    pub fn from_error_code(code: &str) -> Outcome {
        let denied = code.contains("AccessDenied")
            || code.contains("UnauthorizedOperation")
            || code.contains("Unauthorized")
            || code.contains("Forbidden")
            || code.contains("InvalidClientTokenId")
            || code.contains("SignatureDoesNotMatch")
            || code.contains("ExpiredToken");
        if denied {
            Outcome::Denied
        } else {
            Outcome::Failure
        }
    }
}

/// One event as a parser sees it: text borrowed from the input wherever
/// possible, owned only where the input had to be decoded (JSON escapes) or
/// a value was derived.
///
/// `line` is relative to the chunk being parsed (1-based); the frame adds the
/// chunk's offset when chunks are assembled.
#[derive(Default)]
pub struct EventRef<'a> {
    pub ts: i64,
    pub line: u64,
    cats: [Option<Cow<'a, [u8]>>; Cat::COUNT],
    flags: [Option<bool>; 3],
    pub status: Option<i32>,
    pub bytes: Option<u64>,
    pub request_id: Option<Cow<'a, [u8]>>,
}

impl<'a> EventRef<'a> {
    /// An empty event for line (or record) `line`.
    pub fn at_line(line: u64) -> EventRef<'a> {
        EventRef {
            line,
            ..Default::default()
        }
    }

    /// Sets a text column; empty values and `-` stay null.
    #[inline]
    pub fn set(&mut self, col: Cat, value: &'a [u8]) {
        if !value.is_empty() && value != b"-" {
            self.cats[col as usize] = Some(Cow::Borrowed(value));
        }
    }

    /// Sets a text column from a `str`.
    #[inline]
    pub fn set_str(&mut self, col: Cat, value: &'a str) {
        self.set(col, value.as_bytes());
    }

    /// Sets a text column from borrowed or owned text.
    #[inline]
    pub fn set_cow(&mut self, col: Cat, value: Cow<'a, str>) {
        match value {
            Cow::Borrowed(s) => self.set_str(col, s),
            Cow::Owned(s) if !s.is_empty() && s != "-" => {
                self.cats[col as usize] = Some(Cow::Owned(s.into_bytes()));
            }
            Cow::Owned(_) => {}
        }
    }

    /// The value of a text column, if set.
    #[inline]
    pub fn get(&self, col: Cat) -> Option<&[u8]> {
        self.cats[col as usize].as_deref()
    }

    /// Sets a boolean column.
    #[inline]
    pub fn set_flag(&mut self, flag: Flag, value: bool) {
        self.flags[flag as usize] = Some(value);
    }

    /// The value of a boolean column, if set.
    #[inline]
    pub fn flag(&self, flag: Flag) -> Option<bool> {
        self.flags[flag as usize]
    }

    /// Sets the request id from borrowed or owned text.
    pub fn set_request_id(&mut self, value: Cow<'a, str>) {
        if !value.is_empty() && value != "-" {
            self.request_id = Some(match value {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            });
        }
    }
}

/// The dictionary shared by the categorical columns of every chunk.
///
/// Holding it keeps the Polars mapping alive: Polars drops a mapping nobody
/// references, and category ids must stay valid until the frame is built.
#[derive(Clone)]
pub struct Dictionary {
    dtype: DataType,
    mapping: Arc<CategoricalMapping>,
}

impl Dictionary {
    /// The process-wide dictionary (the Polars global categories).
    pub fn global() -> Dictionary {
        let dtype = DataType::from_categories(Categories::global());
        let mapping = match &dtype {
            DataType::Categorical(_, mapping) => mapping.clone(),
            _ => unreachable!("from_categories always returns a Categorical dtype"),
        };
        Dictionary { dtype, mapping }
    }

    /// The categorical dtype whose ids this dictionary hands out.
    pub fn dtype(&self) -> &DataType {
        &self.dtype
    }

    /// The text of id `code`.
    pub fn text(&self, code: u32) -> Option<&str> {
        if code == NULL_CODE {
            None
        } else {
            self.mapping.cat_to_str(code)
        }
    }

    /// Upper bound of the ids handed out so far.
    pub fn len(&self) -> usize {
        self.mapping.num_cats_upper_bound()
    }

    /// Whether no id was handed out yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Id of `value`, if it was ever interned.
    pub fn lookup(&self, value: &str) -> Option<u32> {
        self.mapping.get_cat(value)
    }

    /// Id of `value`, inserting it when new.
    pub fn intern(&self, value: &str) -> u32 {
        // Only more than 2^32 distinct strings can fail; a null is the honest
        // answer then, and memory runs out long before.
        self.mapping.insert_cat(value).unwrap_or(NULL_CODE)
    }
}

/// A set of distinct byte strings, each numbered in the order first seen
/// and carrying a value of type `T`.
struct Interner<T> {
    table: HashTable<u32>,
    bytes: Vec<u8>,
    /// End of each value in `bytes`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
    values: Vec<T>,
}

impl<T: Copy> Interner<T> {
    fn new() -> Interner<T> {
        Interner {
            table: HashTable::new(),
            bytes: Vec::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            values: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn key(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// Number of `key` (whose hash is `hash`), adding it with the value
    /// `make` gives when new.
    #[inline]
    fn id_or_insert(&mut self, hash: u64, key: &[u8], make: impl FnOnce() -> T) -> u32 {
        if let Some(&id) = self.table.find(hash, |&id| same_bytes(self.key(id), key)) {
            return id;
        }
        let id = self.ends.len() as u32;
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
        self.hashes.push(hash);
        self.values.push(make());
        let hashes = &self.hashes;
        self.table.insert_unique(hash, id, |&i| hashes[i as usize]);
        id
    }

    fn clear(&mut self) {
        self.table.clear();
        self.bytes.clear();
        self.ends.clear();
        self.hashes.clear();
        self.values.clear();
    }
}

/// Byte equality tuned for the short values of log fields: up to 16 bytes
/// are compared as two overlapping words each, without a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    match n {
        0 => true,
        1..=7 => a == b,
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Hashes interned keys; fixed, so the hash of a chunk's value can be
/// reused by the per-thread cache.
fn hash_key(key: &[u8]) -> u64 {
    foldhash::fast::FixedState::default().hash_one(key)
}

/// Values a thread remembers before starting its cache afresh: bounds its
/// memory on inputs with tens of millions of distinct paths.
const RESOLVED_LIMIT: usize = 4 << 20;

thread_local! {
    /// Per parser thread, the shared dictionary's id of every value the
    /// thread has met. Most values of a chunk (clients, accounts) were seen
    /// in earlier chunks, and this table is far smaller and closer than the
    /// shared concurrent one, which is only asked for values new to the
    /// thread. Ids in the shared dictionary never change, so an entry stays
    /// valid for the life of the process.
    static RESOLVED: std::cell::RefCell<Vec<Interner<u32>>> =
        std::cell::RefCell::new((0..Cat::COUNT).map(|_| Interner::new()).collect());
}

/// The distinct values of one column within one chunk, numbered in the
/// order first seen.
///
/// Parsers intern every text value of every row, so this is the hottest
/// path of the parse. A chunk holds a few thousand lines, so the table and
/// its bytes stay in the core's cache; each distinct value is resolved to
/// the shared dictionary once, when the chunk is finished.
struct LocalDict {
    set: Interner<()>,
}

impl LocalDict {
    fn new() -> LocalDict {
        LocalDict {
            set: Interner::new(),
        }
    }

    fn value(&self, id: u32) -> &[u8] {
        self.set.key(id)
    }

    /// Local id of `value`, inserting it when new.
    #[inline]
    fn intern(&mut self, value: &[u8]) -> u32 {
        self.set.id_or_insert(hash_key(value), value, || ())
    }

    /// The shared dictionary's id of every local id, through the thread's
    /// cache.
    fn resolve(&self, col: usize, dict: &Dictionary, scratch: &mut String) -> Vec<u32> {
        RESOLVED.with_borrow_mut(|caches| {
            let cache = &mut caches[col];
            if cache.len() > RESOLVED_LIMIT {
                cache.clear();
            }
            (0..self.set.len() as u32)
                .map(|id| {
                    let (key, hash) = (self.set.key(id), self.set.hashes[id as usize]);
                    let slot = cache.id_or_insert(hash, key, || dict.intern(text_of(key, scratch)));
                    cache.values[slot as usize]
                })
                .collect()
        })
    }
}

/// A categorical column under construction. Codes are local to the chunk
/// until [`CatBuilder::finish`] maps them to the shared dictionary.
struct CatBuilder {
    codes: Vec<u32>,
    local: LocalDict,
    /// Local id of the previous value: consecutive rows often repeat one
    /// (same client, same method), and a compare is cheaper than a hash.
    last: Option<u32>,
}

impl CatBuilder {
    fn new() -> CatBuilder {
        CatBuilder {
            codes: Vec::new(),
            local: LocalDict::new(),
            last: None,
        }
    }

    #[inline]
    fn push(&mut self, row: usize, value: &[u8], capacity: usize) {
        if self.codes.capacity() == 0 {
            self.codes.reserve(capacity.max(row + 1));
        }
        self.pad(row);
        let id = match self.last {
            Some(id) if same_bytes(self.local.value(id), value) => id,
            _ => self.local.intern(value),
        };
        self.last = Some(id);
        self.codes.push(id);
    }

    #[inline]
    fn pad(&mut self, rows: usize) {
        if self.codes.len() < rows {
            self.codes.resize(rows, NULL_CODE);
        }
    }

    /// Pads to `rows` and resolves the local ids to shared dictionary ids.
    fn finish(
        mut self,
        col: usize,
        rows: usize,
        dict: &Dictionary,
        scratch: &mut String,
    ) -> ChunkCodes {
        if self.codes.is_empty() {
            return ChunkCodes::default();
        }
        self.pad(rows);
        let ids = self.local.resolve(col, dict, scratch);
        let local = if ids.len() < usize::from(LOCAL_NULL) {
            let narrow = |&c: &u32| {
                if c == NULL_CODE { LOCAL_NULL } else { c as u16 }
            };
            LocalCodes::Narrow(self.codes.iter().map(narrow).collect())
        } else {
            LocalCodes::Wide(shrunk(self.codes))
        };
        ChunkCodes { local, ids }
    }
}

/// Null among [`LocalCodes::Narrow`] codes.
pub(crate) const LOCAL_NULL: u16 = u16::MAX;

/// One chunk's codes of a text column: ids local to the chunk, and the
/// shared dictionary's id of each. Chunks wait in memory until every input
/// is parsed, and a chunk rarely has 65,535 distinct values in a column, so
/// most local ids take two bytes where shared ones would take four; frame
/// assembly maps them straight to the frame's codes.
#[derive(Clone, Default)]
pub struct ChunkCodes {
    pub local: LocalCodes,
    /// Shared id of each local id.
    pub ids: Vec<u32>,
}

/// Chunk-local ids, one per row.
#[derive(Clone)]
pub enum LocalCodes {
    /// [`LOCAL_NULL`] for null.
    Narrow(Vec<u16>),
    /// [`NULL_CODE`] for null; for chunks with more distinct values.
    Wide(Vec<u32>),
}

impl Default for LocalCodes {
    fn default() -> LocalCodes {
        LocalCodes::Narrow(Vec::new())
    }
}

impl ChunkCodes {
    /// Whether no row of the chunk set the column.
    pub fn is_empty(&self) -> bool {
        match &self.local {
            LocalCodes::Narrow(v) => v.is_empty(),
            LocalCodes::Wide(v) => v.is_empty(),
        }
    }

    /// The shared id of `row`, [`NULL_CODE`] for null.
    pub fn shared(&self, row: usize) -> u32 {
        let local = match &self.local {
            LocalCodes::Narrow(v) if v[row] == LOCAL_NULL => return NULL_CODE,
            LocalCodes::Narrow(v) => u32::from(v[row]),
            LocalCodes::Wide(v) if v[row] == NULL_CODE => return NULL_CODE,
            LocalCodes::Wide(v) => v[row],
        };
        self.ids[local as usize]
    }
}

/// Valid UTF-8 is used as is; any other byte is kept visible as `\xNN`, so a
/// line with a stray byte is neither dropped nor silently altered.
pub fn text_of<'s>(value: &'s [u8], scratch: &'s mut String) -> &'s str {
    match std::str::from_utf8(value) {
        Ok(s) => s,
        Err(_) => {
            scratch.clear();
            escape_invalid_utf8(value, scratch);
            scratch
        }
    }
}

/// Appends `bytes` to `out`, writing invalid UTF-8 bytes as `\xNN`.
pub fn escape_invalid_utf8(mut bytes: &[u8], out: &mut String) {
    use std::fmt::Write;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                // The prefix was just validated.
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    let _ = write!(out, "\\x{b:02X}");
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// Columns of one parsed chunk, ready to be assembled into a frame.
pub struct ChunkColumns {
    pub rows: usize,
    pub ts: Vec<i64>,
    pub line: Vec<u64>,
    pub cats: Vec<ChunkCodes>,
    pub flags: Vec<Vec<u8>>,
    pub status: Vec<i32>,
    pub bytes: Vec<u64>,
    pub request_id: StrColumn,
}

/// A plain (not dictionary-encoded) text column: one byte buffer plus end
/// offsets, for values that rarely repeat such as request ids.
#[derive(Default)]
pub struct StrColumn {
    pub data: String,
    /// End offset of each row in `data`; a null has the same end as the row
    /// before it and a 0 in `valid`.
    pub ends: Vec<u32>,
    pub valid: Vec<u8>,
}

impl StrColumn {
    fn pad(&mut self, rows: usize) {
        let end = self.ends.last().copied().unwrap_or(0);
        while self.ends.len() < rows {
            self.ends.push(end);
            self.valid.push(0);
        }
    }

    fn push(&mut self, row: usize, value: &str) {
        self.pad(row);
        self.data.push_str(value);
        self.ends.push(self.data.len() as u32);
        self.valid.push(1);
    }

    /// Whether no row has a value.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Value of `row`, if not null.
    pub fn value(&self, row: usize) -> Option<&str> {
        if self.valid[row] == 0 {
            return None;
        }
        let start = if row == 0 {
            0
        } else {
            self.ends[row - 1] as usize
        };
        self.data.get(start..self.ends[row] as usize)
    }
}

/// Builds the columns of one chunk.
pub struct EventBuilder {
    dict: Dictionary,
    ts: Vec<i64>,
    line: Vec<u64>,
    cats: Vec<CatBuilder>,
    flags: Vec<Vec<u8>>,
    status: Vec<i32>,
    bytes: Vec<u64>,
    request_id: StrColumn,
    scratch: String,
    /// Rows expected, to size a column when it is first set.
    capacity: usize,
}

impl EventBuilder {
    /// A builder interning into `dict`.
    pub fn new(dict: Dictionary) -> EventBuilder {
        EventBuilder::with_capacity(dict, 0)
    }

    /// A builder interning into `dict`, sized for about `rows` rows.
    pub fn with_capacity(dict: Dictionary, rows: usize) -> EventBuilder {
        EventBuilder {
            capacity: rows,
            dict,
            ts: Vec::with_capacity(rows),
            line: Vec::with_capacity(rows),
            cats: (0..Cat::COUNT).map(|_| CatBuilder::new()).collect(),
            flags: vec![Vec::new(); Flag::ALL.len()],
            status: Vec::new(),
            bytes: Vec::new(),
            request_id: StrColumn::default(),
            scratch: String::new(),
        }
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> usize {
        self.ts.len()
    }

    /// Appends one event.
    pub fn push(&mut self, ev: &EventRef<'_>) {
        let row = self.ts.len();
        for (col, value) in self.cats.iter_mut().zip(ev.cats.iter()) {
            if let Some(v) = value {
                col.push(row, v, self.capacity);
            }
        }
        for (col, value) in self.flags.iter_mut().zip(ev.flags.iter()) {
            if let Some(v) = value {
                pad(col, row, NULL_BOOL);
                col.push(u8::from(*v));
            }
        }
        if let Some(s) = ev.status {
            pad(&mut self.status, row, NULL_STATUS);
            self.status.push(s);
        }
        if let Some(b) = ev.bytes {
            pad(&mut self.bytes, row, NULL_BYTES);
            self.bytes.push(b);
        }
        if let Some(id) = &ev.request_id {
            let text = text_of(id, &mut self.scratch);
            self.request_id.push(row, text);
        }
        self.ts.push(ev.ts);
        self.line.push(ev.line);
    }

    /// Pads every column to the row count and hands the vectors over.
    pub fn finish(mut self) -> ChunkColumns {
        let rows = self.ts.len();
        let (dict, scratch) = (&self.dict, &mut self.scratch);
        let cats = self
            .cats
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.finish(i, rows, dict, scratch))
            .collect();
        for f in &mut self.flags {
            if !f.is_empty() {
                pad(f, rows, NULL_BOOL);
            }
        }
        if !self.status.is_empty() {
            pad(&mut self.status, rows, NULL_STATUS);
        }
        if !self.bytes.is_empty() {
            pad(&mut self.bytes, rows, NULL_BYTES);
        }
        if !self.request_id.is_empty() {
            self.request_id.pad(rows);
        }
        ChunkColumns {
            rows,
            ts: shrunk(self.ts),
            line: shrunk(self.line),
            cats,
            flags: self.flags,
            status: self.status,
            bytes: self.bytes,
            request_id: self.request_id,
        }
    }
}

/// `v` without the spare capacity its estimated size left: chunks wait in
/// memory until every input is parsed.
fn shrunk<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

#[inline]
fn pad<T: Copy>(v: &mut Vec<T>, rows: usize, null: T) {
    if v.len() < rows {
        v.resize(rows, null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_columns_stay_empty_and_late_ones_are_padded() {
        let mut b = EventBuilder::new(Dictionary::global());
        let mut ev = EventRef {
            ts: 1,
            line: 1,
            ..Default::default()
        };
        ev.set(Cat::Ip, b"10.0.0.1");
        b.push(&ev);
        let mut ev = EventRef {
            ts: 2,
            line: 2,
            ..Default::default()
        };
        ev.set(Cat::Ip, b"10.0.0.1");
        ev.set(Cat::Principal, b"alice");
        ev.status = Some(200);
        b.push(&ev);
        let cols = b.finish();
        assert_eq!(cols.rows, 2);
        let ip = &cols.cats[Cat::Ip as usize];
        assert_eq!(ip.shared(0), ip.shared(1));
        assert_eq!(cols.cats[Cat::Principal as usize].shared(0), NULL_CODE);
        assert_ne!(cols.cats[Cat::Principal as usize].shared(1), NULL_CODE);
        assert!(cols.cats[Cat::Account as usize].is_empty());
        assert_eq!(cols.status, vec![NULL_STATUS, 200]);
    }

    #[test]
    fn chunks_agree_on_the_shared_id_of_a_value() {
        let dict = Dictionary::global();
        let build = |values: &[&[u8]]| {
            let mut b = EventBuilder::new(dict.clone());
            for (i, v) in values.iter().enumerate() {
                let mut ev = EventRef::at_line(i as u64 + 1);
                ev.set(Cat::Path, v);
                b.push(&ev);
            }
            let path = &b.finish().cats[Cat::Path as usize];
            (0..values.len())
                .map(|r| path.shared(r))
                .collect::<Vec<_>>()
        };
        let a = build(&[b"/a", b"/b", b"/a", b"/bad\xff"]);
        let b = build(&[b"/b", b"/c", b"/a"]);
        assert_eq!(a[0], a[2]);
        assert_ne!(a[0], a[1]);
        assert_eq!((b[0], b[2]), (a[1], a[0]));
        assert_eq!(dict.text(b[1]), Some("/c"));
        assert_eq!(dict.text(a[3]), Some("/bad\\xFF"));
    }

    #[test]
    fn a_chunk_with_more_distinct_values_than_two_bytes_hold() {
        let dict = Dictionary::global();
        let mut b = EventBuilder::new(dict.clone());
        let n = 70_000;
        for i in 0..n {
            let mut ev = EventRef::at_line(i as u64 + 1);
            let value = format!("/chunk-wide/{i}");
            ev.set(Cat::Path, value.as_bytes());
            b.push(&ev);
        }
        let cols = b.finish();
        let path = &cols.cats[Cat::Path as usize];
        assert!(matches!(path.local, LocalCodes::Wide(_)));
        for i in [0, 65_534, 65_535, n - 1] {
            assert_eq!(
                dict.text(path.shared(i)),
                Some(format!("/chunk-wide/{i}").as_str())
            );
        }
    }

    #[test]
    fn short_values_compare_byte_for_byte() {
        let text = b"0123456789abcdefghij";
        for n in 0..=text.len() {
            let a = &text[..n];
            // A copy elsewhere in memory: equal bytes, not the same slice.
            let copy = a.to_vec();
            assert!(same_bytes(a, &copy));
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!same_bytes(a, &b), "length {n}, byte {i}");
            }
            assert!(!same_bytes(a, &text[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn dash_and_empty_are_null() {
        let mut ev = EventRef::default();
        ev.set(Cat::Principal, b"-");
        ev.set(Cat::Referer, b"");
        assert!(ev.get(Cat::Principal).is_none());
        assert!(ev.get(Cat::Referer).is_none());
    }

    #[test]
    fn invalid_utf8_is_escaped_not_dropped() {
        let mut s = String::new();
        assert_eq!(text_of(b"caf\xe9 ok", &mut s), "caf\\xE9 ok");
        let mut s = String::new();
        assert_eq!(text_of("café".as_bytes(), &mut s), "café");
    }

    #[test]
    fn outcome_from_status_and_error_code() {
        assert_eq!(Outcome::from_status(200), Outcome::Success);
        assert_eq!(Outcome::from_status(302), Outcome::Success);
        assert_eq!(Outcome::from_status(401), Outcome::Denied);
        assert_eq!(Outcome::from_status(404), Outcome::Failure);
        assert_eq!(Outcome::from_error_code("AccessDenied"), Outcome::Denied);
        assert_eq!(Outcome::from_error_code("NoSuchEntity"), Outcome::Failure);
    }
}
