//! Parse stage: one parser per log format, each filling column builders.
//!
//! [`detect`] decides from an input's first decoded bytes which parser reads
//! it (or why it is skipped). Line formats are parsed chunk by chunk with
//! [`parse_lines`]; JSON documents (`{"Records": [...]}`, arrays, a single
//! pretty-printed event) with [`parse_document`]. Every line or record is
//! counted exactly once: it becomes a row, falls outside the time window, or
//! is rejected with a reason and kept for `rejects.jsonl`.

pub mod cloudtrail;
pub mod combined;
pub mod detect;
pub mod jsonl;
pub mod mapping;

use std::borrow::Cow;

use crate::frame::{ChunkColumns, Dictionary, EventBuilder, EventRef};
use crate::time::{Window, Zone};

pub use detect::{Detection, Layout, detect};
pub use mapping::FieldMap;

/// A log format breachscope reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// nginx/Apache `combined` (common plus referer and user agent).
    Combined,
    /// NCSA `common`.
    Common,
    /// JSON lines from an API gateway or application.
    JsonLines,
    /// AWS CloudTrail, in any of its layouts.
    CloudTrail,
}

impl Format {
    /// The name used in the `format` column, the manifest and `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::Common => "common",
            Format::JsonLines => "jsonl",
            Format::CloudTrail => "cloudtrail",
        }
    }

    /// Parses a `--format` value.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "combined" | "nginx" | "apache" => Some(Format::Combined),
            "common" | "clf" => Some(Format::Common),
            "jsonl" | "json" => Some(Format::JsonLines),
            "cloudtrail" => Some(Format::CloudTrail),
            _ => None,
        }
    }
}

/// Everything a parser needs besides the bytes.
#[derive(Clone)]
pub struct ParseContext {
    pub window: Window,
    /// Zone of times written without one.
    pub zone: Zone,
    pub dict: Dictionary,
}

/// A line or record that did not become an event.
#[derive(Clone, Debug)]
pub struct Reject {
    /// 1-based line (or record) number; relative to the chunk until the
    /// frame assembles chunks.
    pub line: u64,
    pub reason: Cow<'static, str>,
    /// The raw bytes, cut at [`REJECT_RAW_LIMIT`].
    pub raw: Vec<u8>,
    /// Whether `raw` was cut.
    pub truncated: bool,
}

/// Most raw bytes kept of one rejected line; the line number still points at
/// the whole line in the evidence.
pub const REJECT_RAW_LIMIT: usize = 4096;

/// Most rejects kept per chunk; all are counted. A file parsed with the wrong
/// `--format` must not fill memory with copies of itself.
pub const REJECTS_KEPT_PER_CHUNK: usize = 2_000;

impl Reject {
    fn new(line: u64, reason: Cow<'static, str>, raw: &[u8]) -> Reject {
        let truncated = raw.len() > REJECT_RAW_LIMIT;
        let raw = raw[..raw.len().min(REJECT_RAW_LIMIT)].to_vec();
        Reject {
            line,
            reason,
            raw,
            truncated,
        }
    }
}

/// The result of parsing one chunk (or one document).
pub struct ParsedChunk {
    pub columns: ChunkColumns,
    /// Lines or records seen: `events + outside_window + rejected`.
    pub lines: u64,
    pub outside_window: u64,
    pub rejected: u64,
    pub rejects: Vec<Reject>,
}

/// Counts and rejects of a chunk under construction.
pub(crate) struct Tally {
    builder: EventBuilder,
    lines: u64,
    outside_window: u64,
    rejected: u64,
    rejects: Vec<Reject>,
    window: Window,
}

impl Tally {
    pub(crate) fn new(ctx: &ParseContext) -> Tally {
        Tally::with_rows(ctx, 0)
    }

    /// A tally whose columns are sized for about `rows` rows.
    pub(crate) fn with_rows(ctx: &ParseContext, rows: usize) -> Tally {
        Tally {
            builder: EventBuilder::with_capacity(ctx.dict.clone(), rows),
            lines: 0,
            outside_window: 0,
            rejected: 0,
            rejects: Vec::new(),
            window: ctx.window,
        }
    }

    /// Records a parsed event, or counts it as outside the window.
    #[inline]
    pub(crate) fn accept(&mut self, ev: &EventRef<'_>) {
        self.lines += 1;
        if self.window.contains(ev.ts) {
            self.builder.push(ev);
        } else {
            self.outside_window += 1;
        }
    }

    /// Records a rejected line or record.
    pub(crate) fn reject(&mut self, line: u64, reason: Cow<'static, str>, raw: &[u8]) {
        self.lines += 1;
        self.rejected += 1;
        if self.rejects.len() < REJECTS_KEPT_PER_CHUNK {
            self.rejects.push(Reject::new(line, reason, raw));
        }
    }

    pub(crate) fn finish(self) -> ParsedChunk {
        ParsedChunk {
            columns: self.builder.finish(),
            lines: self.lines,
            outside_window: self.outside_window,
            rejected: self.rejected,
            rejects: self.rejects,
        }
    }
}

