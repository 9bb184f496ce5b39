//! Frame stage: the parsed chunks of every input become one Polars frame.
//!
//! The frame has one row per event and the columns listed in [`columns`], in
//! that order; every later stage is a columnar query over it. Text columns
//! are categorical (dictionary-encoded, shared dictionary), `ts` is
//! `Datetime(ns, UTC)`, `line` the 1-based line or record number in
//! `source`. Rows keep input order (inputs sorted by path, lines in file
//! order), which is the same whatever the thread count.

mod builder;
pub mod codes;
pub mod columns;

use polars::prelude::*;
use rayon::prelude::*;

pub use builder::{
    Cat, ChunkColumns, Dictionary, EventBuilder, EventRef, Flag, Outcome, StrColumn,
    escape_invalid_utf8, text_of,
};
use builder::{NULL_BOOL, NULL_BYTES, NULL_CODE, NULL_STATUS};

/// Where a parsed chunk came from.
#[derive(Clone, Copy, Debug)]
pub struct ChunkOrigin {
    /// Index into the list of source paths.
    pub source: usize,
    /// Name of the parser that produced it.
    pub format: &'static str,
    /// Lines (or records) of the same input before this chunk.
    pub line_base: u64,
}

/// Builds the event frame from parsed chunks, in the order given.
///
/// Each column is concatenated once into one contiguous buffer and wrapped
/// without a further copy; nulls become a validity bitmap. Columns are
/// built in parallel.
pub fn assemble(
    mut chunks: Vec<(ChunkOrigin, ChunkColumns)>,
    sources: &[String],
    dict: &Dictionary,
) -> PolarsResult<DataFrame> {
    let rows: usize = chunks.iter().map(|(_, c)| c.rows).sum();
    let sizes: Vec<usize> = chunks.iter().map(|(_, c)| c.rows).collect();
    let source_codes: Vec<u32> = chunks
        .iter()
        .map(|(o, _)| dict.intern(&sources[o.source]))
        .collect();
    let format_codes: Vec<u32> = chunks.iter().map(|(o, _)| dict.intern(o.format)).collect();
    let line_bases: Vec<u64> = chunks.iter().map(|(o, _)| o.line_base).collect();

    // Move every column's parts out of the chunks, so columns can be built
    // on different threads.
    let ts: Vec<Vec<i64>> = chunks
        .iter_mut()
        .map(|(_, c)| std::mem::take(&mut c.ts))
        .collect();
    let line: Vec<Vec<u64>> = chunks
        .iter_mut()
        .map(|(_, c)| std::mem::take(&mut c.line))
        .collect();
    let status: Vec<Vec<i32>> = chunks
        .iter_mut()
        .map(|(_, c)| std::mem::take(&mut c.status))
        .collect();
    let bytes: Vec<Vec<u64>> = chunks
        .iter_mut()
        .map(|(_, c)| std::mem::take(&mut c.bytes))
        .collect();
    let request_ids: Vec<StrColumn> = chunks
        .iter_mut()
        .map(|(_, c)| std::mem::take(&mut c.request_id))
        .collect();
    let cats: Vec<Vec<Vec<u32>>> = (0..Cat::COUNT)
        .map(|i| {
            chunks
                .iter_mut()
                .map(|(_, c)| std::mem::take(&mut c.cats[i]))
                .collect()
        })
        .collect();
    let flags: Vec<Vec<Vec<u8>>> = (0..Flag::ALL.len())
        .map(|i| {
            chunks
                .iter_mut()
                .map(|(_, c)| std::mem::take(&mut c.flags[i]))
                .collect()
        })
        .collect();
    drop(chunks);

    type Job<'a> = Box<dyn FnOnce() -> Column + Send + 'a>;
    let mut jobs: Vec<Job<'_>> = vec![
        Box::new(|| {
            let ts = concat(ts, &sizes, 0);
            Int64Chunked::from_vec(columns::TS.into(), ts)
                .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                .into_column()
        }),
        Box::new(|| categorical_from_codes(columns::SOURCE, repeat(&source_codes, &sizes), dict)),
        Box::new(|| {
            let mut all = Vec::with_capacity(rows);
            for (part, base) in line.into_iter().zip(&line_bases) {
                all.extend(part.into_iter().map(|l| l + base));
            }
            UInt64Chunked::from_vec(columns::LINE.into(), all).into_column()
        }),
        Box::new(|| categorical_from_codes(columns::FORMAT, repeat(&format_codes, &sizes), dict)),
    ];
    let mut cat_jobs: Vec<Option<Job<'_>>> = Vec::new();
    for (cat, parts) in Cat::ALL.into_iter().zip(cats) {
        let sizes = &sizes;
        cat_jobs.push(Some(Box::new(move || {
            categorical(cat, rows, parts, sizes, dict)
        })));
    }
    let mut status = Some(status);
    let mut bytes = Some(bytes);
    let mut request_ids = Some(request_ids);
    for (cat, job) in Cat::ALL.into_iter().zip(cat_jobs.iter_mut()) {
        if let Some(j) = job.take() {
            jobs.push(j);
        }
        let sizes = &sizes;
        if cat == Cat::Query {
            let parts = status.take().unwrap_or_default();
            jobs.push(Box::new(move || {
                nullable(columns::STATUS, parts, sizes, NULL_STATUS).into_column::<Int32Type>()
            }));
        }
        if cat == Cat::Outcome {
            let parts = bytes.take().unwrap_or_default();
            jobs.push(Box::new(move || {
                nullable(columns::BYTES, parts, sizes, NULL_BYTES).into_column::<UInt64Type>()
            }));
        }
        if cat == Cat::Referer {
            let parts = request_ids.take().unwrap_or_default();
            jobs.push(Box::new(move || request_id_column(parts, sizes)));
        }
    }
    for (flag, parts) in Flag::ALL.into_iter().zip(flags) {
        let sizes = &sizes;
        jobs.push(Box::new(move || flag_column(flag, parts, sizes)));
    }
    let out: Vec<Column> = jobs.into_par_iter().map(|job| job()).collect();
    DataFrame::new(rows, out)
}

