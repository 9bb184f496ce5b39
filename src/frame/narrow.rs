//! Categorical columns one or two bytes wide where few values occur.
//!
//! Every text column is coded against one shared dictionary, whose ids need
//! 32 bits once it holds a few hundred thousand paths and addresses. Most
//! columns use a small part of it: a handful of methods, formats, outcomes
//! and client families, a few hundred routes and user agents. Such a column
//! gets its own dictionary of the values it uses, numbered in the order of
//! their shared ids, and one- or two-byte codes: 13 M rows of `method` take
//! 13 MB instead of 52. [`super::codes::Codes`] translates the narrow codes
//! back to shared ids, so later stages see one id space.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use super::Dictionary;
use super::builder::NULL_CODE;
use super::codes::Codes;

/// The shared ids used in a column, as a bitset with a running count, so
/// that the position of an id among the used ones is two reads away.
pub(super) struct Used {
    words: Vec<u64>,
    /// Used ids in the words before each word.
    before: Vec<u32>,
    count: usize,
}

/// How many bytes a column's codes take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Width {
    /// Its own dictionary of at most 255 values.
    One,
    /// Its own dictionary of at most 65,535 values.
    Two,
    /// The shared dictionary's ids.
    Shared,
}

impl Used {
    /// The ids in `codes` other than null; `ids` bounds them.
    pub(super) fn of(codes: &[u32], ids: usize) -> Used {
        let words = codes
            .par_chunks(1 << 20)
            .map(|part| Used::bits(part.iter().copied(), ids))
            .reduce_with(or)
            .unwrap_or_else(|| vec![0; ids.div_ceil(64)]);
        Used::from_words(words)
    }

    /// The ids in any of `lists` (each chunk's distinct values).
    pub(super) fn of_lists<'a>(lists: impl Iterator<Item = &'a [u32]>, ids: usize) -> Used {
        Used::from_words(Used::bits(lists.flatten().copied(), ids))
    }

    fn bits(codes: impl Iterator<Item = u32>, ids: usize) -> Vec<u64> {
        let mut words = vec![0u64; ids.div_ceil(64)];
        for c in codes {
            if let Some(w) = words.get_mut(c as usize / 64) {
                *w |= 1 << (c % 64);
            }
        }
        words
    }

    fn from_words(words: Vec<u64>) -> Used {
        let mut before = Vec::with_capacity(words.len());
        let mut count = 0u32;
        for w in &words {
            before.push(count);
            count += w.count_ones();
        }
        Used {
            words,
            before,
            count: count as usize,
        }
    }

    /// The narrowest width that holds every used id.
    pub(super) fn width(&self) -> Width {
        match CategoricalPhysical::smallest_physical(self.count) {
            Ok(CategoricalPhysical::U8) => Width::One,
            Ok(CategoricalPhysical::U16) => Width::Two,
            _ => Width::Shared,
        }
    }

    /// Position of used id `code` among the used ids, ascending.
    #[inline]
    pub(super) fn rank(&self, code: u32) -> u32 {
        let (w, bit) = (code as usize / 64, code % 64);
        self.before[w] + (self.words[w] & ((1u64 << bit) - 1)).count_ones()
    }

    /// The used ids, ascending.
    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| (w * 64 + bit) as u32)
        })
    }
}

fn or(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
    a
}

/// Tells apart the dictionaries of narrow columns; the names never reach an
/// output.
static SERIAL: AtomicU64 = AtomicU64::new(0);

/// A categorical column from shared ids ([`NULL_CODE`] for null), as narrow
/// as the number of distinct values allows.
pub(crate) fn column(name: &str, codes: Vec<u32>, dict: &Dictionary) -> Column {
    let used = Used::of(&codes, dict.len());
    if used.count == 0 {
        return Column::full_null(name.into(), codes.len(), dict.dtype());
    }
    let rank = |c: u32| {
        if c == NULL_CODE {
            None
        } else {
            Some(used.rank(c))
        }
    };
    match used.width() {
        Width::One => {
            let narrow = codes
                .par_iter()
                .map(|&c| rank(c).map_or(u8::MAX, |r| r as u8));
            let narrow: Vec<u8> = narrow.collect();
            drop(codes);
            own_column::<Categorical8Type>(name, narrow, u8::MAX, &used, dict)
        }
        Width::Two => {
            let narrow = codes
                .par_iter()
                .map(|&c| rank(c).map_or(u16::MAX, |r| r as u16));
            let narrow: Vec<u16> = narrow.collect();
            drop(codes);
            own_column::<Categorical16Type>(name, narrow, u16::MAX, &used, dict)
        }
        Width::Shared => {
            super::categorical_from_array(name, super::with_nulls(codes, NULL_CODE), dict)
        }
    }
}