/// Calls `f` with each line of `chunk` and its 1-based number, without the
/// line end (`\n` or `\r\n`). A final line without a newline counts.
#[inline]
pub fn for_each_line(chunk: &[u8], mut f: impl FnMut(u64, &[u8])) {
    let mut start = 0;
    let mut n = 0;
    for end in memchr::memchr_iter(b'\n', chunk) {
        n += 1;
        f(n, strip_cr(&chunk[start..end]));
        start = end + 1;
    }
    if start < chunk.len() {
        f(n + 1, strip_cr(&chunk[start..]));
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses a chunk of whole lines in `format`. `cut` says the chunk's last
/// line was cut short by a damaged archive.
pub fn parse_lines(
    format: Format,
    mapping: Option<&FieldMap>,
    chunk: &[u8],
    cut: bool,
    ctx: &ParseContext,
) -> ParsedChunk {
    // Access-log lines run 100 to 300 bytes: sizing for short ones wastes
    // only untouched address space, and spares the columns their regrowth.
    let mut tally = Tally::with_rows(ctx, chunk.len() / 96 + 1);
    let last = if cut { count_lines(chunk) } else { 0 };
    let mut access = combined::LineParser::default();
    let mut json = match (format, mapping) {
        (Format::JsonLines, Some(map)) => Some(jsonl::LineParser::new(map, ctx.zone)),
        _ => None,
    };
    for_each_line(chunk, |n, line| {
        if cut && n == last {
            tally.reject(
                n,
                "line cut short where the archive is damaged".into(),
                line,
            );
            return;
        }
        if line.trim_ascii().is_empty() {
            tally.reject(n, "blank line".into(), line);
            return;
        }
        let mut ev = EventRef::at_line(n);
        let result = match format {
            Format::Combined | Format::Common => {
                access.parse_line(line, &mut ev).map_err(Cow::from)
            }
            Format::CloudTrail => cloudtrail::parse_line(line, &mut ev, ctx.zone),
            Format::JsonLines => match json.as_mut() {
                Some(p) => p.parse_line(line, &mut ev),
                None => Err("no field mapping for JSON lines".into()),
            },
        };
        match result {
            Ok(()) => tally.accept(&ev),
            Err(reason) => tally.reject(n, reason, line),
        }
    });
    tally.finish()
}

/// Number of lines `for_each_line` would report.
pub fn count_lines(chunk: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', chunk).count() as u64;
    newlines + u64::from(!chunk.is_empty() && !chunk.ends_with(b"\n"))
}

/// Parses a whole JSON document: `{"Records": [...]}`, an array of records or
/// a single record. Records are numbered from 1. A document that breaks off
/// (a truncated `.json.gz`) keeps the records before the break and reports
/// the break as one reject.
pub fn parse_document(
    format: Format,
    mapping: Option<&FieldMap>,
    doc: &[u8],
    ctx: &ParseContext,
) -> ParsedChunk {
    let mut tally = Tally::new(ctx);
    match format {
        Format::CloudTrail => cloudtrail::parse_document(doc, &mut tally, ctx.zone),
        _ => match mapping {
            Some(map) => jsonl::parse_document(doc, map, &mut tally, ctx.zone),
            None => tally.reject(1, "no field mapping for JSON records".into(), doc),
        },
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one_and_crlf_is_stripped() {
        let mut seen = Vec::new();
        for_each_line(b"a\r\nb\n\nc", |n, l| seen.push((n, l.to_vec())));
        assert_eq!(
            seen,
            vec![
                (1, b"a".to_vec()),
                (2, b"b".to_vec()),
                (3, vec![]),
                (4, b"c".to_vec())
            ]
        );
        assert_eq!(count_lines(b"a\r\nb\n\nc"), 4);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b""), 0);
    }

    #[test]
    fn every_line_is_counted_once() {
        let ctx = ParseContext {
            window: Window::default(),
            zone: Zone::Utc,
            dict: Dictionary::global(),
        };
        let chunk = b"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n\
                      garbage\n\
                      \n\
                      1.2.3.4 - - [01/Jan/2024:00:00:01 +0000] \"GET /cut HTTP/1.1\" 200";
        let out = parse_lines(Format::Common, None, chunk, true, &ctx);
        assert_eq!(out.lines, 4);
        assert_eq!(out.columns.rows, 1);
        assert_eq!(out.rejected, 3);
        let reasons: Vec<_> = out
            .rejects
            .iter()
            .map(|r| (r.line, r.reason.to_string()))
            .collect();
        assert_eq!(reasons[0].0, 2);
        assert_eq!(reasons[1], (3, "blank line".to_string()));
        assert_eq!(
            reasons[2],
            (4, "line cut short where the archive is damaged".to_string())
        );
    }

    #[test]
    fn window_filters_but_counts() {
        let window = Window::parse(Some("2024-01-02"), None, Zone::Utc).expect("window");
        let ctx = ParseContext {
            window,
            zone: Zone::Utc,
            dict: Dictionary::global(),
        };
        let chunk = b"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n\
                      1.2.3.4 - - [02/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5\n";
        let out = parse_lines(Format::Common, None, chunk, false, &ctx);
        assert_eq!(
            (
                out.lines,
                out.outside_window,
                out.columns.rows,
                out.rejected
            ),
            (2, 1, 1, 0)
        );
    }
}
