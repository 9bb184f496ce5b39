//! The first half of the pipeline, driven end to end: source → decode →
//! parse → frame.
//!
//! Inputs are read in parallel on the rayon pool. Each input's decoder runs
//! as one task and hands line-aligned chunks to parse tasks as it goes, so a
//! single large gzip file keeps every core busy: one inflates while the
//! others parse. When parse tasks pile up, the decoder parses a chunk itself,
//! which bounds memory without ever blocking a pool thread. Results carry
//! their input and chunk index and are put back in order before the frame is
//! built, so output never depends on scheduling.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use polars::prelude::{Column, DataFrame, PolarsError, Series};
use thiserror::Error;

use crate::decode::{self, CHUNK_SIZE, Damage};
use crate::frame::{self, ChunkOrigin, Dictionary};
use crate::parallel::Fanout;
use crate::parse::detect::map_document;
use crate::parse::mapping::{Origin, UserMap};
use crate::parse::{self, Detection, FieldMap, Format, Layout, ParseContext, ParsedChunk, Reject};
use crate::source::{self, Compression, Input, SourceError};
use crate::time::{Window, Zone};

/// A failure that stops loading altogether.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("building the event frame: {0}")]
    Frame(#[from] PolarsError),
}

/// Receives progress in raw input bytes. Implemented by the command line
/// with a progress bar; the library itself never prints.
pub trait Progress: Sync {
    /// Called once with the total raw size of all inputs.
    fn start(&self, total: u64);
    /// Called as raw bytes are consumed.
    fn advance(&self, bytes: u64);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// How to load inputs.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub window: Window,
    /// Zone of times written without one (`--tz`).
    pub zone: Zone,
    /// Format forced with `--format`, instead of detection.
    pub format: Option<Format>,
    /// Field mapping from `--map`.
    pub user_map: Option<UserMap>,
}

/// What happened to one input: the manifest entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputReport {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// Parser used, or `None` when the input was skipped.
    pub format: Option<&'static str>,
    pub compression: &'static str,
    /// Lines (or records) read: `parsed + rejected`.
    pub records: u64,
    pub rejected: u64,
    /// Parsed but outside `--since`/`--until`.
    pub outside_window: u64,
    /// Rows this input contributed to the frame.
    pub events: u64,
    /// Why the input was not parsed.
    pub skipped: Option<String>,
    /// Where decoding stopped early.
    pub damage: Option<Damage>,
    /// JSON field mapping used: `(column, field, how)`.
    pub mapping: Vec<(&'static str, String, Origin)>,
}

impl InputReport {
    /// Lines or records that became events or fell outside the window.
    pub fn parsed(&self) -> u64 {
        self.records - self.rejected
    }

    /// Whether the input could not be read to its end.
    pub fn is_incomplete(&self) -> bool {
        self.damage.is_some()
            || self
                .skipped
                .as_deref()
                .is_some_and(|s| s.starts_with("cannot read"))
    }
}

/// The loaded evidence.
pub struct Loaded {
    pub frame: DataFrame,
    pub inputs: Vec<InputReport>,
    /// Rejected lines with the index of their input; at most
    /// [`parse::REJECTS_KEPT_PER_CHUNK`] per chunk are kept.
    pub rejects: Vec<(usize, Reject)>,
}

impl Loaded {
    /// Whether any input was damaged or unreadable.
    pub fn is_incomplete(&self) -> bool {
        self.inputs.iter().any(InputReport::is_incomplete)
    }
}

/// Bytes of an input looked at to detect its format.
const DETECT_BYTES: usize = 256 << 10;

/// One parsed piece, tagged for reordering.
struct Piece {
    input: usize,
    chunk: usize,
    format: Format,
    parsed: ParsedChunk,
}

