//! Raw IOC sweep: find every indicator in the decompressed bytes, unparsed.
//!
//! This is the first thing an analyst runs with a list of indicators: where
//! does any of them appear at all, in any file, in any format? All values are
//! searched at once with one Aho-Corasick automaton over each decoded chunk.
//! Counts follow `zgrep -c -F VALUE`: the number of lines that contain the
//! value (a line with two occurrences counts once), with the first and last
//! such line. Matching is case-sensitive unless asked otherwise, like grep.

use std::path::PathBuf;
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use thiserror::Error;

use crate::decode::{self, CHUNK_SIZE, Damage};
use crate::load::Progress;
use crate::parallel::Fanout;
use crate::parse::count_lines;
use crate::source::{self, Compression, Input, SourceError};
use crate::time::{Window, Zone, first_time_in};

/// A sweep that cannot run.
#[derive(Debug, Error)]
pub enum SweepError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("no indicators to search for")]
    NoIndicators,
    #[error("building the indicator matcher: {0}")]
    Build(#[from] aho_corasick::BuildError),
}

/// Where one indicator was found in one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Index into [`SweepReport::iocs`].
    pub ioc: usize,
    /// Index into [`SweepReport::inputs`].
    pub input: usize,
    /// Lines containing the indicator.
    pub lines: u64,
    pub first_line: u64,
    pub last_line: u64,
}

/// One searched input.
#[derive(Clone, Debug)]
pub struct SweptInput {
    pub path: String,
    pub compression: &'static str,
    /// Lines searched.
    pub lines: u64,
    pub damage: Option<Damage>,
    pub skipped: Option<String>,
}

/// Result of a sweep, sorted by indicator then input.
#[derive(Clone, Debug)]
pub struct SweepReport {
    pub iocs: Vec<String>,
    pub inputs: Vec<SweptInput>,
    pub hits: Vec<Hit>,
}

impl SweepReport {
    /// Whether an input was damaged or could not be searched.
    pub fn is_incomplete(&self) -> bool {
        self.inputs
            .iter()
            .any(|i| i.damage.is_some() || i.skipped.is_some())
    }
}

/// Reads indicators, one per line; blank lines and `#` comments are ignored.
pub fn parse_ioc_list(text: &str) -> Vec<String> {
    let mut iocs: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    iocs.sort();
    iocs.dedup();
    iocs
}

/// Per-chunk tallies: for each indicator, lines, first and last line
/// (chunk-relative), and the number of lines in the chunk.
struct ChunkTally {
    input: usize,
    chunk: usize,
    lines: u64,
    per_ioc: Vec<(u64, u64, u64)>,
}

