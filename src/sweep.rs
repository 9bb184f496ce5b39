//! Raw IOC sweep: find every indicator in the decompressed bytes, unparsed.
//!
//! This is the first thing an analyst runs with a list of indicators: where
//! does any of them appear at all, in any file, in any format? Each decoded
//! chunk is scanned for the lines that hold any indicator (see `Matcher`),
//! and only those lines are searched for every indicator. Counts follow
//! `zgrep -c -F VALUE`: the number of lines that contain the value (a line
//! with two occurrences counts once), with the first and last such line.
//! Matching is case-sensitive unless asked otherwise, like grep.

use std::path::PathBuf;
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input as Haystack, MatchKind};
use memchr::memmem;
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
    let matcher = Matcher::new(iocs, ignore_case)?;
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

/// Finds the indicators in decoded bytes: a fast scan for the next line
/// holding any of them, then every indicator on that line alone. Matches are
/// rare in a sweep, so nearly all the time goes to the scan.
struct Matcher {
    /// Every indicator, overlapping ones included (`1.2.3.4` inside
    /// `1.2.3.45`), run on the lines the scan finds.
    exact: AhoCorasick,
    scan: Scan,
}

/// How [`Matcher`] looks for the next line with any indicator.
enum Scan {
    /// One substring search per indicator. On log text, full of digits and
    /// dots, an automaton over two to four addresses found no rare byte to
    /// skip by and read 0.4 to 0.9 GB/s, where searching for each address
    /// in turn took 12 ms an address (one decoded 310 MB file of generated
    /// `combined` lines).
    Each(Vec<memmem::Finder<'static>>),
    /// A leftmost-first automaton: from five indicators its prefilter
    /// (Teddy) skips to where one may start, 23 ms for five to 47 ms for 50
    /// over the same file, where one search per indicator grows with their
    /// number. Also for case-insensitive sweeps, which `memmem` cannot do.
    Any(AhoCorasick),
}

/// Up to this many case-sensitive indicators are scanned one by one.
const EACH_MAX: usize = 4;

impl Matcher {
    fn new(iocs: &[String], ignore_case: bool) -> Result<Matcher, aho_corasick::BuildError> {
        let automaton = |kind| {
            AhoCorasickBuilder::new()
                .match_kind(kind)
                .ascii_case_insensitive(ignore_case)
                .build(iocs)
        };
        let scan = if !ignore_case && iocs.len() <= EACH_MAX {
            let each = iocs
                .iter()
                .map(|i| memmem::Finder::new(i.as_bytes()).into_owned());
            Scan::Each(each.collect())
        } else {
            Scan::Any(automaton(MatchKind::LeftmostFirst)?)
        };
        Ok(Matcher {
            exact: automaton(MatchKind::Standard)?,
            scan,
        })
    }
}

impl Scan {
    /// A scan over one chunk, `data`.
    fn cursor(&self, data: &[u8]) -> Cursor<'_> {
        match self {
            Scan::Each(finders) => Cursor::Each {
                finders,
                next: finders
                    .iter()
                    .map(|f| f.find(data).unwrap_or(NONE_LEFT))
                    .collect(),
            },
            Scan::Any(ac) => Cursor::Any(ac),
        }
    }
}

/// Where an indicator that does not occur again in a chunk "next occurs".
const NONE_LEFT: usize = usize::MAX;

/// A [`Scan`] over one chunk. For [`Scan::Each`], where each indicator
/// next occurs: an indicator is searched again only once the scan has
/// passed the occurrence found last.
enum Cursor<'m> {
    Each {
        finders: &'m [memmem::Finder<'static>],
        next: Vec<usize>,
    },
    Any(&'m AhoCorasick),
}

impl Cursor<'_> {
    /// Start of the first occurrence of any indicator at or after `at`.
    fn first(&mut self, data: &[u8], at: usize) -> Option<usize> {
        match self {
            Cursor::Each { finders, next } => {
                for (next, finder) in next.iter_mut().zip(finders.iter()) {
                    if *next < at {
                        *next = finder.find(&data[at..]).map_or(NONE_LEFT, |i| at + i);
                    }
                }
                next.iter().copied().min().filter(|&n| n != NONE_LEFT)
            }
            Cursor::Any(ac) => ac
                .find(Haystack::new(data).span(at..data.len()))
                .map(|m| m.start()),
        }
    }
}

/// Lines holding an indicator, at least, before [`search_chunk`] judges
/// whether they are dense.
const DENSE_AFTER: u64 = 64;

/// Bytes scanned per line holding an indicator below which the rest of a
/// chunk is searched in one pass: when most lines hold one (an indicator
/// as common as a browser's name), stopping at each line costs more than
/// the scan saves.
const DENSE_GAP: usize = 2048;

