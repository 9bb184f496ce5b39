//! Reading and writing categorical columns as dictionary ids.
//!
//! Enrichment and scoping work on ids, not strings: a value is derived once
//! per distinct id (a route per distinct path, a family per distinct user
//! agent) and rows are compared as `u32`s. [`Codes`] borrows a column's ids
//! when it can and copies them only when nulls must be spelled out.

use polars::prelude::*;

use super::builder::NULL_CODE;
use super::{Dictionary, categorical_from_codes};

/// The ids of a categorical column, `NULL` for nulls.
pub enum Codes<'a> {
    /// Every row is null.
    AllNull(usize),
    /// No row is null; the column's own buffer.
    Slice(&'a [u32]),
    /// The column's own buffer and validity mask.
    Masked(&'a [u32], &'a polars_arrow::bitmap::Bitmap),
    /// A copy with nulls spelled as [`Codes::NULL`].
    Owned(Vec<u32>),
    /// A one-byte column (see [`super::narrow`]) and the shared id of each
    /// of its codes.
    Narrow8(Narrow<'a, u8>),
    /// A two-byte column.
    Narrow16(Narrow<'a, u16>),
}

/// The codes of a narrow column, read as shared ids.
pub struct Narrow<'a, T> {
    codes: &'a [T],
    validity: Option<&'a polars_arrow::bitmap::Bitmap>,
    ids: Vec<u32>,
}

impl<'a, T: polars_arrow::types::NativeType + Into<u32>> Narrow<'a, T> {
    fn of<C>(cat: &'a CategoricalChunked<C>) -> PolarsResult<Narrow<'a, T>>
    where
        C: PolarsCategoricalType<Native = T>,
    {
        let phys = cat.physical();
        let arr = match phys.downcast_iter().next() {
            Some(arr) if phys.chunks().len() == 1 => arr,
            _ => polars_bail!(ComputeError: "{}: narrow column in several chunks", phys.name()),
        };
        Ok(Narrow {
            codes: arr.values().as_slice(),
            validity: arr.validity().filter(|v| v.unset_bits() > 0),
            ids: super::narrow::shared_ids(cat.get_mapping(), &Dictionary::global()),
        })
    }

    /// The shared ids of the codes that occur, ascending, below `ids`.
    ///
    /// The column's own dictionary is small, so occurrences are marked by
    /// narrow code straight from the buffer, without a lookup per row.
    fn distinct(&self, ids: usize) -> Vec<u32> {
        let mut seen = vec![false; self.ids.len()];
        match self.validity {
            None => self
                .codes
                .iter()
                .for_each(|&c| seen[c.into() as usize] = true),
            Some(valid) => {
                for (&c, ok) in self.codes.iter().zip(valid.iter()) {
                    seen[c.into() as usize] |= ok;
                }
            }
        }
        let used = seen.iter().zip(&self.ids).filter(|&(&s, _)| s);
        let mut out: Vec<u32> = used
            .map(|(_, &id)| id)
            .filter(|&id| (id as usize) < ids)
            .collect();
        out.sort_unstable();
        out
    }

    #[inline(always)]
    fn get(&self, row: usize) -> u32 {
        if self.validity.is_some_and(|v| !v.get_bit(row)) {
            return NULL_CODE;
        }
        self.ids[self.codes[row].into() as usize]
    }

    /// [`Codes::groups`] by the column's own codes: numbered in the order
    /// of their shared ids, they group rows in the same order, and their
    /// counters fit in a core's cache where one per shared id would not.
    /// `None` if the codes are not in that order.
    fn groups(&self, order: &[u32], ids: usize) -> Option<(Vec<u32>, Vec<u32>)> {
        if !self.ids.windows(2).all(|w| w[0] < w[1]) {
            return None;
        }
        // Codes whose shared id is `ids` or above are left out, as nulls.
        let n = self.ids.partition_point(|&id| (id as usize) < ids);
        let (starts, rows) = group_rows(order, n, |row| {
            let row = row as usize;
            let valid = self.validity.is_none_or(|v| v.get_bit(row));
            let c = self.codes[row].into() as usize;
            (valid && c < n).then_some(c)
        });
        // The start of each shared id's rows: that of the first own code
        // whose shared id is not below it.
        let mut offsets = Vec::with_capacity(ids + 1);
        let mut k = 0;
        for id in 0..=ids {
            while k < n && (self.ids[k] as usize) < id {
                k += 1;
            }
            offsets.push(starts[k]);
        }
        Some((offsets, rows))
    }
}

/// The rows of `order` grouped by `key` (below `keys`; `None` leaves a row
/// out), in `order` within each group, and the start of each key's group
/// among them: `keys + 1` starts, the last one past the end.
fn group_rows(
    order: &[u32],
    keys: usize,
    key: impl Fn(u32) -> Option<usize>,
) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; keys + 1];
    for k in order.iter().filter_map(|&row| key(row)) {
        starts[k + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut rows = vec![0u32; starts[keys] as usize];
    for &row in order {
        if let Some(k) = key(row) {
            rows[next[k] as usize] = row;
            next[k] += 1;
        }
    }
    (starts, rows)
}

impl<'a> Codes<'a> {
    /// The id standing for null.
    pub const NULL: u32 = NULL_CODE;

    /// The ids of categorical column `name` of `df`.
    pub fn of(df: &'a DataFrame, name: &str) -> PolarsResult<Codes<'a>> {
        let column = df.column(name)?;
        if is_null_scalar(column) {
            return Ok(Codes::AllNull(column.len()));
        }
        if let Ok(cat) = column.cat8() {
            return Ok(Codes::Narrow8(Narrow::of(cat)?));
        }
        if let Ok(cat) = column.cat16() {
            return Ok(Codes::Narrow16(Narrow::of(cat)?));
        }
        let phys = column.cat32()?.physical();
        let len = phys.len();
        if phys.null_count() == len {
            return Ok(Codes::AllNull(len));
        }
        if phys.null_count() == 0 {
            if let Ok(slice) = phys.cont_slice() {
                return Ok(Codes::Slice(slice));
            }
        }
        if phys.chunks().len() == 1 {
            if let Some(arr) = phys.downcast_iter().next() {
                if let Some(validity) = arr.validity() {
                    return Ok(Codes::Masked(arr.values().as_slice(), validity));
                }
            }
        }
        Ok(Codes::Owned(
            phys.iter().map(|c| c.unwrap_or(NULL_CODE)).collect(),
        ))
    }

    /// The id at `row`, or [`Codes::NULL`].
    ///
    /// Called for nearly every row by every stage after parsing; always
    /// inlined, so that in a loop over one column the branch on the variant
    /// is predicted and the lookup costs a load or two, not a call.
    #[inline(always)]
    pub fn get(&self, row: usize) -> u32 {
        match self {
            Codes::AllNull(_) => NULL_CODE,
            Codes::Slice(s) => s[row],
            Codes::Masked(values, validity) => {
                if validity.get_bit(row) {
                    values[row]
                } else {
                    NULL_CODE
                }
            }
            Codes::Owned(v) => v[row],
            Codes::Narrow8(n) => n.get(row),
            Codes::Narrow16(n) => n.get(row),
        }
    }

    /// Hints that the id at `row` is about to be read (see [`prefetch`]).
    #[inline(always)]
    pub fn prefetch(&self, row: usize) {
        match self {
            Codes::AllNull(_) => {}
            Codes::Slice(s) | Codes::Masked(s, _) => prefetch(s, row),
            Codes::Owned(v) => prefetch(v, row),
            Codes::Narrow8(n) => prefetch(n.codes, row),
            Codes::Narrow16(n) => prefetch(n.codes, row),
        }
    }

    /// The rows of `order` grouped by id, in `order` within each group, and
    /// the start of each id's group among them: `ids + 1` starts, ids from
    /// `ids` on and nulls left out. A one- or two-byte column is counted on
    /// its own codes.
    pub fn groups(&self, order: &[u32], ids: usize) -> (Vec<u32>, Vec<u32>) {
        let narrow = match self {
            Codes::Narrow8(n) => n.groups(order, ids),
            Codes::Narrow16(n) => n.groups(order, ids),
            _ => None,
        };
        narrow.unwrap_or_else(|| {
            group_rows(order, ids, |row| {
                let id = self.get(row as usize) as usize;
                (id < ids).then_some(id)
            })
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Codes::AllNull(n) => *n,
            Codes::Slice(s) => s.len(),
            Codes::Masked(s, _) => s.len(),
            Codes::Owned(v) => v.len(),
            Codes::Narrow8(n) => n.codes.len(),
            Codes::Narrow16(n) => n.codes.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every row is null.
    pub fn is_all_null(&self) -> bool {
        matches!(self, Codes::AllNull(_))
    }

    /// The distinct ids other than null, ascending. `ids` bounds the ids
    /// (the dictionary's length when the column was built).
    pub fn distinct(&self, ids: usize) -> Vec<u32> {
        match self {
            Codes::AllNull(_) => Vec::new(),
            Codes::Narrow8(n) => n.distinct(ids),
            Codes::Narrow16(n) => n.distinct(ids),
            Codes::Slice(codes) => present(codes.iter().copied(), ids),
            Codes::Owned(codes) => present(codes.iter().copied(), ids),
            Codes::Masked(codes, valid) => {
                let valid = codes.iter().zip(valid.iter()).filter(|&(_, ok)| ok);
                present(valid.map(|(&c, _)| c), ids)
            }
        }
    }

    /// A copy of the ids.
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            Codes::AllNull(n) => vec![NULL_CODE; *n],
            Codes::Slice(s) => s.to_vec(),
            Codes::Owned(v) => v.clone(),
            _ => (0..self.len()).map(|r| self.get(r)).collect(),
        }
    }
}

/// The ids below `ids` among `codes`, ascending.
fn present(codes: impl Iterator<Item = u32>, ids: usize) -> Vec<u32> {
    let mut seen = vec![false; ids];
    for c in codes {
        if let Some(slot) = seen.get_mut(c as usize) {
            *slot = true;
        }
    }
    (0..ids as u32).filter(|&c| seen[c as usize]).collect()
}

/// Hints to the processor that `values[i]` is about to be read, so that the
/// cache line is on its way while earlier rows are worked on. Rules walk an
/// identity's rows, which lie scattered through the frame: each read there
/// waits on memory, and a walk that asks a few rows ahead overlaps those
/// waits. A position out of range, or another architecture, does nothing.
#[inline(always)]
pub fn prefetch<T>(values: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(v) = values.get(i) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is only a hint: it reads nothing into the
        // program and cannot fault, and `v` is a valid reference anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((v as *const T).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (values, i);
}

/// Whether `column` is all nulls held as one scalar: reading it as an array
/// would allocate the array.
fn is_null_scalar(column: &Column) -> bool {
    column
        .as_scalar_column()
        .is_some_and(|s| s.scalar().is_null())
}

/// A categorical column named `name` from ids.
///
/// As narrow as its values allow; a column of nulls only is a scalar null
/// column (see [`super::narrow`], which finds both in one pass).
pub fn column_of(name: &str, codes: Vec<u32>, dict: &Dictionary) -> Column {
    categorical_from_codes(name, codes, dict)
}

/// A boolean column of `values`, without nulls.
///
/// Packs eight values per byte of the bitmap in one pass; Polars' builder,
/// fed one bool at a time, costs several times more on millions of rows.
pub fn bool_column(name: &str, values: &[bool]) -> BooleanChunked {
    let mut eights = values.chunks_exact(8);
    let mut bytes: Vec<u8> = eights
        .by_ref()
        .map(|eight| {
            // Eight 0/1 bytes; the multiply gathers bit 0 of each into the
            // top byte, first value lowest.
            let word = u64::from_le_bytes(std::array::from_fn(|i| u8::from(eight[i])));
            (word.wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
        })
        .collect();
    let rest = eights.remainder();
    if !rest.is_empty() {
        let bit = |(i, &b): (usize, &bool)| u8::from(b) << i;
        bytes.push(rest.iter().enumerate().map(bit).fold(0, |byte, b| byte | b));
    }
    let bits = polars_arrow::bitmap::Bitmap::from_u8_vec(bytes, values.len());
    let array = polars_arrow::array::BooleanArray::new(
        polars_arrow::datatypes::ArrowDataType::Boolean,
        bits,
        None,
    );
    BooleanChunked::with_chunk(name.into(), array)
}

/// A value derived once for every distinct id of a column, in parallel,
/// then read per row without locks.
pub struct ById<T> {
    values: Vec<T>,
    null: T,
}

impl<T: Copy + Send + Sync> ById<T> {
    /// Derives `f(id)` for every id used in `codes`; `null` stands for rows
    /// without a value. `ids` bounds the ids, as for [`Codes::distinct`].
    pub fn derive(codes: &Codes<'_>, ids: usize, null: T, f: impl Fn(u32) -> T + Sync) -> Self {
        ById::derive_with(codes, ids, null, || (), |(), code| f(code))
    }

    /// As [`ById::derive`], with a value of each worker thread's own, made
    /// by `init`, that `f` may keep a cache in.
    pub fn derive_with<S>(
        codes: &Codes<'_>,
        ids: usize,
        null: T,
        init: impl Fn() -> S + Sync + Send,
        f: impl Fn(&mut S, u32) -> T + Sync,
    ) -> Self {
        use rayon::prelude::*;
        let derived: Vec<(u32, T)> = codes
            .distinct(ids)
            .into_par_iter()
            .map_init(init, |state, code| (code, f(state, code)))
            .collect();
        let mut values = vec![null; ids];
        for (code, v) in derived {
            values[code as usize] = v;
        }
        ById { values, null }
    }

    /// A table holding `f(code, value)` for every id, on the calling thread
    /// (`null` for rows without a value).
    pub fn map<U: Copy>(&self, null: U, mut f: impl FnMut(u32, T) -> U) -> ById<U> {
        let values = self
            .values
            .iter()
            .enumerate()
            .map(|(code, &v)| f(code as u32, v))
            .collect();
        ById { values, null }
    }

    /// Hints that the value of `code` is about to be read: rows name their
    /// keys in no order, and a table of every path's values is larger than
    /// a core's cache.
    #[inline(always)]
    pub fn prefetch(&self, code: u32) {
        prefetch(&self.values, code as usize);
    }

    /// The value derived for `code`.
    #[inline]
    pub fn get(&self, code: u32) -> T {
        self.values.get(code as usize).copied().unwrap_or(self.null)
    }

    /// A categorical column holding, for each row of `keys` (the column the
    /// values were derived from), the id `part` takes from its key's value,
    /// written at its final width (see `frame::narrow::derived`).
    pub fn column(
        &self,
        name: &str,
        keys: &Codes<'_>,
        part: impl Fn(T) -> u32,
        dict: &Dictionary,
    ) -> Column {
        let per_key: Vec<u32> = self.values.iter().map(|&v| part(v)).collect();
        super::narrow::derived(name, keys, &per_key, dict)
    }
}

/// The values of a numeric column, borrowed from the frame when possible.
pub enum Values<'a, T: polars_arrow::types::NativeType> {
    AllNull(usize),
    Slice(&'a [T]),
    Masked(&'a [T], &'a polars_arrow::bitmap::Bitmap),
    Owned(Vec<Option<T>>),
}

impl<'a, T: polars_arrow::types::NativeType> Values<'a, T> {
    /// The values of numeric column `name` of `df`, of Polars type `P`.
    pub fn column<P>(df: &'a DataFrame, name: &str) -> PolarsResult<Values<'a, T>>
    where
        P: PolarsNumericType<Native = T>,
    {
        let column = df.column(name)?;
        if is_null_scalar(column) {
            return Ok(Values::AllNull(column.len()));
        }
        Ok(Values::of(column.as_materialized_series().unpack::<P>()?))
    }

    /// The values of a numeric chunked array.
    pub fn of<P>(ca: &'a ChunkedArray<P>) -> Values<'a, T>
    where
        P: PolarsNumericType<Native = T>,
    {
        let len = ca.len();
        if ca.null_count() == len {
            return Values::AllNull(len);
        }
        if ca.chunks().len() == 1 {
            if let Some(arr) = ca.downcast_iter().next() {
                return match arr.validity() {
                    Some(v) if ca.null_count() > 0 => Values::Masked(arr.values().as_slice(), v),
                    _ => Values::Slice(arr.values().as_slice()),
                };
            }
        }
        Values::Owned(ca.iter().collect())
    }

    /// Hints that the value at `row` is about to be read (see [`prefetch`]).
    #[inline(always)]
    pub fn prefetch(&self, row: usize) {
        match self {
            Values::AllNull(_) => {}
            Values::Slice(s) | Values::Masked(s, _) => prefetch(s, row),
            Values::Owned(v) => prefetch(v, row),
        }
    }

    /// The value at `row`. Always inlined, like [`Codes::get`]: rules call
    /// it for every row they visit.
    #[inline(always)]
    pub fn get(&self, row: usize) -> Option<T> {
        match self {
            Values::AllNull(_) => None,
            Values::Slice(s) => Some(s[row]),
            Values::Masked(s, v) => v.get_bit(row).then(|| s[row]),
            Values::Owned(v) => v[row],
        }
    }

    /// Whether every row is null.
    pub fn is_all_null(&self) -> bool {
        matches!(self, Values::AllNull(_))
    }
}

/// The values of a boolean column, borrowed from the frame when possible.
pub enum Bools<'a> {
    AllNull,
    Bits(
        &'a polars_arrow::bitmap::Bitmap,
        Option<&'a polars_arrow::bitmap::Bitmap>,
    ),
    Owned(Vec<Option<bool>>),
}

impl<'a> Bools<'a> {
    /// The values of boolean column `name` of `df`.
    pub fn column(df: &'a DataFrame, name: &str) -> PolarsResult<Bools<'a>> {
        let column = df.column(name)?;
        if is_null_scalar(column) {
            return Ok(Bools::AllNull);
        }
        Ok(Bools::of(column.bool()?))
    }

    /// The values of a boolean chunked array.
    pub fn of(ca: &'a BooleanChunked) -> Bools<'a> {
        if ca.null_count() == ca.len() {
            return Bools::AllNull;
        }
        match ca.downcast_iter().next() {
            Some(arr) if ca.chunks().len() == 1 => Bools::Bits(arr.values(), arr.validity()),
            _ => Bools::Owned(ca.iter().collect()),
        }
    }

    /// The value at `row`; `None` when null.
    #[inline]
    pub fn get(&self, row: usize) -> Option<bool> {
        match self {
            Bools::AllNull => None,
            Bools::Bits(values, validity) => {
                if validity.is_some_and(|v| !v.get_bit(row)) {
                    None
                } else {
                    Some(values.get_bit(row))
                }
            }
            Bools::Owned(v) => v[row],
        }
    }

    /// Whether the value at `row` is true (null counts as false).
    #[inline]
    pub fn is(&self, row: usize) -> bool {
        self.get(row) == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_columns_keep_every_value_in_order() {
        // Lengths around whole bytes, and a pattern that is not periodic in 8.
        for len in (0..=19).chain([64, 1001]) {
            let values: Vec<bool> = (0..len).map(|i| (i * i + i / 3) % 5 < 2).collect();
            let column = bool_column("b", &values);
            let back: Vec<bool> = column.iter().map(|v| v.expect("no nulls")).collect();
            assert_eq!(back, values, "length {len}");
        }
    }

    #[test]
    fn narrow_groups_are_the_groups_of_the_shared_ids() {
        let dict = Dictionary::global();
        let values: Vec<u32> = ["g-c", "g-a", "g-b", "g-d"]
            .iter()
            .map(|v| dict.intern(v))
            .collect();
        let rows: Vec<u32> = (0..40u32)
            .map(|i| match i % 7 {
                0 | 3 => NULL_CODE,
                k => values[k as usize % values.len()],
            })
            .collect();
        let df =
            DataFrame::new(rows.len(), vec![column_of("g", rows.clone(), &dict)]).expect("frame");
        let codes = Codes::of(&df, "g").expect("codes");
        // Rows in an order of their own, as a time order would give.
        let order: Vec<u32> = (0..40u32).map(|i| (i * 17) % 40).collect();
        let ids = dict.len();
        assert!(matches!(codes, Codes::Narrow8(_)));
        let (offsets, grouped) = codes.groups(&order, ids);
        assert_eq!(offsets.len(), ids + 1);
        for id in 0..ids as u32 {
            let want: Vec<u32> = order
                .iter()
                .copied()
                .filter(|&r| rows[r as usize] == id)
                .collect();
            let (a, b) = (
                offsets[id as usize] as usize,
                offsets[id as usize + 1] as usize,
            );
            assert_eq!(&grouped[a..b], &want[..], "id {id}");
        }
        assert_eq!(
            grouped.len(),
            rows.iter().filter(|&&c| c != NULL_CODE).count()
        );
        // Counted on shared ids, the same groups.
        assert_eq!(Codes::Slice(&rows).groups(&order, ids), (offsets, grouped));
    }

    #[test]
    fn prefetch_is_only_a_hint() {
        let values = [1u32, 2, 3];
        prefetch(&values, 1);
        prefetch(&values, 3);
        prefetch::<u64>(&[], 0);
        Codes::AllNull(2).prefetch(9);
        Codes::Slice(&values).prefetch(usize::MAX);
        Values::Slice(&values[..]).prefetch(7);
        assert_eq!(values, [1, 2, 3]);
    }

    #[test]
    fn distinct_ids_of_every_kind_of_column() {
        let dict = Dictionary::global();
        let ids: Vec<u32> = ["d-a", "d-b", "d-c"]
            .iter()
            .map(|v| dict.intern(v))
            .collect();
        let rows = vec![ids[2], NULL_CODE, ids[0], ids[2]];
        let mut want = vec![ids[0], ids[2]];
        want.sort_unstable();
        let narrow = DataFrame::new(4, vec![column_of("n", rows.clone(), &dict)]).expect("frame");
        assert_eq!(
            Codes::of(&narrow, "n").expect("codes").distinct(dict.len()),
            want
        );
        let validity =
            polars_arrow::bitmap::Bitmap::from_iter(rows.iter().map(|&c| c != NULL_CODE));
        assert_eq!(Codes::Masked(&rows, &validity).distinct(dict.len()), want);
        assert_eq!(Codes::Owned(rows.clone()).distinct(dict.len()), want);
        assert!(Codes::AllNull(4).distinct(dict.len()).is_empty());
    }
}