/// Searches every input under `paths` for every indicator.
/// With a bounded `window`, a matching line counts only when the first time
/// written on it falls inside; lines without a readable time still count,
/// since nothing says they are outside.
pub fn sweep(
    paths: &[PathBuf],
    iocs: &[String],
    ignore_case: bool,
    window: Window,
    progress: &dyn Progress,
) -> Result<SweepReport, SweepError> {
    if iocs.is_empty() {
        return Err(SweepError::NoIndicators);
    }
    let matcher = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(ignore_case)
        .build(iocs)?;
    let files = source::discover(paths)?;
    let opened: Vec<Result<Input, SourceError>> = files.iter().map(|p| Input::open(p)).collect();
    progress.start(opened.iter().flatten().map(Input::len).sum());

    let tallies = Mutex::new(Vec::new());
    let damages: Vec<Mutex<Option<Damage>>> = files.iter().map(|_| Mutex::new(None)).collect();
    let fanout = Fanout::for_pool();
    let buffers = decode::Recycler::default();
    rayon::scope(|s| {
        for (i, input) in opened.iter().enumerate() {
            let Ok(input) = input else { continue };
            if let Compression::Unsupported(_) = input.compression {
                continue;
            }
            let (matcher, tallies, damage, fanout) = (&matcher, &tallies, &damages[i], &fanout);
            let buffers = &buffers;
            s.spawn(move |s| {
                let advance = |n| progress.advance(n);
                let d = decode::for_each_chunk(input, CHUNK_SIZE, buffers, &advance, |chunk| {
                    fanout.run(s, move || {
                        let t = search_chunk(matcher, &chunk.data, i, chunk.index, window);
                        buffers.give(chunk.data);
                        lock(tallies).push(t);
                    });
                });
                *lock(damage) = d;
                // Decoded: its pages need not stay resident (a search still
                // reading a plain file's pages faults the same bytes back).
                input.release();
            });
        }
    });

    let mut tallies = tallies.into_inner().unwrap_or_else(|p| p.into_inner());
    tallies.sort_by_key(|t| (t.input, t.chunk));
    let inputs = swept_inputs(&files, &opened, damages);
    Ok(merge(iocs, inputs, tallies))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn search_chunk(
    matcher: &AhoCorasick,
    data: &[u8],
    input: usize,
    chunk: usize,
    window: Window,
) -> ChunkTally {
    let mut per_ioc = vec![(0u64, 0u64, 0u64); matcher.patterns_len()];
    let (mut pos, mut line) = (0usize, 1u64);
    for m in matcher.find_overlapping_iter(data) {
        // Overlapping matches are reported in order of their end; an
        // indicator never spans a line end, so its last byte gives its line.
        let last = m.end() - 1;
        if last >= pos {
            line += memchr::memchr_iter(b'\n', &data[pos..last]).count() as u64;
            pos = last;
        }
        let t = &mut per_ioc[m.pattern().as_usize()];
        if t.2 == line || !in_window(data, last, window) {
            continue;
        }
        if t.0 == 0 {
            t.1 = line;
        }
        t.0 += 1;
        t.2 = line;
    }
    ChunkTally {
        input,
        chunk,
        lines: count_lines(data),
        per_ioc,
    }
}

/// Whether the line around byte `at` is inside `window` (see [`sweep`]).
fn in_window(data: &[u8], at: usize, window: Window) -> bool {
    if window.is_unbounded() {
        return true;
    }
    let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
    first_time_in(&data[start..end], Zone::Utc).is_none_or(|ts| window.contains(ts))
}

fn swept_inputs(
    files: &[PathBuf],
    opened: &[Result<Input, SourceError>],
    damages: Vec<Mutex<Option<Damage>>>,
) -> Vec<SweptInput> {
    files
        .iter()
        .zip(opened)
        .zip(damages)
        .map(|((path, input), damage)| {
            let damage = damage.into_inner().unwrap_or_else(|p| p.into_inner());
            let (compression, skipped) = match input {
                Ok(i) => match i.compression {
                    Compression::Unsupported(name) => (
                        name,
                        Some(format!("{name}-compressed: decompress it first")),
                    ),
                    c => (c.as_str(), None),
                },
                Err(e) => ("unknown", Some(format!("cannot read: {e}"))),
            };
            SweptInput {
                path: path.display().to_string(),
                compression,
                lines: 0,
                damage,
                skipped,
            }
        })
        .collect()
}

/// Adds chunk line offsets and folds chunk tallies into hits.
fn merge(iocs: &[String], mut inputs: Vec<SweptInput>, tallies: Vec<ChunkTally>) -> SweepReport {
    let mut acc: Vec<Vec<(u64, u64, u64)>> = vec![vec![(0, 0, 0); inputs.len()]; iocs.len()];
    for t in tallies {
        let base = inputs[t.input].lines;
        for (ioc, &(n, first, last)) in t.per_ioc.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let a = &mut acc[ioc][t.input];
            if a.0 == 0 {
                a.1 = base + first;
            }
            a.0 += n;
            a.2 = base + last;
        }
        inputs[t.input].lines += t.lines;
    }
    let mut hits = Vec::new();
    for (ioc, per_input) in acc.into_iter().enumerate() {
        for (input, (lines, first_line, last_line)) in per_input.into_iter().enumerate() {
            if lines > 0 {
                hits.push(Hit {
                    ioc,
                    input,
                    lines,
                    first_line,
                    last_line,
                });
            }
        }
    }
    SweepReport {
        iocs: iocs.to_vec(),
        inputs,
        hits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::NoProgress;

    #[test]
    fn counts_lines_like_grep_c() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "a 1.2.3.4 x 1.2.3.4\nnothing\n1.2.3.45 and key-9\n\nlast 1.2.3.4";
        std::fs::write(dir.path().join("f.log"), text).expect("write");
        let iocs = parse_ioc_list("# attacker\n1.2.3.4\nkey-9\n\nnever\n");
        assert_eq!(iocs, ["1.2.3.4", "key-9", "never"]);
        let report = sweep(
            &[dir.path().to_path_buf()],
            &iocs,
            false,
            Window::default(),
            &NoProgress,
        )
        .expect("sweep");
        assert_eq!(
            report.hits,
            vec![
                Hit {
                    ioc: 0,
                    input: 0,
                    lines: 3,
                    first_line: 1,
                    last_line: 5
                },
                Hit {
                    ioc: 1,
                    input: 0,
                    lines: 1,
                    first_line: 3,
                    last_line: 3
                },
            ]
        );
        assert_eq!(report.inputs[0].lines, 5);
    }

    #[test]
    fn chunk_offsets_are_added() {
        let iocs = vec!["needle".to_string()];
        let matcher = AhoCorasick::new(&iocs).expect("matcher");
        let a = search_chunk(&matcher, b"x\nneedle\n", 0, 0, Window::default());
        let b = search_chunk(&matcher, b"y\ny\nneedle needle\n", 0, 1, Window::default());
        let inputs = vec![SweptInput {
            path: "f".into(),
            compression: "none",
            lines: 0,
            damage: None,
            skipped: None,
        }];
        let report = merge(&iocs, inputs, vec![a, b]);
        assert_eq!(
            report.hits,
            vec![Hit {
                ioc: 0,
                input: 0,
                lines: 2,
                first_line: 2,
                last_line: 5
            }]
        );
    }
}
