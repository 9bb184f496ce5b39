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
mod fill;
mod narrow;

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
/// Each column is one contiguous buffer that the chunks are copied into and
/// that is then wrapped without a further copy (see [`fill`]); nulls become
/// a validity bitmap. Columns are wrapped in parallel.
pub fn assemble(
    mut chunks: Vec<(ChunkOrigin, ChunkColumns)>,
    sources: &[String],
    dict: &Dictionary,
) -> PolarsResult<DataFrame> {
    let sizes: Vec<usize> = chunks.iter().map(|(_, c)| c.rows).collect();
    let rows: usize = sizes.iter().sum();
    let source_codes: Vec<u32> = chunks
        .iter()
        .map(|(o, _)| dict.intern(&sources[o.source]))
        .collect();
    let format_codes: Vec<u32> = chunks.iter().map(|(o, _)| dict.intern(o.format)).collect();
    let request_ids = request_id_column(&mut chunks, &sizes);
    let fill::Buffers {
        ts,
        line,
        cats,
        flags,
        status,
        bytes,
    } = fill::Buffers::fill(chunks, dict);

    type Job<'a> = Box<dyn FnOnce() -> Column + Send + 'a>;
    let mut jobs: Vec<Job<'_>> = vec![
        Box::new(|| {
            Int64Chunked::from_vec(columns::TS.into(), ts)
                .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
                .into_column()
        }),
        Box::new(|| narrow::repeated(columns::SOURCE, &source_codes, &sizes, dict)),
        Box::new(|| UInt64Chunked::from_vec(columns::LINE.into(), line).into_column()),
        Box::new(|| narrow::repeated(columns::FORMAT, &format_codes, &sizes, dict)),
    ];
    let mut status = Some(status);
    let mut bytes = Some(bytes);
    let mut request_ids = Some(request_ids);
    for (cat, codes) in Cat::ALL.into_iter().zip(cats) {
        jobs.push(Box::new(move || categorical(cat, rows, codes, dict)));
        if cat == Cat::Query {
            let values = status.take().flatten();
            jobs.push(Box::new(move || {
                nullable(columns::STATUS, rows, values, NULL_STATUS).into_column::<Int32Type>()
            }));
        }
        if cat == Cat::Outcome {
            let values = bytes.take().flatten();
            jobs.push(Box::new(move || {
                nullable(columns::BYTES, rows, values, NULL_BYTES).into_column::<UInt64Type>()
            }));
        }
        if cat == Cat::Referer {
            if let Some(col) = request_ids.take() {
                jobs.push(Box::new(move || col));
            }
        }
    }
    for (flag, values) in Flag::ALL.into_iter().zip(flags) {
        jobs.push(Box::new(move || flag_column(flag, rows, values)));
    }
    let out: Vec<Column> = jobs.into_par_iter().map(|job| job()).collect();
    DataFrame::new(rows, out)
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
    rows: usize,
    values: Option<Vec<T>>,
    null: T,
) -> Nullable<T> {
    Nullable {
        name,
        array: with_nulls(values.unwrap_or_else(|| vec![null; rows]), null),
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

fn categorical(cat: Cat, rows: usize, codes: Option<fill::TextCodes>, dict: &Dictionary) -> Column {
    use fill::CodeBuf;
    let name = cat.name();
    let Some(fill::TextCodes { codes, used }) = codes else {
        // Never set in any chunk. A combined log leaves about a dozen of the
        // schema's columns empty: as scalar columns they cost nothing, where
        // a buffer each would take 4 bytes per row apiece.
        return Column::full_null(name.into(), rows, dict.dtype());
    };
    match codes {
        CodeBuf::One(v) => narrow::own_column::<Categorical8Type>(name, v, u8::MAX, &used, dict),
        CodeBuf::Two(v) => narrow::own_column::<Categorical16Type>(name, v, u16::MAX, &used, dict),
        CodeBuf::Shared(v) => categorical_from_array(name, with_nulls(v, NULL_CODE), dict),
    }
}

/// A categorical column from shared dictionary ids, one, two or four bytes
/// per row (see [`narrow`]).
pub(crate) fn categorical_from_codes(name: &str, codes: Vec<u32>, dict: &Dictionary) -> Column {
    narrow::column(name, codes, dict)
}

fn categorical_from_array(
    name: &str,
    codes: polars_arrow::array::PrimitiveArray<u32>,
    dict: &Dictionary,
) -> Column {
    let phys = UInt32Chunked::with_chunk(name.into(), codes);
    // SAFETY: every code was handed out by `dict`, whose mapping is the one
    // in `dict.dtype()`, and nulls are masked.
    let cats =
        unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(phys, dict.dtype().clone()) };
    cats.into_series().into_column()
}

fn flag_column(flag: Flag, rows: usize, values: Option<Vec<u8>>) -> Column {
    let Some(values) = values else {
        return Column::full_null(flag.name().into(), rows, &DataType::Boolean);
    };
    BooleanChunked::from_iter_options(
        flag.name().into(),
        values.iter().map(|&v| (v != NULL_BOOL).then_some(v == 1)),
    )
    .into_column()
}

/// The request ids of every chunk as one column; each chunk's part is freed
/// once copied.
fn request_id_column(chunks: &mut [(ChunkOrigin, ChunkColumns)], sizes: &[usize]) -> Column {
    let rows: usize = sizes.iter().sum();
    if chunks.iter().all(|(_, c)| c.request_id.is_empty()) {
        return Column::full_null(columns::REQUEST_ID.into(), rows, &DataType::String);
    }
    let mut values = polars_arrow::array::MutableBinaryViewArray::<str>::with_capacity(rows);
    for ((_, chunk), &n) in chunks.iter_mut().zip(sizes) {
        let part = std::mem::take(&mut chunk.request_id);
        for row in 0..n {
            values.push(if part.is_empty() {
                None
            } else {
                part.value(row)
            });
        }
    }
    StringChunked::with_chunk(columns::REQUEST_ID.into(), values.freeze()).into_column()
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