/// Concatenates parts, filling parts that were never set with `null`.
fn concat<T: Copy>(parts: Vec<Vec<T>>, sizes: &[usize], null: T) -> Vec<T> {
    let mut out = Vec::with_capacity(sizes.iter().sum());
    for (part, &n) in parts.into_iter().zip(sizes) {
        if part.is_empty() {
            out.resize(out.len() + n, null);
        } else {
            out.extend_from_slice(&part);
        }
    }
    out
}

/// One value per chunk, repeated over the chunk's rows.
fn repeat(values: &[u32], sizes: &[usize]) -> Vec<u32> {
    let mut out = Vec::with_capacity(sizes.iter().sum());
    for (&v, &n) in values.iter().zip(sizes) {
        out.resize(out.len() + n, v);
    }
    out
}

/// A primitive array whose `null` sentinels become a validity mask.
struct Nullable<T: polars_arrow::types::NativeType> {
    name: &'static str,
    array: polars_arrow::array::PrimitiveArray<T>,
}

impl<T: polars_arrow::types::NativeType> Nullable<T> {
    fn into_column<P>(self) -> Column
    where
        P: PolarsNumericType<Native = T>,
    {
        ChunkedArray::<P>::with_chunk(self.name.into(), self.array).into_column()
    }
}

fn nullable<T: polars_arrow::types::NativeType + PartialEq>(
    name: &'static str,
    parts: Vec<Vec<T>>,
    sizes: &[usize],
    null: T,
) -> Nullable<T> {
    Nullable {
        name,
        array: with_nulls(concat(parts, sizes, null), null),
    }
}

fn with_nulls<T: polars_arrow::types::NativeType + PartialEq>(
    values: Vec<T>,
    null: T,
) -> polars_arrow::array::PrimitiveArray<T> {
    let validity = values.contains(&null).then(|| {
        polars_arrow::bitmap::Bitmap::from_trusted_len_iter(values.iter().map(|v| *v != null))
    });
    polars_arrow::array::PrimitiveArray::from_vec(values).with_validity(validity)
}

fn categorical(
    cat: Cat,
    rows: usize,
    parts: Vec<Vec<u32>>,
    sizes: &[usize],
    dict: &Dictionary,
) -> Column {
    if parts.iter().all(Vec::is_empty) {
        // Never set in any chunk: all nulls, with no codes to copy.
        return Series::full_null(cat.name().into(), rows, dict.dtype()).into_column();
    }
    categorical_from_codes(cat.name(), concat(parts, sizes, NULL_CODE), dict)
}

