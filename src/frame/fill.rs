//! Copying parsed chunks into the frame's column buffers, chunk by chunk.
//!
//! Every column of the frame is one contiguous buffer, allocated once at its
//! final size. Chunks are copied into their rows and freed one at a time, so
//! the memory of the parsed chunks goes back to the allocator as the frame
//! fills up: copying column by column instead would hold every chunk until
//! the last column is done, and the peak would be the chunks plus the frame.
//! Chunks are spread over the pool; each writes only its own rows.
//!
//! Text columns are written at their final width (see [`super::narrow`]):
//! the chunks' lists of distinct values tell, before any row is copied,
//! which values a column uses, and each chunk's local ids are mapped to the
//! column's codes through a table of the chunk's distinct values.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::builder::{
    ChunkCodes, LOCAL_NULL, LocalCodes, NULL_BOOL, NULL_BYTES, NULL_CODE, NULL_STATUS,
};
use super::narrow::{Used, Width};
use super::{Cat, ChunkColumns, ChunkOrigin, Dictionary, Flag};

/// The frame's columns as plain buffers, with null sentinels.
pub(super) struct Buffers {
    pub ts: Vec<i64>,
    pub line: Vec<u64>,
    /// `None` for a column no chunk set: it becomes all nulls.
    pub cats: Vec<Option<TextCodes>>,
    pub flags: Vec<Option<Vec<u8>>>,
    pub status: Option<Vec<i32>>,
    pub bytes: Option<Vec<u64>>,
}

/// A text column's codes and the values they stand for. Nulls are the
/// width's largest value, which no code reaches.
pub(super) struct TextCodes {
    pub codes: CodeBuf,
    pub used: Used,
}

/// Codes one, two or four bytes wide.
pub(super) enum CodeBuf {
    One(Vec<u8>),
    Two(Vec<u16>),
    /// Shared dictionary ids.
    Shared(Vec<u32>),
}

/// One chunk's rows of a [`CodeBuf`].
enum CodeRows<'a> {
    One(&'a mut [MaybeUninit<u8>]),
    Two(&'a mut [MaybeUninit<u16>]),
    Shared(&'a mut [MaybeUninit<u32>]),
}

/// One chunk's rows in every buffer.
struct Rows<'a> {
    ts: &'a mut [MaybeUninit<i64>],
    line: &'a mut [MaybeUninit<u64>],
    cats: Vec<Option<(CodeRows<'a>, &'a Used)>>,
    flags: Vec<Option<&'a mut [MaybeUninit<u8>]>>,
    status: Option<&'a mut [MaybeUninit<i32>]>,
    bytes: Option<&'a mut [MaybeUninit<u64>]>,
}

impl Buffers {
    /// Buffers for `chunks` (request ids already taken out), filled; every
    /// chunk is consumed.
    pub fn fill(chunks: Vec<(ChunkOrigin, ChunkColumns)>, dict: &Dictionary) -> Buffers {
        let sizes: Vec<usize> = chunks.iter().map(|(_, c)| c.rows).collect();
        let rows: usize = sizes.iter().sum();
        let present = |has: &dyn Fn(&ChunkColumns) -> bool| chunks.iter().any(|(_, c)| has(c));
        let cats = (0..Cat::COUNT)
            .into_par_iter()
            .map(|i| {
                let set = chunks
                    .iter()
                    .map(|(_, c)| &c.cats[i])
                    .filter(|c| !c.is_empty());
                present(&|c| !c.cats[i].is_empty()).then(|| TextCodes::sized(set, rows, dict))
            })
            .collect();
        let mut buffers = Buffers {
            ts: Vec::with_capacity(rows),
            line: Vec::with_capacity(rows),
            cats,
            flags: (0..Flag::ALL.len())
                .map(|i| present(&|c| !c.flags[i].is_empty()).then(|| Vec::with_capacity(rows)))
                .collect(),
            status: present(&|c| !c.status.is_empty()).then(|| Vec::with_capacity(rows)),
            bytes: present(&|c| !c.bytes.is_empty()).then(|| Vec::with_capacity(rows)),
        };
        let targets = buffers.split(&sizes);
        chunks
            .into_par_iter()
            .zip(targets)
            .for_each(|((origin, chunk), rows)| copy_chunk(origin, chunk, rows));
        // SAFETY: the chunks' sizes sum to `rows`, their row ranges cover
        // 0..rows without overlap, and `copy_chunk` writes every row of its
        // range in every buffer that exists.
        unsafe { buffers.set_len(rows) };
        buffers
    }

    /// Each chunk's rows of every buffer, in chunk order.
    fn split(&mut self, sizes: &[usize]) -> Vec<Rows<'_>> {
        let mut ts = split_spare(&mut self.ts, sizes);
        let mut line = split_spare(&mut self.line, sizes);
        let mut cats: Vec<_> = self
            .cats
            .iter_mut()
            .map(|c| c.as_mut().map(|t| t.split(sizes)))
            .collect();
        let mut flags: Vec<_> = self
            .flags
            .iter_mut()
            .map(|c| c.as_mut().map(|v| split_spare(v, sizes)))
            .collect();
        let mut status = self.status.as_mut().map(|v| split_spare(v, sizes));
        let mut bytes = self.bytes.as_mut().map(|v| split_spare(v, sizes));
        let mut out = Vec::with_capacity(sizes.len());
        while let Some(ts) = ts.pop() {
            out.push(Rows {
                ts,
                line: pop(&mut line),
                cats: cats.iter_mut().map(|c| c.as_mut().map(pop_codes)).collect(),
                flags: flags.iter_mut().map(|c| c.as_mut().map(pop)).collect(),
                status: status.as_mut().map(pop),
                bytes: bytes.as_mut().map(pop),
            });
        }
        out.reverse();
        out
    }

    /// # Safety
    /// Every buffer must have `rows` initialised values in its capacity.
    unsafe fn set_len(&mut self, rows: usize) {
        unsafe {
            self.ts.set_len(rows);
            self.line.set_len(rows);
            for t in self.cats.iter_mut().flatten() {
                match &mut t.codes {
                    CodeBuf::One(v) => v.set_len(rows),
                    CodeBuf::Two(v) => v.set_len(rows),
                    CodeBuf::Shared(v) => v.set_len(rows),
                }
            }
            for v in self.flags.iter_mut().flatten() {
                v.set_len(rows);
            }
            if let Some(v) = &mut self.status {
                v.set_len(rows);
            }
            if let Some(v) = &mut self.bytes {
                v.set_len(rows);
            }
        }
    }
}

