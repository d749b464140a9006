//! `responses.jsonl`: the crash-safe journal of finished requests.
//!
//! Each finished request is one JSON line, written and flushed as soon as it
//! completes, so a crash (even `kill -9`) loses at most the line being
//! written. `--resume` reads the journal back, drops a torn last line, and
//! carries on appending. Everything else in the run directory is derived from
//! the journal and the plan at the end of the run.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::record::ResponseRecord;

pub const FILE_NAME: &str = "responses.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal {path}: {source}; check the run directory is writable")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot write the journal {path}: {source}; is the disk full?")]
    Write { path: PathBuf, source: io::Error },
    #[error("the journal {path} is damaged at line {line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Appends records, one flushed line each.
pub struct JournalWriter {
    path: PathBuf,
    out: BufWriter<File>,
    line: Vec<u8>,
}

impl JournalWriter {
    /// Open for appending, creating the file; a torn last line (from a
    /// crash) is cut off first so the file stays valid JSON lines.
    pub fn open(dir: &Path) -> Result<JournalWriter, JournalError> {
        let path = dir.join(FILE_NAME);
        let open_err = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(open_err)?;
        let good = valid_prefix_len(&mut file).map_err(open_err)?;
        if good < file.metadata().map_err(open_err)?.len() {
            file.set_len(good).map_err(open_err)?;
        }
        file.seek(SeekFrom::End(0)).map_err(open_err)?;
        Ok(JournalWriter {
            path,
            out: BufWriter::with_capacity(64 * 1024, file),
            line: Vec::with_capacity(4096),
        })
    }

    /// Append one record and flush it to the OS.
    pub fn append(&mut self, record: &ResponseRecord) -> Result<(), JournalError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record).map_err(|e| JournalError::Write {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .and_then(|_| self.out.flush())
            .map_err(|source| JournalError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// Length of the file up to and including its last newline.
fn valid_prefix_len(file: &mut File) -> io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&mut *file);
    let mut good = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            return Ok(good);
        }
        good += n as u64;
    }
}

/// Reads the journal back, in the order it was written.
pub struct JournalReader {
    path: PathBuf,
    lines: io::Lines<BufReader<File>>,
    line_no: usize,
}

impl JournalReader {
    /// `Ok(None)` when the run has no journal yet.
    pub fn open(dir: &Path) -> Result<Option<JournalReader>, JournalError> {
        let path = dir.join(FILE_NAME);
        match File::open(&path) {
            Ok(f) => Ok(Some(JournalReader {
                path,
                lines: BufReader::new(f).lines(),
                line_no: 0,
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(JournalError::Open { path, source }),
        }
    }
}

impl Iterator for JournalReader {
    type Item = Result<ResponseRecord, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(l) => l,
                Err(source) => {
                    return Some(Err(JournalError::Open {
                        path: self.path.clone(),
                        source,
                    }))
                }
            };
            self.line_no += 1;
            if line.trim().is_empty() {
                continue;
            }
            return Some(
                serde_json::from_str(&line).map_err(|e| JournalError::Corrupt {
                    path: self.path.clone(),
                    line: self.line_no,
                    message: e.to_string(),
                }),
            );
        }
    }
}

/// Every record in a run directory's journal; a torn last line (from a crash)
/// is skipped, damage anywhere else is an error.
pub fn read_all(dir: &Path) -> Result<Vec<ResponseRecord>, JournalError> {
    let Some(reader) = JournalReader::open(dir)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut pending: Option<JournalError> = None;
    for rec in reader {
        if let Some(e) = pending.take() {
            return Err(e);
        }
        match rec {
            Ok(r) => out.push(r),
            Err(e) => pending = Some(e),
        }
    }
    Ok(out)
}