/// A categorical column whose row `r` holds `per_key[keys.get(r)]`: an id
/// derived once per id of another column, such as the route of each path or
/// the client family of each user agent ([`NULL_CODE`] for none).
///
/// The values in use are the derived ids themselves, so the column's own
/// dictionary is known before any row is read, and each row is written once
/// at its final width instead of as a 4-byte id to be narrowed afterwards.
/// That holds only if `per_key` has values for ids that occur in `keys`, as
/// a [`super::codes::ById`] derived from `keys` has: a value no row uses
/// would become a category of the column.
pub(crate) fn derived(name: &str, keys: &Codes<'_>, per_key: &[u32], dict: &Dictionary) -> Column {
    let used = Used::of(per_key, dict.len());
    let rows = keys.len();
    if used.count == 0 {
        return Column::full_null(name.into(), rows, dict.dtype());
    }
    let shared = |r: usize| {
        per_key
            .get(keys.get(r) as usize)
            .copied()
            .unwrap_or(NULL_CODE)
    };
    match used.width() {
        Width::One => {
            let table = narrow_table(per_key, &used, u8::MAX, |rank| rank as u8);
            let codes = by_key(keys, &table, u8::MAX);
            own_column::<Categorical8Type>(name, codes, u8::MAX, &used, dict)
        }
        Width::Two => {
            let table = narrow_table(per_key, &used, u16::MAX, |rank| rank as u16);
            let codes = by_key(keys, &table, u16::MAX);
            own_column::<Categorical16Type>(name, codes, u16::MAX, &used, dict)
        }
        Width::Shared => column(name, (0..rows).into_par_iter().map(shared).collect(), dict),
    }
}

/// The narrow code of each key's derived id, `null` where it has none.
fn narrow_table<T: Copy>(per_key: &[u32], used: &Used, null: T, code: impl Fn(u32) -> T) -> Vec<T> {
    let rank = |v: u32| {
        if v == NULL_CODE {
            null
        } else {
            code(used.rank(v))
        }
    };
    per_key.iter().map(|&v| rank(v)).collect()
}

/// Each row's code from its key's entry in `table`.
fn by_key<T: Copy + Send + Sync>(keys: &Codes<'_>, table: &[T], null: T) -> Vec<T> {
    let code = |r: usize| table.get(keys.get(r) as usize).copied().unwrap_or(null);
    (0..keys.len()).into_par_iter().map(code).collect()
}

/// A categorical column holding `values[i]` (shared ids) over `sizes[i]`
/// rows each, such as the source and format of each chunk, written at its
/// final width without a copy of 4-byte ids.
pub(crate) fn repeated(name: &str, values: &[u32], sizes: &[usize], dict: &Dictionary) -> Column {
    let used = Used::of(values, dict.len());
    let rows = sizes.iter().sum();
    if used.count == 0 {
        return Column::full_null(name.into(), rows, dict.dtype());
    }
    let runs = values.iter().zip(sizes);
    let rank = |c: u32| (c != NULL_CODE).then(|| used.rank(c));
    match used.width() {
        Width::One => {
            let codes = expand(runs, rows, |c| rank(c).map_or(u8::MAX, |r| r as u8));
            own_column::<Categorical8Type>(name, codes, u8::MAX, &used, dict)
        }
        Width::Two => {
            let codes = expand(runs, rows, |c| rank(c).map_or(u16::MAX, |r| r as u16));
            own_column::<Categorical16Type>(name, codes, u16::MAX, &used, dict)
        }
        Width::Shared => column(name, expand(runs, rows, |c| c), dict),
    }
}