impl TextCodes {
    /// An empty buffer for `rows` rows of a column whose chunks are `set`,
    /// at the width its distinct values need.
    fn sized<'c>(
        set: impl Iterator<Item = &'c ChunkCodes>,
        rows: usize,
        dict: &Dictionary,
    ) -> Self {
        let used = Used::of_lists(set.map(|c| c.ids.as_slice()), dict.len());
        let codes = match used.width() {
            Width::One => CodeBuf::One(Vec::with_capacity(rows)),
            Width::Two => CodeBuf::Two(Vec::with_capacity(rows)),
            Width::Shared => CodeBuf::Shared(Vec::with_capacity(rows)),
        };
        TextCodes { codes, used }
    }

    /// Each chunk's rows, in chunk order, with the values they index.
    fn split(&mut self, sizes: &[usize]) -> Vec<(CodeRows<'_>, &Used)> {
        let used = &self.used;
        match &mut self.codes {
            CodeBuf::One(v) => split_spare(v, sizes)
                .into_iter()
                .map(|r| (CodeRows::One(r), used))
                .collect(),
            CodeBuf::Two(v) => split_spare(v, sizes)
                .into_iter()
                .map(|r| (CodeRows::Two(r), used))
                .collect(),
            CodeBuf::Shared(v) => split_spare(v, sizes)
                .into_iter()
                .map(|r| (CodeRows::Shared(r), used))
                .collect(),
        }
    }
}

fn empty_used() -> &'static Used {
    static EMPTY: std::sync::OnceLock<Used> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Used::of(&[], 0))
}

/// [`pop`] for code slices.
fn pop_codes<'a>(slices: &mut Vec<(CodeRows<'a>, &'a Used)>) -> (CodeRows<'a>, &'a Used) {
    slices
        .pop()
        .unwrap_or((CodeRows::Shared(&mut []), empty_used()))
}

/// The spare capacity of `v` cut into consecutive slices of `sizes`.
fn split_spare<'a, T>(v: &'a mut Vec<T>, sizes: &[usize]) -> Vec<&'a mut [MaybeUninit<T>]> {
    let mut rest = v.spare_capacity_mut();
    let mut out = Vec::with_capacity(sizes.len());
    for &n in sizes {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(n);
        out.push(head);
        rest = tail;
    }
    out
}

/// The last slice of a list built by [`split_spare`]: slices are taken from
/// the back so each can be moved out.
fn pop<'a, T>(slices: &mut Vec<&'a mut [MaybeUninit<T>]>) -> &'a mut [MaybeUninit<T>] {
    slices.pop().unwrap_or_default()
}

