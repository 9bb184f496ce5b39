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
}

impl<'a> Codes<'a> {
    /// The id standing for null.
    pub const NULL: u32 = NULL_CODE;

    /// The ids of categorical column `name` of `df`.
    pub fn of(df: &'a DataFrame, name: &str) -> PolarsResult<Codes<'a>> {
        let column = df.column(name)?;
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
    #[inline]
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
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Codes::AllNull(n) => *n,
            Codes::Slice(s) => s.len(),
            Codes::Masked(s, _) => s.len(),
            Codes::Owned(v) => v.len(),
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
        let mut seen = vec![false; ids];
        for row in 0..self.len() {
            if let Some(slot) = seen.get_mut(self.get(row) as usize) {
                *slot = true;
            }
        }
        (0..ids as u32).filter(|&c| seen[c as usize]).collect()
    }

    /// A copy of the ids.
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            Codes::AllNull(n) => vec![NULL_CODE; *n],
            Codes::Slice(s) => s.to_vec(),
            Codes::Masked(..) => (0..self.len()).map(|r| self.get(r)).collect(),
            Codes::Owned(v) => v.clone(),
        }
    }
}

/// A categorical column named `name` from ids.
pub fn column_of(name: &str, codes: Vec<u32>, dict: &Dictionary) -> Column {
    if codes.iter().all(|&c| c == NULL_CODE) {
        return Series::full_null(name.into(), codes.len(), dict.dtype()).into_column();
    }
    categorical_from_codes(name, codes, dict)
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
        use rayon::prelude::*;
        let derived: Vec<(u32, T)> = codes
            .distinct(ids)
            .into_par_iter()
            .map(|code| (code, f(code)))
            .collect();
        let mut values = vec![null; ids];
        for (code, v) in derived {
            values[code as usize] = v;
        }
        ById { values, null }
    }

    /// The value derived for `code`.
    #[inline]
    pub fn get(&self, code: u32) -> T {
        self.values.get(code as usize).copied().unwrap_or(self.null)
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

    /// The value at `row`.
    #[inline]
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