/// Per-input outcome of the parallel phase, besides the pieces.
#[derive(Default)]
struct InputOutcome {
    sha256: String,
    format: Option<Format>,
    skipped: Option<String>,
    damage: Option<Damage>,
    mapping: Vec<(&'static str, String, Origin)>,
}

/// Loads every input under `paths` into one event frame.
pub fn load(
    paths: &[PathBuf],
    opts: &LoadOptions,
    progress: &dyn Progress,
) -> Result<Loaded, LoadError> {
    let files = source::discover(paths)?;
    let opened: Vec<Result<Input, SourceError>> = files.iter().map(|p| Input::open(p)).collect();
    progress.start(opened.iter().flatten().map(Input::len).sum());

    let dict = Dictionary::global();
    let ctx = ParseContext {
        window: opts.window,
        zone: opts.zone,
        dict: dict.clone(),
    };
    let pieces = Mutex::new(Vec::new());
    let outcomes: Vec<Mutex<InputOutcome>> = opened.iter().map(|_| Mutex::default()).collect();
    // Two tasks read each input (hashing, decoding); the last to finish
    // releases its pages.
    let readers: Vec<AtomicU8> = opened.iter().map(|_| AtomicU8::new(2)).collect();
    let fanout = Fanout::for_pool();
    let buffers = decode::Recycler::default();

    let phase = crate::timing::Phase::start("decode and parse");
    rayon::scope(|s| {
        let shared = Shared {
            opts,
            ctx: &ctx,
            progress,
            pieces: &pieces,
            fanout: &fanout,
            buffers: &buffers,
        };
        for (i, input) in opened.iter().enumerate() {
            let Ok(input) = input else { continue };
            let (outcome, readers) = (&outcomes[i], &readers[i]);
            let done = move || {
                if readers.fetch_sub(1, Ordering::AcqRel) == 1 {
                    input.release();
                }
            };
            s.spawn(move |_| {
                lock(outcome).sha256 = input.sha256();
                done();
            });
            s.spawn(move |s| {
                let result = shared.read_input(i, input, s);
                let mut o = lock(outcome);
                (o.format, o.skipped, o.damage, o.mapping) = result;
                done();
            });
        }
    });

    let outcomes: Vec<InputOutcome> = outcomes
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect();
    let mut pieces = pieces.into_inner().unwrap_or_else(|p| p.into_inner());
    pieces.sort_by_key(|p| (p.input, p.chunk));
    drop(phase);
    let _phase = crate::timing::Phase::start("frame assembly");
    finish(&files, &opened, outcomes, pieces, &dict)
}

type ReadResult = (
    Option<Format>,
    Option<String>,
    Option<Damage>,
    Vec<(&'static str, String, Origin)>,
);

/// What every input's reader shares.
#[derive(Clone, Copy)]
struct Shared<'s> {
    opts: &'s LoadOptions,
    ctx: &'s ParseContext,
    progress: &'s dyn Progress,
    pieces: &'s Mutex<Vec<Piece>>,
    fanout: &'s Fanout,
    buffers: &'s decode::Recycler,
}

impl<'s> Shared<'s> {
    /// Detects, decodes and parses one input; parse work is spawned on `s`.
    fn read_input(self, index: usize, input: &'s Input, s: &rayon::Scope<'s>) -> ReadResult {
        if let Compression::Unsupported(name) = input.compression {
            self.progress.advance(input.len());
            return (
                None,
                Some(format!("{name}-compressed: decompress it first")),
                None,
                Vec::new(),
            );
        }
        let sample = decode::peek(input, DETECT_BYTES);
        let complete = input.compression == Compression::None && sample.len() as u64 == input.len();
        let detection = parse::detect(
            &sample,
            complete,
            self.opts.format,
            self.opts.user_map.as_ref(),
        );
        let (format, layout, mapping) = match detection {
            Detection::Parse {
                format,
                layout,
                mapping,
            } => (format, layout, mapping),
            Detection::Skip(reason) => {
                self.progress.advance(input.len());
                return (None, Some(reason), None, Vec::new());
            }
        };
        match layout {
            Layout::Document => self.read_document(index, input, format),
            Layout::Lines => self.read_lines(index, input, format, mapping, s),
        }
    }

    fn read_lines(
        self,
        index: usize,
        input: &'s Input,
        format: Format,
        mapping: Option<FieldMap>,
        s: &rayon::Scope<'s>,
    ) -> ReadResult {
        let mapping = mapping.map(Arc::new);
        let described = mapping.as_ref().map(|m| m.describe()).unwrap_or_default();
        let (ctx, pieces, buffers) = (self.ctx, self.pieces, self.buffers);
        let damage = decode::for_each_chunk(
            input,
            CHUNK_SIZE,
            buffers,
            &|n| self.progress.advance(n),
            |chunk| {
                let mapping = mapping.clone();
                self.fanout.run(s, move || {
                    let parsed =
                        parse::parse_lines(format, mapping.as_deref(), &chunk.data, chunk.cut, ctx);
                    buffers.give(chunk.data);
                    lock(pieces).push(Piece {
                        input: index,
                        chunk: chunk.index,
                        format,
                        parsed,
                    });
                });
            },
        );
        (Some(format), None, damage, described)
    }

