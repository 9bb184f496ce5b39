//! Copying parsed chunks into the frame's column buffers, chunk by chunk.
//!
//! Every column of the frame is one contiguous buffer, allocated once at its
//! final size. Chunks are copied into their rows and freed one at a time, so
//! the memory of the parsed chunks goes back to the allocator as the frame
//! fills up: copying column by column instead would hold every chunk until
//! the last column is done, and the peak would be the chunks plus the frame.
//! Chunks are spread over the pool; each writes only its own rows.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::builder::{NULL_BOOL, NULL_BYTES, NULL_CODE, NULL_STATUS};
use super::{Cat, ChunkColumns, ChunkOrigin, Flag};

/// The frame's columns as plain buffers, with null sentinels.
pub(super) struct Buffers {
    pub ts: Vec<i64>,
    pub line: Vec<u64>,
    /// `None` for a column no chunk set: it becomes all nulls.
    pub cats: Vec<Option<Vec<u32>>>,
    pub flags: Vec<Option<Vec<u8>>>,
    pub status: Option<Vec<i32>>,
    pub bytes: Option<Vec<u64>>,
}

/// One chunk's rows in every buffer.
struct Rows<'a> {
    ts: &'a mut [MaybeUninit<i64>],
    line: &'a mut [MaybeUninit<u64>],
    cats: Vec<Option<&'a mut [MaybeUninit<u32>]>>,
    flags: Vec<Option<&'a mut [MaybeUninit<u8>]>>,
    status: Option<&'a mut [MaybeUninit<i32>]>,
    bytes: Option<&'a mut [MaybeUninit<u64>]>,
}

impl Buffers {
    /// Buffers for `chunks` (request ids already taken out), filled; every
    /// chunk is consumed.
    pub fn fill(chunks: Vec<(ChunkOrigin, ChunkColumns)>) -> Buffers {
        let sizes: Vec<usize> = chunks.iter().map(|(_, c)| c.rows).collect();
        let rows: usize = sizes.iter().sum();
        let present = |has: &dyn Fn(&ChunkColumns) -> bool| chunks.iter().any(|(_, c)| has(c));
        let mut buffers = Buffers {
            ts: Vec::with_capacity(rows),
            line: Vec::with_capacity(rows),
            cats: (0..Cat::COUNT)
                .map(|i| present(&|c| !c.cats[i].is_empty()).then(|| Vec::with_capacity(rows)))
                .collect(),
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
            .map(|c| c.as_mut().map(|v| split_spare(v, sizes)))
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
                cats: cats.iter_mut().map(|c| c.as_mut().map(pop)).collect(),
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
            for v in self.cats.iter_mut().flatten() {
                v.set_len(rows);
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
        if let Some(dst) = dst {
            write(dst, src, NULL_CODE);
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
        let b = Buffers::fill(chunks);
        assert_eq!(b.line, [1, 2, 3, 4, 5, 6]);
        assert_eq!(b.ts, [0, 1, 0, 1, 2, 0]);
        let principal = b.cats[Cat::Principal as usize].as_ref().expect("set");
        let text: Vec<_> = principal.iter().map(|&c| dict.text(c)).collect();
        assert_eq!(text, [None, None, Some("ann"), None, Some("bob"), None]);
        assert_eq!(
            b.status.as_deref(),
            Some(&[NULL_STATUS, NULL_STATUS, 200, NULL_STATUS, 200, NULL_STATUS][..])
        );
        assert!(b.cats[Cat::Account as usize].is_none());
        assert!(b.bytes.is_none());
    }
}
