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
pub fn assemble(
    mut chunks: Vec<(ChunkOrigin, ChunkColumns)>,
    sources: &[String],
    dict: &Dictionary,
) -> PolarsResult<DataFrame> {
    let rows: usize = chunks.iter().map(|(_, c)| c.rows).sum();
    let mut out: Vec<Column> = Vec::with_capacity(32);

    let ts: Vec<i64> = chunks
        .iter_mut()
        .flat_map(|(_, c)| std::mem::take(&mut c.ts))
        .collect();
    out.push(
        Int64Chunked::from_vec(columns::TS.into(), ts)
            .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
            .into_column(),
    );
    out.push(constant_codes(
        columns::SOURCE,
        &chunks,
        |o| dict.intern(&sources[o.source]),
        dict,
    ));
    let lines: Vec<u64> = chunks
        .iter_mut()
        .flat_map(|(o, c)| {
            let base = o.line_base;
            std::mem::take(&mut c.line)
                .into_iter()
                .map(move |l| l + base)
        })
        .collect();
    out.push(UInt64Chunked::from_vec(columns::LINE.into(), lines).into_column());
    out.push(constant_codes(
        columns::FORMAT,
        &chunks,
        |o| dict.intern(o.format),
        dict,
    ));

    for cat in Cat::ALL {
        out.push(categorical(cat, rows, &mut chunks, dict));
        if cat == Cat::Query {
            out.push(status_column(rows, &mut chunks));
        }
        if cat == Cat::Outcome {
            out.push(bytes_column(rows, &mut chunks));
        }
        if cat == Cat::Referer {
            out.push(request_id_column(rows, &mut chunks));
        }
    }
    for flag in Flag::ALL {
        out.push(flag_column(flag, rows, &mut chunks));
    }
    DataFrame::new(rows, out)
}

/// A categorical column whose value is the same for a whole chunk.
fn constant_codes(
    name: &str,
    chunks: &[(ChunkOrigin, ChunkColumns)],
    code_of: impl Fn(&ChunkOrigin) -> u32,
    dict: &Dictionary,
) -> Column {
    let mut codes = Vec::with_capacity(chunks.iter().map(|(_, c)| c.rows).sum());
    for (origin, c) in chunks {
        let code = code_of(origin);
        codes.resize(codes.len() + c.rows, code);
    }
    categorical_from_codes(name, codes, dict)
}

fn categorical(
    cat: Cat,
    rows: usize,
    chunks: &mut [(ChunkOrigin, ChunkColumns)],
    dict: &Dictionary,
) -> Column {
    let idx = cat as usize;
    if chunks.iter().all(|(_, c)| c.cats[idx].is_empty()) {
        // Never set in any chunk: all nulls, with no codes to copy.
        return Series::full_null(cat.name().into(), rows, dict.dtype()).into_column();
    }
    let codes = gather(
        rows,
        chunks,
        |c| std::mem::take(&mut c.cats[idx]),
        NULL_CODE,
    );
    categorical_from_codes(cat.name(), codes, dict)
}

pub(crate) fn categorical_from_codes(name: &str, codes: Vec<u32>, dict: &Dictionary) -> Column {
    let phys = if codes.contains(&NULL_CODE) {
        UInt32Chunked::from_iter_options(
            name.into(),
            codes.iter().map(|&c| (c != NULL_CODE).then_some(c)),
        )
    } else {
        UInt32Chunked::from_vec(name.into(), codes)
    };
    // SAFETY: every code was handed out by `dict`, whose mapping is the one
    // in `dict.dtype()`, and nulls are masked above.
    let cats =
        unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(phys, dict.dtype().clone()) };
    cats.into_series().into_column()
}

fn status_column(rows: usize, chunks: &mut [(ChunkOrigin, ChunkColumns)]) -> Column {
    let values = gather(rows, chunks, |c| std::mem::take(&mut c.status), NULL_STATUS);
    Int32Chunked::from_iter_options(
        columns::STATUS.into(),
        values.iter().map(|&v| (v != NULL_STATUS).then_some(v)),
    )
    .into_column()
}

fn bytes_column(rows: usize, chunks: &mut [(ChunkOrigin, ChunkColumns)]) -> Column {
    let values = gather(rows, chunks, |c| std::mem::take(&mut c.bytes), NULL_BYTES);
    UInt64Chunked::from_iter_options(
        columns::BYTES.into(),
        values.iter().map(|&v| (v != NULL_BYTES).then_some(v)),
    )
    .into_column()
}

fn flag_column(flag: Flag, rows: usize, chunks: &mut [(ChunkOrigin, ChunkColumns)]) -> Column {
    let values = gather(
        rows,
        chunks,
        |c| std::mem::take(&mut c.flags[flag as usize]),
        NULL_BOOL,
    );
    BooleanChunked::from_iter_options(
        flag.name().into(),
        values.iter().map(|&v| (v != NULL_BOOL).then_some(v == 1)),
    )
    .into_column()
}

fn request_id_column(rows: usize, chunks: &mut [(ChunkOrigin, ChunkColumns)]) -> Column {
    let iter = chunks.iter().flat_map(|(_, c)| {
        let col = &c.request_id;
        (0..c.rows).map(move |row| if col.is_empty() { None } else { col.value(row) })
    });
    let out = StringChunked::from_iter_options(columns::REQUEST_ID.into(), iter);
    debug_assert_eq!(out.len(), rows);
    for (_, c) in chunks.iter_mut() {
        c.request_id = StrColumn::default();
    }
    out.into_column()
}

/// Concatenates one numeric column over chunks, filling chunks that never
/// set it with `null`.
fn gather<T: Copy>(
    rows: usize,
    chunks: &mut [(ChunkOrigin, ChunkColumns)],
    take: impl Fn(&mut ChunkColumns) -> Vec<T>,
    null: T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(rows);
    for (_, c) in chunks.iter_mut() {
        let part = take(c);
        if part.is_empty() {
            out.resize(out.len() + c.rows, null);
        } else {
            out.extend_from_slice(&part);
        }
    }
    out
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
