//! Source stage: find the input files, open them read-only, fingerprint them.
//!
//! Folders are walked recursively in sorted order, so the same evidence gives
//! the same input order (and the same output) on every run. Each file is
//! memory-mapped read-only: evidence is never written to, and no copy of a
//! whole file is made. Compression is recognised from magic bytes, never from
//! the file name, because rotated logs are often renamed (`access.log.2` that
//! is gzip, `x.gz` that is plain).

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// An input that could not be found or opened.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{path}: no such file or folder")]
    Missing { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// How an input is compressed, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip, possibly several members one after another.
    Gzip,
    /// A compression breachscope does not decode; the input is reported and
    /// skipped.
    Unsupported(&'static str),
}

impl Compression {
    /// Recognises gzip, zstd, bzip2, xz and zip by magic bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Unsupported("zstd"),
            [b'B', b'Z', b'h', ..] => Compression::Unsupported("bzip2"),
            [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Unsupported("xz"),
            [b'P', b'K', 0x03, 0x04, ..] => Compression::Unsupported("zip"),
            _ => Compression::None,
        }
    }

    /// The name written to the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Unsupported(name) => name,
        }
    }
}

/// An opened input: its bytes, mapped read-only.
pub struct Input {
    /// The path as the user gave it, joined with the path inside a folder.
    pub path: PathBuf,
    data: Option<Mmap>,
    pub compression: Compression,
}

impl Input {
    /// Opens `path` read-only and maps it.
    pub fn open(path: &Path) -> Result<Input, SourceError> {
        let io = |source| SourceError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // An empty file cannot be mapped on every platform; it has no bytes
        // to read anyway.
        let data = if len == 0 {
            None
        } else {
            // SAFETY: the map is read-only. Another process truncating the
            // file while we read would fault; evidence is not expected to
            // change under an investigation.
            Some(unsafe { Mmap::map(&file) }.map_err(io)?)
        };
        let mut input = Input {
            path: path.to_path_buf(),
            data,
            compression: Compression::None,
        };
        input.compression = Compression::sniff(input.bytes());
        Ok(input)
    }

    /// The raw (possibly compressed) bytes.
    pub fn bytes(&self) -> &[u8] {
        self.data.as_deref().unwrap_or(&[])
    }

    /// Drops the mapped pages from this process's resident memory once the
    /// input has been read: they stay in the system's page cache, and a
    /// later read faults the same bytes back in. Without it every archive
    /// read so far counts against the run's memory until the end of loading.
    pub fn release(&self) {
        #[cfg(unix)]
        if let Some(map) = &self.data {
            // SAFETY: the map is a read-only mapping of a file; dropping its
            // pages cannot change what a later read sees.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// Size on disk.
    pub fn len(&self) -> u64 {
        self.bytes().len() as u64
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    /// The path as text, for messages and outputs.
    pub fn display(&self) -> String {
        self.path.display().to_string()
    }

    /// Hex SHA-256 of the raw bytes.
    pub fn sha256(&self) -> String {
        let digest = Sha256::digest(self.bytes());
        let mut out = String::with_capacity(64);
        for b in digest {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Expands files and folders into the sorted list of files to read.
///
/// Folders are walked recursively; symbolic links to files are followed, but
/// links to folders are not, so a link loop cannot trap the walk. A path that
/// does not exist is an error: a typo must not look like an empty result.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|_| SourceError::Missing {
            path: path.display().to_string(),
        })?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), SourceError> {
    let io = |source| SourceError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort();
    for path in entries {
        let link = std::fs::symlink_metadata(&path)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() && !link => walk(&path, out)?,
            Ok(meta) if meta.is_file() => out.push(path),
            // Dangling links, sockets and linked folders are not log files.
            _ => log::debug!("ignoring {}: not a regular file", path.display()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_from_magic_bytes() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(Compression::sniff(b"127.0.0.1 - -"), Compression::None);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Unsupported("zstd")
        );
        assert_eq!(Compression::sniff(b""), Compression::None);
    }

    #[test]
    fn walks_folders_sorted_and_hashes() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("b")).expect("mkdir");
        std::fs::write(dir.path().join("b/2.log"), "x").expect("write");
        std::fs::write(dir.path().join("a.log"), "abc").expect("write");
        std::fs::write(dir.path().join("empty.log"), "").expect("write");
        let found = discover(&[dir.path().to_path_buf()]).expect("walk");
        let names: Vec<_> = found
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .expect("inside")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a.log", "b/2.log", "empty.log"]);
        let input = Input::open(&found[0]).expect("open");
        assert_eq!(
            input.sha256(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(Input::open(&found[2]).expect("open empty").is_empty());
        // Released pages read back the same from the file.
        input.release();
        assert_eq!(input.bytes(), b"abc");
        Input::open(&found[2]).expect("open empty").release();
        assert!(discover(&[dir.path().join("nope")]).is_err());
    }
}
