//! Decode stage: turn an input's bytes into line-aligned chunks of text.
//!
//! Plain files are cut in place: a chunk is a slice of the memory map, so no
//! byte is copied. gzip files are inflated member by member (rotators and
//! `cat a.gz b.gz` produce several members) into owned buffers that always
//! end at a newline, so each chunk can be parsed on its own thread while the
//! next one is being inflated.
//!
//! A truncated or corrupt archive yields every complete line inflated before
//! the damage; the bytes of a line cut by the damage are handed over as the
//! last chunk with [`Chunk::cut`] set, and a [`Damage`] record says where and
//! why decoding stopped. Decoding does not resume after damage: lines past a
//! gap could not be given their true line numbers.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Mutex;

use flate2::bufread::GzDecoder;

use crate::source::{Compression, Input};

/// Where and why an input could not be read to its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Offset in the compressed file at which decoding failed.
    pub offset: u64,
    /// 0-based gzip member in which it failed.
    pub member: usize,
    /// Decompressed bytes recovered before the failure.
    pub recovered: u64,
    /// What went wrong, as the decoder said it.
    pub reason: String,
}

/// A run of whole lines.
pub struct Chunk<'a> {
    /// 0-based position of the chunk in its input.
    pub index: usize,
    pub data: Cow<'a, [u8]>,
    /// The chunk ends with a line cut short by damage.
    pub cut: bool,
}

/// Target size of a chunk: large enough to amortise per-chunk work, small
/// enough to spread a few megabytes over every core.
pub const CHUNK_SIZE: usize = 1 << 22;

/// Buffers of decoded chunks, handed back once parsed so that the next
/// chunk reuses their memory: a fresh 4 MiB buffer per chunk would be
/// faulted in (and zeroed by the kernel) every time, since freed memory is
/// returned to the system at once.
#[derive(Default)]
pub struct Recycler {
    free: Mutex<Vec<Vec<u8>>>,
}

/// Buffers a [`Recycler`] keeps: the chunks in flight on a large machine.
const RECYCLED: usize = 64;

impl Recycler {
    /// An empty buffer of at least `capacity` bytes.
    fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut free| free.pop());
        let mut buf = reused.unwrap_or_default();
        buf.clear();
        buf.reserve(capacity);
        buf
    }

    /// Takes back a chunk's data once it is no longer needed.
    pub fn give(&self, data: Cow<'_, [u8]>) {
        if let Cow::Owned(buf) = data {
            if let Ok(mut free) = self.free.lock() {
                if free.len() < RECYCLED {
                    free.push(buf);
                }
            }
        }
    }
}