fn search_chunk(
    matcher: &Matcher,
    data: &[u8],
    input: usize,
    chunk: usize,
    window: Window,
) -> ChunkTally {
    let mut per_ioc = vec![(0u64, 0u64, 0u64); matcher.exact.patterns_len()];
    let mut scan = matcher.scan.cursor(data);
    // `line` is the number of the line that starts at `at`.
    let (mut at, mut line, mut found) = (0usize, 1u64, 0u64);
    while at < data.len() {
        if found >= DENSE_AFTER && at < found as usize * DENSE_GAP {
            tally_rest(matcher, data, at, line, window, &mut per_ioc);
            break;
        }
        let Some(hit) = scan.first(data, at) else {
            break;
        };
        let (start, end) = line_bounds(data, at, hit);
        line += memchr::memchr_iter(b'\n', &data[at..start]).count() as u64;
        let text = &data[start..end];
        if in_window(text, window) {
            for m in matcher.exact.find_overlapping_iter(text) {
                tally(&mut per_ioc[m.pattern().as_usize()], line);
            }
        }
        found += 1;
        at = end + 1;
        line += 1;
    }
    ChunkTally {
        input,
        chunk,
        lines: count_lines(data),
        per_ioc,
    }
}

/// Every indicator in `data[from..]` in one pass; `line` is the number of
/// the line that starts at `from`.
fn tally_rest(
    matcher: &Matcher,
    data: &[u8],
    from: usize,
    mut line: u64,
    window: Window,
    per_ioc: &mut [(u64, u64, u64)],
) {
    let mut pos = from;
    let rest = Haystack::new(data).span(from..data.len());
    for m in matcher.exact.find_overlapping_iter(rest) {
        // Overlapping matches come in order of their end; an indicator
        // never spans a line end, so its last byte gives its line.
        let last = m.end() - 1;
        if last >= pos {
            line += memchr::memchr_iter(b'\n', &data[pos..last]).count() as u64;
            pos = last;
        }
        let t = &mut per_ioc[m.pattern().as_usize()];
        // The line is only looked for when a window asks for its time.
        let inside = || {
            window.is_unbounded() || {
                let (start, end) = line_bounds(data, 0, last);
                in_window(&data[start..end], window)
            }
        };
        if t.2 != line && inside() {
            tally(t, line);
        }
    }
}

/// Counts line `line` for one indicator, once however often it occurs there.
fn tally(t: &mut (u64, u64, u64), line: u64) {
    if t.2 == line {
        return;
    }
    if t.0 == 0 {
        t.1 = line;
    }
    t.0 += 1;
    t.2 = line;
}

/// Start and end (its `\n` excluded) of the line that holds byte `at`,
/// known to start at `floor` or later.
fn line_bounds(data: &[u8], floor: usize, at: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &data[floor..at]).map_or(floor, |i| floor + i + 1);
    let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
    (start, end)
}

/// Whether `line` is inside `window` (see [`sweep`]).
fn in_window(line: &[u8], window: Window) -> bool {
    window.is_unbounded() || first_time_in(line, Zone::Utc).is_none_or(|ts| window.contains(ts))
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
        let matcher = Matcher::new(&iocs, false).expect("matcher");
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

    /// Per indicator, lines holding it and the first and last, by brute force.
    fn naive(iocs: &[String], text: &str, ignore_case: bool) -> Vec<(u64, u64, u64)> {
        let fold = |s: &str| {
            if ignore_case {
                s.to_ascii_lowercase()
            } else {
                s.to_string()
            }
        };
        iocs.iter()
            .map(|ioc| {
                let lines: Vec<u64> = (1..)
                    .zip(text.split('\n'))
                    .filter(|(_, l)| fold(l).contains(&fold(ioc)))
                    .map(|(n, _)| n)
                    .collect();
                match (lines.first(), lines.last()) {
                    (Some(&f), Some(&l)) => (lines.len() as u64, f, l),
                    _ => (0, 0, 0),
                }
            })
            .collect()
    }

    #[test]
    fn every_scan_counts_what_brute_force_counts() {
        // Sparse hits, a dense stretch (every line, past DENSE_AFTER), an
        // indicator inside another, and two that overlap in the text.
        let mut text = String::new();
        for i in 0..3000 {
            let line = match i % 500 {
                7 => "GET /a 10.0.0.1 x".to_string(),
                9 => "ua KEY-9 and 10.0.0.10 and 10.0.0.1".to_string(),
                100..=299 => format!("Mozilla/5.0 line {i} abc-def"),
                _ => format!("quiet line {i} 10.0.0.2"),
            };
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str("last 10.0.0.1");
        let sets: [&[&str]; 3] = [
            &["10.0.0.1", "Mozilla"],
            &[
                "10.0.0.1",
                "10.0.0.10",
                "key-9",
                "Mozilla",
                "abc-",
                "-def",
                "never",
            ],
            &["10.0.0.1", "key-9"],
        ];
        for (set, ignore_case) in sets.iter().zip([false, false, true]) {
            let iocs: Vec<String> = set.iter().map(|s| s.to_string()).collect();
            let matcher = Matcher::new(&iocs, ignore_case).expect("matcher");
            let got = search_chunk(&matcher, text.as_bytes(), 0, 0, Window::default());
            assert_eq!(got.per_ioc, naive(&iocs, &text, ignore_case), "{iocs:?}");
            assert_eq!(got.lines, 3001);
        }
    }
}