/// Writes one chunk into its rows, then frees it.
fn copy_chunk(origin: ChunkOrigin, chunk: ChunkColumns, rows: Rows<'_>) {
    write(rows.ts, &chunk.ts, 0);
    for (dst, &l) in rows.line.iter_mut().zip(&chunk.line) {
        dst.write(l + origin.line_base);
    }
    for (dst, src) in rows.cats.into_iter().zip(&chunk.cats) {
        if let Some((dst, used)) = dst {
            write_codes(dst, src, used);
        }
    }
    for (dst, src) in rows.flags.into_iter().zip(&chunk.flags) {
        if let Some(dst) = dst {
            write(dst, src, NULL_BOOL);
        }
    }
    if let Some(dst) = rows.status {
        write(dst, &chunk.status, NULL_STATUS);
    }
    if let Some(dst) = rows.bytes {
        write(dst, &chunk.bytes, NULL_BYTES);
    }
}

/// Writes one chunk's codes of a text column at the column's width.
fn write_codes(dst: CodeRows<'_>, src: &ChunkCodes, used: &Used) {
    match dst {
        CodeRows::One(d) => translate(d, src, |id| used.rank(id) as u8, u8::MAX),
        CodeRows::Two(d) => translate(d, src, |id| used.rank(id) as u16, u16::MAX),
        CodeRows::Shared(d) => translate(d, src, |id| id, NULL_CODE),
    }
}

/// Maps each local id of `src` to the column's code, through a table of the
/// chunk's distinct values: one lookup per distinct value, one per row.
fn translate<T: Copy>(
    dst: &mut [MaybeUninit<T>],
    src: &ChunkCodes,
    code_of: impl Fn(u32) -> T,
    null: T,
) {
    if src.is_empty() {
        dst.fill(MaybeUninit::new(null));
        return;
    }
    let table: Vec<T> = src.ids.iter().map(|&id| code_of(id)).collect();
    match &src.local {
        LocalCodes::Narrow(local) => {
            for (d, &l) in dst.iter_mut().zip(local) {
                d.write(if l == LOCAL_NULL {
                    null
                } else {
                    table[usize::from(l)]
                });
            }
        }
        LocalCodes::Wide(local) => {
            for (d, &l) in dst.iter_mut().zip(local) {
                d.write(if l == NULL_CODE {
                    null
                } else {
                    table[l as usize]
                });
            }
        }
    }
}

/// Copies `src` into `dst`, or fills `dst` with `null` when the chunk never
/// set the column (`src` empty).
fn write<T: Copy>(dst: &mut [MaybeUninit<T>], src: &[T], null: T) {
    if src.is_empty() {
        dst.fill(MaybeUninit::new(null));
    } else {
        for (d, &s) in dst.iter_mut().zip(src) {
            d.write(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Dictionary, EventBuilder, EventRef};

    fn chunk(base: u64, values: &[Option<&[u8]>]) -> (ChunkOrigin, ChunkColumns) {
        let mut b = EventBuilder::new(Dictionary::global());
        for (i, v) in values.iter().enumerate() {
            let mut ev = EventRef::at_line(i as u64 + 1);
            ev.ts = i as i64;
            if let Some(v) = v {
                ev.set(Cat::Principal, v);
                ev.status = Some(200);
            }
            b.push(&ev);
        }
        let origin = ChunkOrigin {
            source: 0,
            format: "combined",
            line_base: base,
        };
        (origin, b.finish())
    }

    #[test]
    fn chunks_land_in_order_with_nulls_where_unset() {
        let dict = Dictionary::global();
        let chunks = vec![
            chunk(0, &[None, None]),
            chunk(2, &[Some(b"ann"), None, Some(b"bob")]),
            chunk(5, &[None]),
        ];
        let b = Buffers::fill(chunks, &dict);
        assert_eq!(b.line, [1, 2, 3, 4, 5, 6]);
        assert_eq!(b.ts, [0, 1, 0, 1, 2, 0]);
        let principal = b.cats[Cat::Principal as usize].as_ref().expect("set");
        // Two values: one-byte codes, their ranks among the values used.
        let CodeBuf::One(codes) = &principal.codes else {
            panic!("two values should take one byte");
        };
        let (ann, bob) = (dict.intern("ann"), dict.intern("bob"));
        let rank = |id| principal.used.rank(id) as u8;
        let null = u8::MAX;
        assert_eq!(codes, &[null, null, rank(ann), null, rank(bob), null]);
        assert_ne!(rank(ann), rank(bob));
        assert!(rank(ann) < 2 && rank(bob) < 2);
        assert_eq!(
            b.status.as_deref(),
            Some(&[NULL_STATUS, NULL_STATUS, 200, NULL_STATUS, 200, NULL_STATUS][..])
        );
        assert!(b.cats[Cat::Account as usize].is_none());
        assert!(b.bytes.is_none());
    }
}