/// The first `limit` decoded bytes, for format detection.
pub fn peek(input: &Input, limit: usize) -> Vec<u8> {
    match input.compression {
        Compression::Gzip => {
            let mut out = Vec::with_capacity(limit);
            let mut members = Members::new(input.bytes());
            while out.len() < limit {
                let want = limit - out.len();
                match members.read_some(&mut out, want) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            out
        }
        _ => input.bytes()[..input.bytes().len().min(limit)].to_vec(),
    }
}

/// The whole decoded input (for JSON documents), and the damage if any.
pub fn read_all(input: &Input) -> (Cow<'_, [u8]>, Option<Damage>) {
    match input.compression {
        Compression::Gzip => {
            let mut out = Vec::new();
            let mut members = Members::new(input.bytes());
            loop {
                match members.read_some(&mut out, 1 << 22) {
                    Ok(0) => return (Cow::Owned(out), None),
                    Ok(_) => {}
                    Err(damage) => return (Cow::Owned(out), Some(damage)),
                }
            }
        }
        _ => (Cow::Borrowed(input.bytes()), None),
    }
}

/// Calls `emit` with line-aligned chunks of `input`, in order, and returns
/// the damage that stopped decoding early, if any. `progress` is told how
/// many raw bytes were consumed since its last call.
pub fn for_each_chunk<'a>(
    input: &'a Input,
    chunk_size: usize,
    buffers: &Recycler,
    progress: &dyn Fn(u64),
    mut emit: impl FnMut(Chunk<'a>),
) -> Option<Damage> {
    match input.compression {
        Compression::Gzip => inflate_chunks(input.bytes(), chunk_size, buffers, progress, emit),
        _ => {
            for (index, data) in split_lines(input.bytes(), chunk_size).enumerate() {
                progress(data.len() as u64);
                emit(Chunk {
                    index,
                    data: Cow::Borrowed(data),
                    cut: false,
                });
            }
            None
        }
    }
}

/// Splits `data` into slices of about `size` bytes that end at a newline
/// (the last may end without one).
pub fn split_lines(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = if rest.len() <= size {
            rest.len()
        } else {
            match memchr::memchr(b'\n', &rest[size..]) {
                Some(i) => size + i + 1,
                None => rest.len(),
            }
        };
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

fn inflate_chunks<'a>(
    raw: &[u8],
    chunk_size: usize,
    buffers: &Recycler,
    progress: &dyn Fn(u64),
    mut emit: impl FnMut(Chunk<'a>),
) -> Option<Damage> {
    let mut members = Members::new(raw);
    let mut buf: Vec<u8> = buffers.take(chunk_size + (64 << 10));
    let mut index = 0;
    let mut reported = 0u64;
    loop {
        let want = chunk_size.saturating_sub(buf.len()).max(64 << 10);
        let result = members.read_some(&mut buf, want);
        let consumed = members.consumed();
        progress(consumed - reported);
        reported = consumed;
        match result {
            Ok(0) => {
                if !buf.is_empty() {
                    emit(Chunk {
                        index,
                        data: Cow::Owned(buf),
                        cut: false,
                    });
                }
                return None;
            }
            Ok(_) if buf.len() >= chunk_size => {
                // Hand over the whole lines; carry the partial one over.
                if let Some(nl) = memchr::memrchr(b'\n', &buf) {
                    let tail = buf.split_off(nl + 1);
                    let mut next = buffers.take(chunk_size + (64 << 10));
                    next.extend_from_slice(&tail);
                    emit(Chunk {
                        index,
                        data: Cow::Owned(std::mem::replace(&mut buf, next)),
                        cut: false,
                    });
                    index += 1;
                }
            }
            Ok(_) => {}
            Err(damage) => {
                if !buf.is_empty() {
                    let cut = buf.last() != Some(&b'\n');
                    emit(Chunk {
                        index,
                        data: Cow::Owned(buf),
                        cut,
                    });
                }
                return Some(damage);
            }
        }
    }
}

/// Reads the members of a (multi-member) gzip file one after the other,
/// keeping track of the compressed offset so damage can be located.
struct Members<'a> {
    raw: &'a [u8],
    current: Option<GzDecoder<&'a [u8]>>,
    /// Compressed bytes before the current member.
    rest: &'a [u8],
    member: usize,
    produced: u64,
    /// Damage met after some bytes were decoded in the same call: those
    /// bytes are returned first, the damage on the next call.
    pending: Option<Damage>,
}

impl<'a> Members<'a> {
    fn new(raw: &'a [u8]) -> Members<'a> {
        Members {
            raw,
            current: None,
            rest: raw,
            member: 0,
            produced: 0,
            pending: None,
        }
    }

    /// Compressed bytes consumed so far.
    fn consumed(&self) -> u64 {
        let left = match &self.current {
            Some(dec) => dec.get_ref().len(),
            None => self.rest.len(),
        };
        (self.raw.len() - left) as u64
    }

    /// Appends up to `want` decoded bytes to `out`, fewer only at the end
    /// of a member or before damage. Returns 0 at the clean end of the last
    /// member.
    ///
    /// The decoder hands out a few hundred kilobytes per read; filling the
    /// whole request before returning means `out` is zeroed once per call,
    /// not once per read (4 MiB chunks were zeroed a dozen times over).
    fn read_some(&mut self, out: &mut Vec<u8>, want: usize) -> Result<usize, Damage> {
        if let Some(damage) = self.pending.take() {
            return Err(damage);
        }
        loop {
            if self.current.is_none() && !self.start_member()? {
                return Ok(0);
            }
            let Some(dec) = self.current.as_mut() else {
                return Ok(0);
            };
            let start = out.len();
            out.resize(start + want, 0);
            let mut filled = 0;
            let mut ended = false;
            let mut failed = None;
            while filled < want {
                match dec.read(&mut out[start + filled..]) {
                    Ok(0) => {
                        ended = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) => {
                        let offset = (self.raw.len() - dec.get_ref().len()) as u64;
                        failed = Some((offset, describe(&e)));
                        break;
                    }
                }
            }
            out.truncate(start + filled);
            self.produced += filled as u64;
            if ended {
                self.rest = dec.get_ref();
                self.current = None;
                self.member += 1;
            }
            if let Some((offset, reason)) = failed {
                let damage = self.damage(offset, reason);
                if filled == 0 {
                    return Err(damage);
                }
                self.pending = Some(damage);
            }
            if filled > 0 {
                return Ok(filled);
            }
        }
    }

    /// Opens the next member; false at the end of the file.
    fn start_member(&mut self) -> Result<bool, Damage> {
        if self.rest.is_empty() {
            return Ok(false);
        }
        if !self.rest.starts_with(&[0x1f, 0x8b]) {
            // Some writers pad archives with zeros; gzip itself ignores that.
            if self.rest.iter().all(|&b| b == 0) {
                self.rest = &[];
                return Ok(false);
            }
            let offset = (self.raw.len() - self.rest.len()) as u64;
            return Err(self.damage(
                offset,
                "bytes after the last gzip member are not gzip".into(),
            ));
        }
        self.current = Some(GzDecoder::new(self.rest));
        Ok(true)
    }

    fn damage(&self, offset: u64, reason: String) -> Damage {
        Damage {
            offset,
            member: self.member,
            recovered: self.produced,
            reason,
        }
    }
}

fn describe(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "archive is truncated".into()
    } else {
        format!("archive is corrupt: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression as Level;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Level::default());
        enc.write_all(data).expect("in-memory write");
        enc.finish().expect("in-memory finish")
    }

    fn input_of(bytes: &[u8]) -> (tempfile::TempDir, Input) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("in");
        std::fs::write(&path, bytes).expect("write");
        let input = Input::open(&path).expect("open");
        (dir, input)
    }

    fn collect(input: &Input, size: usize) -> (Vec<Vec<u8>>, Option<Damage>) {
        let mut chunks = Vec::new();
        let buffers = Recycler::default();
        let damage = for_each_chunk(input, size, &buffers, &|_| {}, |c| {
            chunks.push(c.data.into_owned())
        });
        (chunks, damage)
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("line number {i}\n").into_bytes())
            .collect()
    }

    #[test]
    fn plain_chunks_end_at_newlines_and_cover_everything() {
        let data = text(1000);
        let (_d, input) = input_of(&data);
        let (chunks, damage) = collect(&input, 100);
        assert!(damage.is_none());
        assert!(chunks.len() > 10);
        assert!(chunks.iter().all(|c| c.ends_with(b"\n")));
        assert_eq!(chunks.concat(), data);
    }

    #[test]
    fn multi_member_gzip_reads_every_member() {
        let (a, b) = (text(500), text(300));
        let mut raw = gzip(&a);
        raw.extend(gzip(&b));
        let (_d, input) = input_of(&raw);
        assert_eq!(input.compression, Compression::Gzip);
        let (chunks, damage) = collect(&input, 1000);
        assert!(damage.is_none());
        assert!(chunks.iter().all(|c| c.ends_with(b"\n")));
        assert_eq!(chunks.concat(), [a, b].concat());
    }

    #[test]
    fn truncated_gzip_keeps_what_came_before() {
        let data = text(20_000);
        let raw = gzip(&data);
        let (_d, input) = input_of(&raw[..raw.len() / 2]);
        let (chunks, damage) = collect(&input, 4096);
        let damage = damage.expect("damage is reported");
        assert_eq!(damage.reason, "archive is truncated");
        let got = chunks.concat();
        assert!(!got.is_empty());
        assert!(data.starts_with(&got));
        assert_eq!(damage.recovered, got.len() as u64);
    }

    #[test]
    fn corrupt_gzip_is_reported() {
        let data = text(20_000);
        let mut raw = gzip(&data);
        let mid = raw.len() / 2;
        for b in &mut raw[mid..mid + 64] {
            *b ^= 0x5a;
        }
        let (_d, input) = input_of(&raw);
        let (chunks, damage) = collect(&input, 4096);
        assert!(damage.expect("damage").reason.starts_with("archive is"));
        assert!(data.starts_with(&chunks.concat()));
    }

    #[test]
    fn trailing_zero_padding_is_ignored_but_garbage_is_not() {
        let mut raw = gzip(b"a\n");
        raw.extend([0u8; 100]);
        let (_d, input) = input_of(&raw);
        assert!(collect(&input, 100).1.is_none());
        let mut raw = gzip(b"a\n");
        raw.extend(b"junk");
        let (_d, input) = input_of(&raw);
        let (chunks, damage) = collect(&input, 100);
        assert_eq!(chunks.concat(), b"a\n");
        assert!(damage.is_some());
    }

    #[test]
    fn peek_and_read_all_agree() {
        let data = text(3000);
        let (_d, input) = input_of(&gzip(&data));
        assert_eq!(peek(&input, 50), &data[..50]);
        let (all, damage) = read_all(&input);
        assert_eq!(&*all, &data[..]);
        assert!(damage.is_none());
    }
}