pub(crate) fn categorical_from_codes(name: &str, codes: Vec<u32>, dict: &Dictionary) -> Column {
    let phys = UInt32Chunked::with_chunk(name.into(), with_nulls(codes, NULL_CODE));
    // SAFETY: every code was handed out by `dict`, whose mapping is the one
    // in `dict.dtype()`, and nulls are masked above.
    let cats =
        unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(phys, dict.dtype().clone()) };
    cats.into_series().into_column()
}

fn flag_column(flag: Flag, parts: Vec<Vec<u8>>, sizes: &[usize]) -> Column {
    let rows = sizes.iter().sum();
    if parts.iter().all(Vec::is_empty) {
        return Series::full_null(flag.name().into(), rows, &DataType::Boolean).into_column();
    }
    let values = concat(parts, sizes, NULL_BOOL);
    BooleanChunked::from_iter_options(
        flag.name().into(),
        values.iter().map(|&v| (v != NULL_BOOL).then_some(v == 1)),
    )
    .into_column()
}

fn request_id_column(parts: Vec<StrColumn>, sizes: &[usize]) -> Column {
    let rows: usize = sizes.iter().sum();
    if parts.iter().all(StrColumn::is_empty) {
        return Series::full_null(columns::REQUEST_ID.into(), rows, &DataType::String)
            .into_column();
    }
    let iter = parts.iter().zip(sizes).flat_map(|(col, &n)| {
        (0..n).map(move |row| if col.is_empty() { None } else { col.value(row) })
    });
    StringChunked::from_iter_options(columns::REQUEST_ID.into(), iter).into_column()
}

/// The frame as SQL sees it: categorical columns read as plain strings, so
/// `LIKE`, `lower()` and friends work on them. The cast is lazy: only the
/// columns a query touches are converted.
pub fn sql_view(frame: DataFrame) -> LazyFrame {
    let casts: Vec<Expr> = frame
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Categorical(..)))
        .map(|c| col(c.name().clone()).cast(DataType::String))
        .collect();
    frame.lazy().with_columns(casts)
}

/// An empty frame with the event schema, for inputs that yield nothing.
pub fn empty(dict: &Dictionary) -> PolarsResult<DataFrame> {
    assemble(Vec::new(), &[], dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_chunks_with_offsets_and_nulls() {
        let dict = Dictionary::global();
        let mut a = EventBuilder::new(dict.clone());
        let mut ev = {
            let mut e = EventRef::at_line(1);
            e.ts = 1_000;
            e
        };
        ev.set(Cat::Ip, b"10.0.0.1");
        ev.status = Some(200);
        a.push(&ev);
        let mut b = EventBuilder::new(dict.clone());
        let mut ev = {
            let mut e = EventRef::at_line(2);
            e.ts = 2_000;
            e
        };
        ev.set(Cat::Account, b"123");
        ev.set_flag(Flag::ReadOnly, true);
        b.push(&ev);
        let chunks = vec![
            (
                ChunkOrigin {
                    source: 0,
                    format: "combined",
                    line_base: 0,
                },
                a.finish(),
            ),
            (
                ChunkOrigin {
                    source: 1,
                    format: "cloudtrail",
                    line_base: 10,
                },
                b.finish(),
            ),
        ];
        let df = assemble(chunks, &["a.log".into(), "b.json".into()], &dict).expect("frame");
        assert_eq!(df.height(), 2);
        let line: Vec<_> = df
            .column(columns::LINE)
            .expect("line")
            .u64()
            .expect("u64")
            .into_no_null_iter()
            .collect();
        assert_eq!(line, [1, 12]);
        let ip = df
            .column(columns::IP)
            .expect("ip")
            .cast(&DataType::String)
            .expect("cast");
        assert_eq!(ip.str().expect("str").get(0), Some("10.0.0.1"));
        assert_eq!(ip.str().expect("str").get(1), None);
        let status = df.column(columns::STATUS).expect("status");
        assert_eq!(status.i32().expect("i32").get(1), None);
        let source = df
            .column(columns::SOURCE)
            .expect("source")
            .cast(&DataType::String)
            .expect("cast");
        assert_eq!(source.str().expect("str").get(1), Some("b.json"));
        assert_eq!(
            df.column(columns::READ_ONLY)
                .expect("ro")
                .bool()
                .expect("bool")
                .get(1),
            Some(true)
        );
        assert_eq!(
            df.column(columns::MINTED_CREDENTIAL)
                .expect("m")
                .null_count(),
            2
        );
    }
}