    fn read_document(self, index: usize, input: &Input, format: Format) -> ReadResult {
        let (doc, damage) = decode::read_all(input);
        self.progress.advance(input.len());
        let mapping = match format {
            Format::JsonLines => match map_document(&doc, self.opts.user_map.as_ref()) {
                Ok(map) => Some(map),
                Err(reason) => return (None, Some(reason), damage, Vec::new()),
            },
            _ => None,
        };
        let parsed = parse::parse_document(format, mapping.as_ref(), &doc, self.ctx);
        lock(self.pieces).push(Piece {
            input: index,
            chunk: 0,
            format,
            parsed,
        });
        let described = mapping.map(|m| m.describe()).unwrap_or_default();
        (Some(format), None, damage, described)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic in a parse task is a bug, but the data of other inputs is
    // still sound: keep going with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Puts pieces back in order, numbers lines, and builds reports and frame.
fn finish(
    files: &[PathBuf],
    opened: &[Result<Input, SourceError>],
    outcomes: Vec<InputOutcome>,
    pieces: Vec<Piece>,
    dict: &Dictionary,
) -> Result<Loaded, LoadError> {
    let sources: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let mut reports: Vec<InputReport> = files
        .iter()
        .zip(opened)
        .zip(outcomes)
        .map(|((path, input), o)| report_of(path, input, o))
        .collect();
    let mut bases = vec![0u64; files.len()];
    let mut rejects = Vec::new();
    let mut chunks = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let i = piece.input;
        let p = piece.parsed;
        let r = &mut reports[i];
        r.records += p.lines;
        r.rejected += p.rejected;
        r.outside_window += p.outside_window;
        r.events += p.columns.rows as u64;
        rejects.extend(p.rejects.into_iter().map(|mut rej| {
            rej.line += bases[i];
            (i, rej)
        }));
        let origin = ChunkOrigin {
            source: i,
            format: piece.format.as_str(),
            line_base: bases[i],
        };
        bases[i] += p.lines;
        chunks.push((origin, p.columns));
    }
    let frame = frame::assemble(chunks, &sources, dict)?;
    log::debug!(
        "event frame: {} rows, {} MB, {} distinct values",
        frame.height(),
        // Scalar (all-null) columns would be materialised by asking theirs.
        frame
            .columns()
            .iter()
            .filter_map(Column::as_series)
            .map(Series::estimated_size)
            .sum::<usize>()
            >> 20,
        dict.len()
    );
    Ok(Loaded {
        frame,
        inputs: reports,
        rejects,
    })
}

fn report_of(
    path: &std::path::Path,
    input: &Result<Input, SourceError>,
    o: InputOutcome,
) -> InputReport {
    match input {
        Ok(input) => InputReport {
            path: path.display().to_string(),
            sha256: o.sha256,
            bytes: input.len(),
            format: o.format.map(Format::as_str),
            compression: input.compression.as_str(),
            skipped: o.skipped,
            damage: o.damage,
            mapping: o.mapping,
            ..InputReport::default()
        },
        Err(e) => InputReport {
            path: path.display().to_string(),
            compression: "unknown",
            skipped: Some(format!("cannot read: {e}")),
            ..InputReport::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_mixed_inputs_in_order_with_counts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let access =
            "1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\n"
                .repeat(3)
                + "garbage\n";
        std::fs::write(dir.path().join("a.log"), access).expect("write");
        std::fs::write(
            dir.path().join("b.json"),
            r#"{"Records":[{"eventTime":"2024-01-01T00:00:00Z","eventName":"ListBuckets"}]}"#,
        )
        .expect("write");
        std::fs::write(dir.path().join("c.txt"), "hello world\n").expect("write");
        let loaded = load(
            &[dir.path().to_path_buf()],
            &LoadOptions::default(),
            &NoProgress,
        )
        .expect("load");
        assert_eq!(loaded.frame.height(), 4);
        let r = &loaded.inputs;
        assert_eq!(
            (r[0].format, r[0].records, r[0].rejected, r[0].events),
            (Some("combined"), 4, 1, 3)
        );
        assert_eq!(
            (r[1].format, r[1].records, r[1].events),
            (Some("cloudtrail"), 1, 1)
        );
        assert!(r[2].skipped.is_some());
        assert_eq!(loaded.rejects.len(), 1);
        assert_eq!(loaded.rejects[0].1.line, 4);
        assert_eq!(r[0].sha256.len(), 64);
        assert!(!loaded.is_incomplete());
    }
}