/// `code(v)` repeated `n` times for each run `(v, n)`.
fn expand<'a, T: Copy>(
    runs: impl Iterator<Item = (&'a u32, &'a usize)>,
    rows: usize,
    code: impl Fn(u32) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(rows);
    for (&v, &n) in runs {
        out.resize(out.len() + n, code(v));
    }
    out
}

/// A categorical column of narrow `codes` (`null` for null) over its own
/// dictionary of the `used` shared ids, numbered by [`Used::rank`].
pub(super) fn own_column<C>(
    name: &str,
    mut codes: Vec<C::Native>,
    null: C::Native,
    used: &Used,
    dict: &Dictionary,
) -> Column
where
    C: PolarsCategoricalType,
{
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let cats = Categories::new(
        format!("{name}#{serial}").into(),
        "breachscope".into(),
        C::physical(),
    );
    let mapping = cats.mapping();
    for id in used.ids() {
        // A fresh mapping numbers values 0, 1, 2, ... in insertion order,
        // which is `Used::rank`'s order; the width was chosen to fit.
        let _ = mapping.insert_cat(dict.text(id).unwrap_or(""));
    }
    let validity = codes.contains(&null).then(|| {
        let mask = Bitmap::from_trusted_len_iter(codes.iter().map(|&c| c != null));
        // Slots under the mask still hold a valid code.
        codes
            .iter_mut()
            .filter(|c| **c == null)
            .for_each(|c| *c = C::Native::default());
        mask
    });
    let phys = ChunkedArray::<C::PolarsPhysical>::with_chunk(
        name.into(),
        PrimitiveArray::from_vec(codes).with_validity(validity),
    );
    // SAFETY: every code is the rank of a value inserted above.
    let cats = unsafe {
        CategoricalChunked::<C>::from_cats_and_dtype_unchecked(
            phys,
            DataType::from_categories(cats),
        )
    };
    cats.into_series().into_column()
}

/// The shared id of every narrow code of a column's own dictionary.
pub(crate) fn shared_ids(mapping: &Arc<CategoricalMapping>, dict: &Dictionary) -> Vec<u32> {
    (0..mapping.num_cats_upper_bound())
        .map(|i| {
            mapping
                .cat_to_str(i as u32)
                .map_or(NULL_CODE, |s| dict.intern(s))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::codes::Codes;

    #[test]
    fn few_values_get_one_byte_and_read_back_as_shared_ids() {
        let dict = Dictionary::global();
        let (get, post) = (dict.intern("GET"), dict.intern("POST"));
        let codes = vec![get, NULL_CODE, post, get];
        let col = column("method", codes.clone(), &dict);
        assert!(col.cat8().is_ok(), "{:?}", col.dtype());
        assert_eq!(col.null_count(), 1);
        let df = DataFrame::new(4, vec![col]).expect("frame");
        let back = Codes::of(&df, "method").expect("codes");
        assert_eq!(back.to_vec(), codes);
        let text = df.column("method").expect("col").cast(&DataType::String);
        let text = text.expect("cast");
        let values: Vec<_> = text.str().expect("str").iter().collect();
        assert_eq!(values, [Some("GET"), None, Some("POST"), Some("GET")]);
    }

    #[test]
    fn hundreds_of_values_get_two_bytes() {
        let dict = Dictionary::global();
        let codes: Vec<u32> = (0..300)
            .map(|i| dict.intern(&format!("/narrow-test/{i}")))
            .collect();
        let col = column("route", codes.clone(), &dict);
        assert!(col.cat16().is_ok(), "{:?}", col.dtype());
        let df = DataFrame::new(300, vec![col]).expect("frame");
        assert_eq!(Codes::of(&df, "route").expect("codes").to_vec(), codes);
    }

    #[test]
    fn more_than_two_bytes_of_values_keep_shared_ids() {
        let dict = Dictionary::global();
        let codes: Vec<u32> = (0..70_000)
            .map(|i| dict.intern(&format!("/wide-test/{i}")))
            .chain([NULL_CODE])
            .collect();
        let col = column("path", codes.clone(), &dict);
        assert!(col.cat32().is_ok(), "{:?}", col.dtype());
        let df = DataFrame::new(codes.len(), vec![col]).expect("frame");
        assert_eq!(Codes::of(&df, "path").expect("codes").to_vec(), codes);
    }
}
