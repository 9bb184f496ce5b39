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

use crate::bytes::same_bytes;

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
    /// Bit `i` set when `cats[i]` holds a value: a line sets a handful of
    /// the twenty, and only those are visited when it is pushed.
    present: u32,
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
            self.present |= 1 << col as u32;
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
                self.present |= 1 << col as u32;
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

/// The positions of the bits set in `bits`, lowest first.
#[inline]
fn set_bits(mut bits: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            i
        })
    })
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

/// A set of distinct byte strings, each numbered in the order first seen.
struct Interner {
    table: HashTable<u32>,
    bytes: Vec<u8>,
    /// End of each value in `bytes`.
    ends: Vec<usize>,
    hashes: Vec<u64>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            table: HashTable::new(),
            bytes: Vec::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
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

    /// Number of `key` (whose hash is `hash`), adding it when new.
    #[inline]
    fn id_or_insert(&mut self, hash: u64, key: &[u8]) -> u32 {
        if let Some(&id) = self.table.find(hash, |&id| same_bytes(self.key(id), key)) {
            return id;
        }
        let id = self.ends.len() as u32;
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
        self.hashes.push(hash);
        let hashes = &self.hashes;
        self.table.insert_unique(hash, id, |&i| hashes[i as usize]);
        id
    }

    /// Forgets every value, keeping the memory for the next chunk.
    fn clear(&mut self) {
        self.table.clear();
        self.bytes.clear();
        self.ends.clear();
        self.hashes.clear();
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

/// How many values ahead of the one being resolved a chunk's values ask for
/// their slot of the thread's cache.
const RESOLVE_AHEAD: usize = 8;

/// Longest value a [`Resolved`] entry holds in place.
const INLINE: usize = 16;

/// One value of a [`ResolvedCache`] and its shared id. Values of up to
/// [`INLINE`] bytes (addresses, account names, methods) are held in the
/// entry itself, so a lookup reads one entry of the table and nothing else;
/// longer ones keep their offset into the cache's byte store.
#[derive(Clone, Copy)]
struct Resolved {
    /// The value, zero-padded; for a long value, its offset (8 bytes LE).
    key: [u8; INLINE],
    len: u32,
    id: u32,
}

impl Resolved {
    fn new(value: &[u8], long: &mut Vec<u8>, id: u32) -> Resolved {
        let mut key = [0; INLINE];
        if value.len() <= INLINE {
            key[..value.len()].copy_from_slice(value);
        } else {
            key[..8].copy_from_slice(&(long.len() as u64).to_le_bytes());
            long.extend_from_slice(value);
        }
        Resolved {
            key,
            len: value.len() as u32,
            id,
        }
    }

    fn value<'s>(&'s self, long: &'s [u8]) -> &'s [u8] {
        let len = self.len as usize;
        if len <= INLINE {
            &self.key[..len]
        } else {
            let start = self.offset();
            &long[start..start + len]
        }
    }

    /// Where a long value starts in the cache's byte store.
    fn offset(&self) -> usize {
        u64::from_le_bytes(self.key[..8].try_into().unwrap_or([0; 8])) as usize
    }

    #[inline]
    fn is(&self, value: &[u8], long: &[u8]) -> bool {
        self.len as usize == value.len() && same_bytes(self.value(long), value)
    }
}

/// Per parser thread and column, the shared dictionary's id of each value
/// the thread has met.
///
/// An open-addressing table with linear probing, at most half full, rather
/// than a `HashTable`: a chunk's distinct values are resolved in one run
/// whose hashes are all known up front, and the table is far larger than a
/// core's cache (257,000 paths), so each lookup used to wait on memory for
/// its entry. Here the home slot of a value is known from its hash alone,
/// and [`ResolvedCache::prefetch`] asks for it a few values ahead.
struct ResolvedCache {
    /// Power-of-two many slots; an empty one has tag 0.
    slots: Vec<Slot>,
    len: usize,
    /// Values longer than [`INLINE`] bytes.
    long: Vec<u8>,
    /// Values held before starting afresh ([`RESOLVED_LIMIT`]).
    limit: usize,
}

/// One slot of a [`ResolvedCache`].
#[derive(Clone, Copy)]
struct Slot {
    /// The value's hash with the low bit set, so that no hash is 0.
    tag: u64,
    entry: Resolved,
}

impl Slot {
    const EMPTY: Slot = Slot {
        tag: 0,
        entry: Resolved {
            key: [0; INLINE],
            len: 0,
            id: 0,
        },
    };
}

/// Slots of a new [`ResolvedCache`].
const FIRST_SLOTS: usize = 1 << 10;

impl ResolvedCache {
    fn new() -> ResolvedCache {
        ResolvedCache::with_limit(RESOLVED_LIMIT)
    }

    fn with_limit(limit: usize) -> ResolvedCache {
        ResolvedCache {
            slots: vec![Slot::EMPTY; FIRST_SLOTS],
            len: 0,
            long: Vec::new(),
            limit,
        }
    }

    /// The first slot a value of hash `hash` may be in.
    fn home(&self, hash: u64) -> usize {
        (hash | 1) as usize & (self.slots.len() - 1)
    }

    /// Asks for the home slot of a value of hash `hash`, which is about to
    /// be looked up.
    #[inline(always)]
    fn prefetch(&self, hash: u64) {
        super::codes::prefetch(&self.slots, self.home(hash));
    }

    /// Asks for the bytes of the value in the home slot of `hash`, when it
    /// is the value of that hash and held out of line: its slot was asked
    /// for earlier and has arrived by now.
    #[inline(always)]
    fn prefetch_long(&self, hash: u64) {
        let slot = &self.slots[self.home(hash)];
        if slot.tag == hash | 1 && slot.entry.len as usize > INLINE {
            super::codes::prefetch(&self.long, slot.entry.offset());
        }
    }

    /// The shared id of `value` (whose hash is `hash`), asking `make` for it
    /// when the thread has not met the value yet.
    #[inline]
    fn id_of(&mut self, hash: u64, value: &[u8], make: impl FnOnce() -> u32) -> u32 {
        let tag = hash | 1;
        let mut i = self.home(hash);
        loop {
            let slot = &self.slots[i];
            if slot.tag == 0 {
                break;
            }
            if slot.tag == tag && slot.entry.is(value, &self.long) {
                return slot.entry.id;
            }
            i = (i + 1) & (self.slots.len() - 1);
        }
        // Emptied before the new value is stored: a long one goes into the
        // byte store that emptying clears.
        if self.len >= self.limit {
            self.clear();
        }
        let entry = Resolved::new(value, &mut self.long, make());
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        self.put(tag, entry);
        entry.id
    }

    /// Puts an entry known to be absent into the first empty slot from its
    /// home.
    fn put(&mut self, tag: u64, entry: Resolved) {
        let mut i = self.home(tag);
        while self.slots[i].tag != 0 {
            i = (i + 1) & (self.slots.len() - 1);
        }
        self.slots[i] = Slot { tag, entry };
        self.len += 1;
    }

    /// Doubles the slots; tags keep the hashes, so nothing is hashed again.
    fn grow(&mut self) {
        let doubled = vec![Slot::EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.tag != 0) {
            self.put(slot.tag, slot.entry);
        }
    }

    /// Forgets every value: bounds the memory of inputs with tens of
    /// millions of distinct values.
    fn clear(&mut self) {
        self.slots = vec![Slot::EMPTY; FIRST_SLOTS];
        self.len = 0;
        self.long.clear();
    }
}

thread_local! {
    /// Per parser thread, the shared dictionary's id of every value the
    /// thread has met. Most values of a chunk (clients, accounts) were seen
    /// in earlier chunks, and this table is far smaller and closer than the
    /// shared concurrent one, which is only asked for values new to the
    /// thread. Ids in the shared dictionary never change, so an entry stays
    /// valid for the life of the process.
    static RESOLVED: std::cell::RefCell<Vec<ResolvedCache>> =
        std::cell::RefCell::new((0..Cat::COUNT).map(|_| ResolvedCache::new()).collect());
}

/// The distinct values of one column within one chunk, numbered in the
/// order first seen.
///
/// Parsers intern every text value of every row, so this is the hottest
/// path of the parse. A chunk holds a few thousand lines, so the table and
/// its bytes stay in the core's cache; each distinct value is resolved to
/// the shared dictionary once, when the chunk is finished.
struct LocalDict {
    set: Interner,
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
        self.set.id_or_insert(hash_key(value), value)
    }

    /// The shared dictionary's id of every local id, through the thread's
    /// cache.
    fn resolve(&self, col: usize, dict: &Dictionary, scratch: &mut String) -> Vec<u32> {
        RESOLVED.with_borrow_mut(|caches| {
            let cache = &mut caches[col];
            let hashes = &self.set.hashes;
            (0..self.set.len())
                .map(|id| {
                    // The slot of a value a few ahead, and the bytes of one
                    // nearer whose slot has arrived: see ResolvedCache.
                    if let Some(&ahead) = hashes.get(id + RESOLVE_AHEAD) {
                        cache.prefetch(ahead);
                    }
                    if let Some(&near) = hashes.get(id + RESOLVE_AHEAD / 2) {
                        cache.prefetch_long(near);
                    }
                    let (key, hash) = (self.set.key(id as u32), hashes[id]);
                    cache.id_of(hash, key, || dict.intern(text_of(key, scratch)))
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

    /// Pads to `rows`, resolves the local ids to shared dictionary ids and
    /// hands over a copy of the codes, two bytes each where they fit; the
    /// builder is left empty for the next chunk.
    fn finish(
        &mut self,
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
            LocalCodes::Wide(self.codes.clone())
        };
        self.codes.clear();
        self.local.set.clear();
        self.last = None;
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
#[derive(Clone, Default)]
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

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
        self.valid.clear();
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
    cols: Box<Buffers>,
    /// Rows expected, to size a column when it is first set.
    capacity: usize,
}

/// The growing columns of an [`EventBuilder`].
///
/// A parser thread keeps the buffers of its last chunk and builds the next
/// one in them: finishing a chunk copies each column out at its exact size,
/// so the buffers (and the chunk-local hash tables) are written again while
/// still in the core's cache, instead of being freed to the system and
/// faulted in afresh, zeroed page by page, for every chunk.
struct Buffers {
    ts: Vec<i64>,
    line: Vec<u64>,
    cats: Vec<CatBuilder>,
    flags: Vec<Vec<u8>>,
    status: Vec<i32>,
    bytes: Vec<u64>,
    request_id: StrColumn,
    scratch: String,
}

/// Rows above which a builder's buffers are dropped rather than kept for
/// the thread's next chunk: a whole CloudTrail document can hold millions
/// of records, and its buffers are not worth keeping.
const SPARE_ROWS: usize = 1 << 18;

thread_local! {
    /// The buffers of the thread's last finished chunk.
    static SPARE: std::cell::Cell<Option<Box<Buffers>>> = const { std::cell::Cell::new(None) };
}

impl Buffers {
    fn new() -> Buffers {
        Buffers {
            ts: Vec::new(),
            line: Vec::new(),
            cats: (0..Cat::COUNT).map(|_| CatBuilder::new()).collect(),
            flags: vec![Vec::new(); Flag::ALL.len()],
            status: Vec::new(),
            bytes: Vec::new(),
            request_id: StrColumn::default(),
            scratch: String::new(),
        }
    }

    /// The thread's spare buffers, or new ones.
    fn take() -> Box<Buffers> {
        SPARE.take().unwrap_or_else(|| Box::new(Buffers::new()))
    }

    /// Empties the buffers and keeps them for the thread's next chunk.
    fn give_back(mut self: Box<Buffers>) {
        if self.ts.capacity() > SPARE_ROWS {
            return;
        }
        // The category builders were emptied as they were finished.
        self.ts.clear();
        self.line.clear();
        self.flags.iter_mut().for_each(Vec::clear);
        self.status.clear();
        self.bytes.clear();
        self.request_id.clear();
        SPARE.set(Some(self));
    }
}

impl EventBuilder {
    /// A builder interning into `dict`.
    pub fn new(dict: Dictionary) -> EventBuilder {
        EventBuilder::with_capacity(dict, 0)
    }

    /// A builder interning into `dict`, sized for about `rows` rows.
    pub fn with_capacity(dict: Dictionary, rows: usize) -> EventBuilder {
        let mut cols = Buffers::take();
        cols.ts.reserve(rows);
        cols.line.reserve(rows);
        EventBuilder {
            capacity: rows,
            dict,
            cols,
        }
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> usize {
        self.cols.ts.len()
    }

    /// Appends one event.
    pub fn push(&mut self, ev: &EventRef<'_>) {
        let c = &mut self.cols;
        let row = c.ts.len();
        for i in set_bits(ev.present) {
            if let Some(v) = &ev.cats[i] {
                c.cats[i].push(row, v, self.capacity);
            }
        }
        for (col, value) in c.flags.iter_mut().zip(ev.flags.iter()) {
            if let Some(v) = value {
                pad(col, row, NULL_BOOL);
                col.push(u8::from(*v));
            }
        }
        if let Some(s) = ev.status {
            pad(&mut c.status, row, NULL_STATUS);
            c.status.push(s);
        }
        if let Some(b) = ev.bytes {
            pad(&mut c.bytes, row, NULL_BYTES);
            c.bytes.push(b);
        }
        if let Some(id) = &ev.request_id {
            let text = text_of(id, &mut c.scratch);
            c.request_id.push(row, text);
        }
        c.ts.push(ev.ts);
        c.line.push(ev.line);
    }

    /// Pads every column to the row count and hands over a copy of each,
    /// keeping the buffers for the thread's next chunk.
    pub fn finish(self) -> ChunkColumns {
        let mut c = self.cols;
        let rows = c.ts.len();
        let dict = &self.dict;
        let Buffers { cats, scratch, .. } = &mut *c;
        let cats = cats
            .iter_mut()
            .enumerate()
            .map(|(i, b)| b.finish(i, rows, dict, scratch))
            .collect();
        for f in c.flags.iter_mut().filter(|f| !f.is_empty()) {
            pad(f, rows, NULL_BOOL);
        }
        if !c.status.is_empty() {
            pad(&mut c.status, rows, NULL_STATUS);
        }
        if !c.bytes.is_empty() {
            pad(&mut c.bytes, rows, NULL_BYTES);
        }
        if !c.request_id.is_empty() {
            c.request_id.pad(rows);
        }
        let out = ChunkColumns {
            rows,
            ts: c.ts.clone(),
            line: c.line.clone(),
            cats,
            flags: c.flags.clone(),
            status: c.status.clone(),
            bytes: c.bytes.clone(),
            request_id: c.request_id.clone(),
        };
        c.give_back();
        out
    }
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
    fn a_chunk_built_in_reused_buffers_holds_only_its_own_rows() {
        let dict = Dictionary::global();
        let mut first = EventBuilder::new(dict.clone());
        for i in 0..3 {
            let mut ev = EventRef::at_line(i + 1);
            ev.set(Cat::Principal, b"alice");
            ev.set_flag(Flag::Mfa, true);
            ev.status = Some(200);
            ev.set_request_id("req-1".into());
            first.push(&ev);
        }
        assert_eq!(first.finish().rows, 3);
        // Same thread: this builder gets the buffers the first one left.
        let mut second = EventBuilder::new(dict.clone());
        let mut ev = EventRef::at_line(7);
        ev.set(Cat::Ip, b"10.0.0.9");
        second.push(&ev);
        let cols = second.finish();
        assert_eq!((cols.rows, cols.ts.len(), cols.line), (1, 1, vec![7]));
        assert!(cols.cats[Cat::Principal as usize].is_empty());
        assert!(cols.status.is_empty() && cols.request_id.is_empty());
        assert!(cols.flags.iter().all(Vec::is_empty));
        let ip = &cols.cats[Cat::Ip as usize];
        assert_eq!(ip.ids.len(), 1);
        assert_eq!(dict.text(ip.shared(0)), Some("10.0.0.9"));
    }

    #[test]
    fn the_thread_cache_tells_values_either_side_of_the_inline_length_apart() {
        let mut cache = ResolvedCache::new();
        let values: [&[u8]; 5] = [
            b"0123456789abcdef",
            b"0123456789abcdeg",
            b"0123456789abcdef0",
            b"0123456789abcdef1",
            b"",
        ];
        for (id, v) in values.iter().enumerate() {
            assert_eq!(cache.id_of(hash_key(v), v, || id as u32), id as u32);
        }
        for (id, v) in values.iter().enumerate() {
            let again = cache.id_of(hash_key(v), v, || panic!("{v:?} was forgotten"));
            assert_eq!(again, id as u32);
        }
    }

    #[test]
    fn the_thread_cache_keeps_every_value_as_it_grows() {
        let mut cache = ResolvedCache::new();
        let values: Vec<String> = (0..20_000).map(|i| format!("/api/v1/items/{i}")).collect();
        for (id, v) in values.iter().enumerate() {
            let v = v.as_bytes();
            assert_eq!(cache.id_of(hash_key(v), v, || id as u32), id as u32);
        }
        assert!(cache.slots.len() >= 2 * values.len());
        for (id, v) in values.iter().enumerate() {
            let v = v.as_bytes();
            cache.prefetch(hash_key(v));
            cache.prefetch_long(hash_key(v));
            let again = cache.id_of(hash_key(v), v, || panic!("{v:?} was forgotten"));
            assert_eq!(again, id as u32);
        }
        cache.clear();
        assert_eq!(cache.id_of(hash_key(b"x"), b"x", || 7), 7);
    }

    #[test]
    fn the_thread_cache_starts_afresh_at_its_limit() {
        let mut cache = ResolvedCache::with_limit(3);
        let values: Vec<String> = (0..10)
            .map(|i| format!("a value longer than inline {i}"))
            .collect();
        for (id, v) in values.iter().enumerate() {
            let v = v.as_bytes();
            assert_eq!(cache.id_of(hash_key(v), v, || id as u32), id as u32);
            // The value just stored is found again, whatever was forgotten.
            assert_eq!(cache.id_of(hash_key(v), v, || panic!("lost")), id as u32);
            assert!(cache.len <= 3);
        }
        // The first values were forgotten: asked for again.
        let first = values[0].as_bytes();
        assert_eq!(cache.id_of(hash_key(first), first, || 99), 99);
    }

    #[test]
    fn borrowed_and_owned_values_are_both_pushed() {
        let mut ev = EventRef::at_line(1);
        ev.set(Cat::Ip, b"10.0.0.1");
        ev.set_cow(Cat::Principal, Cow::Owned("alice".to_string()));
        ev.set_cow(Cat::Referer, Cow::Owned("-".to_string()));
        let mut b = EventBuilder::new(Dictionary::global());
        b.push(&ev);
        let cols = b.finish();
        let text = |c: Cat| {
            Dictionary::global()
                .text(cols.cats[c as usize].shared(0))
                .map(str::to_string)
        };
        assert_eq!(text(Cat::Ip).as_deref(), Some("10.0.0.1"));
        assert_eq!(text(Cat::Principal).as_deref(), Some("alice"));
        assert!(cols.cats[Cat::Referer as usize].is_empty());
        assert!(cols.cats[Cat::Method as usize].is_empty());
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
