//! `responses.jsonl`: the crash-safe journal of finished requests.
//!
//! Each finished request is one JSON line, appended as it completes and
//! handed to the OS within [`FLUSH_WITHIN`] (one write per batch rather than
//! per request), so a crash (even `kill -9`) loses at most the lines of that
//! last moment, whose jobs `--resume` sends again. `--resume` reads the
//! journal back, drops a torn last line, and carries on appending.
//! Everything else in the run directory is derived from the journal and the
//! plan at the end of the run.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::job_index::JobIndex;
use crate::record::{CheckResult, CostSource, ErrorKind, RequestRow, ResponseRecord, Status};

pub const FILE_NAME: &str = "responses.jsonl";

/// A finished request's line reaches the OS at most this long after it was
/// appended (see [`JournalWriter::flush`]).
pub const FLUSH_WITHIN: std::time::Duration = std::time::Duration::from_millis(100);

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

/// Lines are written to the file once this many bytes are waiting, or at
/// the caller's next flush.
const WRITE_AT: usize = 64 * 1024;

/// Appends records, one line each; the caller flushes (within [`FLUSH_WITHIN`]).
///
/// A failed write (a full disk) loses nothing: the lines stay in memory and
/// the next flush writes them again, after cutting off whatever part of them
/// reached the file, so the file only ever holds whole lines and a line is
/// never written twice.
pub struct JournalWriter {
    path: PathBuf,
    file: File,
    /// Appended lines not yet written whole to the file.
    pending: Vec<u8>,
    /// The file's length up to the last line written whole.
    committed: u64,
    /// A write failed part-way: the file may hold a part of `pending`.
    torn: bool,
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
        let committed = file.seek(SeekFrom::End(0)).map_err(open_err)?;
        Ok(JournalWriter {
            path,
            file,
            pending: Vec::with_capacity(WRITE_AT),
            committed,
            torn: false,
            line: Vec::with_capacity(4096),
        })
    }

    /// Append one record (buffered: call [`JournalWriter::flush`] soon). An
    /// error means the file could not be written: the record is kept, and
    /// the next flush tries again.
    pub fn append(&mut self, record: &ResponseRecord) -> Result<(), JournalError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)
            .map_err(|e| self.error(io::Error::other(e)))?;
        self.line.push(b'\n');
        self.pending.extend_from_slice(&self.line);
        if self.pending.len() >= WRITE_AT && !self.torn {
            self.flush()?;
        }
        Ok(())
    }

    /// Hand every appended line to the OS; on failure they stay pending.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.torn {
            self.file
                .set_len(self.committed)
                .map_err(|e| self.error(e))?;
            self.torn = false;
        }
        // The file is opened for appending: this lands at `committed`.
        if let Err(e) = self.file.write_all(&self.pending) {
            self.torn = true;
            return Err(self.error(e));
        }
        self.committed += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Records appended but not yet written to the file.
    pub fn pending_records(&self) -> usize {
        memchr::memchr_iter(b'\n', &self.pending).count()
    }

    fn error(&self, source: io::Error) -> JournalError {
        JournalError::Write {
            path: self.path.clone(),
            source,
        }
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
    reader: BufReader<File>,
    /// The current line, reused from line to line.
    line: String,
    line_no: usize,
}

impl JournalReader {
    /// `Ok(None)` when the run has no journal yet.
    pub fn open(dir: &Path) -> Result<Option<JournalReader>, JournalError> {
        let path = dir.join(FILE_NAME);
        match File::open(&path) {
            Ok(f) => Ok(Some(JournalReader {
                path,
                reader: BufReader::with_capacity(256 * 1024, f),
                line: String::new(),
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
            self.line.clear();
            match self.reader.read_line(&mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => {
                    return Some(Err(JournalError::Open {
                        path: self.path.clone(),
                        source,
                    }))
                }
            };
            self.line_no += 1;
            if self.line.trim().is_empty() {
                continue;
            }
            return Some(parse_line(&self.line).map_err(|e| JournalError::Corrupt {
                path: self.path.clone(),
                line: self.line_no,
                message: e.to_string(),
            }));
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

/// The journal's records in job order (the file is in completion order),
/// through a [`JobIndex`] of one (job, byte offset) pair per line, sorted
/// in bounded memory, then each line read back at its offset. A line that
/// does not parse (a torn last line) is left out, as [`JournalReader`]'s
/// callers do; a job journaled twice keeps its first line.
pub struct JobOrder {
    path: PathBuf,
    index: JobIndex,
}

impl JobOrder {
    /// Index the journal of `dir`; an empty index when there is none.
    pub fn build(dir: &Path) -> Result<JobOrder, JournalError> {
        Self::build_chunked(dir, crate::job_index::CHUNK)
    }

    /// [`JobOrder::build`] sorting at most `chunk` pairs in memory at once.
    pub(crate) fn build_chunked(dir: &Path, chunk: usize) -> Result<JobOrder, JournalError> {
        let path = dir.join(FILE_NAME);
        let open_err = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(JobOrder {
                    path,
                    index: JobIndex::empty(),
                })
            }
            Err(e) => return Err(open_err(e)),
        };
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let index =
            JobIndex::build_or_in_memory(&mut reader, job_of, dir, chunk).map_err(open_err)?;
        Ok(JobOrder { path, index })
    }

    /// The records, by ascending job.
    pub fn records(&self) -> Result<impl Iterator<Item = ResponseRecord> + '_, JournalError> {
        let mut pairs = self.index.pairs().peekable();
        let mut reader = match File::open(&self.path) {
            Ok(f) => Some(BufReader::with_capacity(256 * 1024, f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound && pairs.peek().is_none() => None,
            Err(source) => {
                return Err(JournalError::Open {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let mut pos = 0u64;
        let mut line = String::new();
        Ok(pairs.filter_map(move |(_, offset)| {
            let reader = reader.as_mut()?;
            // Relative seeks keep the read buffer when the next line is in
            // it, as it mostly is (completion order is nearly job order).
            let delta = i64::try_from(offset).ok()? - i64::try_from(pos).ok()?;
            reader.seek_relative(delta).ok()?;
            line.clear();
            let n = reader.read_line(&mut line).ok()?;
            pos = offset + n as u64;
            parse_line(&line).ok()
        }))
    }
}

/// The job of one journal line: from its leading `{"job":N,` (how
/// [`JournalWriter`] writes it) without parsing the rest, else by parsing it.
fn job_of(line: &str) -> Option<u64> {
    crate::job_index::leading_job(line).or_else(|| {
        if line.trim().is_empty() {
            return None;
        }
        parse_line(line).ok().map(|r| r.row.job)
    })
}

/// Parse one journal line. Same JSON as [`ResponseRecord`]'s own
/// `Deserialize`, but through a flat mirror: `#[serde(flatten)]` buffers every
/// field into an intermediate tree first, which made reading the journal back
/// several times slower than writing it.
pub fn parse_line(line: &str) -> Result<ResponseRecord, serde_json::Error> {
    serde_json::from_str::<FlatRecord>(line).map(ResponseRecord::from)
}

/// [`ResponseRecord`] with [`RequestRow`]'s fields inline (the journal's
/// layout); unknown fields are ignored as with `flatten`.
#[derive(Deserialize)]
struct FlatRecord {
    job: u64,
    suite: String,
    case_id: String,
    model: String,
    repeat: u32,
    status: Status,
    error_kind: Option<ErrorKind>,
    error_message: Option<String>,
    attempts: u32,
    queue_ms: Option<f64>,
    ttft_ms: Option<f64>,
    duration_ms: Option<f64>,
    tpot_ms: Option<f64>,
    tokens_per_s: Option<f64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
    cost_usd: Option<f64>,
    cost_source: CostSource,
    generation_id: Option<String>,
    provider: Option<String>,
    finish_reason: Option<String>,
    passed: Option<bool>,
    score: Option<f64>,
    failed_checks: Option<String>,
    #[serde(default)]
    send_lag_ms: Option<f64>,
    #[serde(default)]
    slo_met: Option<bool>,
    #[serde(default)]
    tool_call_count: Option<u32>,
    #[serde(default)]
    tool_calls: Vec<crate::record::ToolCall>,
    #[serde(default)]
    params: Option<crate::record::Params>,
    #[serde(default)]
    truncated: bool,
    #[serde(default)]
    gateway_cost_usd: Option<f64>,
    #[serde(default)]
    gateway_latency_ms: Option<f64>,
    #[serde(default)]
    gateway_generation_ms: Option<f64>,
    #[serde(default)]
    client_overhead_ms: Option<f64>,
    #[serde(default)]
    served_by: Option<String>,
    #[serde(default)]
    is_byok: Option<bool>,
    #[serde(default)]
    fallback: bool,
    #[serde(default)]
    fallback_chain: Option<String>,
    #[serde(default)]
    cost_mismatch: bool,
    #[serde(default)]
    cached: bool,
    #[serde(default)]
    carried: bool,
    #[serde(default)]
    cache_saved_usd: Option<f64>,
    #[serde(default)]
    cache_probe: Option<crate::record::CacheProbe>,
    text: String,
    #[serde(default)]
    reasoning: String,
    #[serde(default)]
    checks: Vec<CheckResult>,
    #[serde(default)]
    itl_us: Vec<u32>,
    #[serde(default)]
    grader_cost_usd: Option<f64>,
}

impl From<FlatRecord> for ResponseRecord {
    fn from(f: FlatRecord) -> Self {
        ResponseRecord {
            row: RequestRow {
                job: f.job,
                suite: f.suite,
                case_id: f.case_id,
                model: f.model,
                repeat: f.repeat,
                status: f.status,
                error_kind: f.error_kind,
                error_message: f.error_message,
                attempts: f.attempts,
                queue_ms: f.queue_ms,
                ttft_ms: f.ttft_ms,
                duration_ms: f.duration_ms,
                tpot_ms: f.tpot_ms,
                tokens_per_s: f.tokens_per_s,
                input_tokens: f.input_tokens,
                output_tokens: f.output_tokens,
                reasoning_tokens: f.reasoning_tokens,
                cached_tokens: f.cached_tokens,
                cache_write_tokens: f.cache_write_tokens,
                cost_usd: f.cost_usd,
                cost_source: f.cost_source,
                generation_id: f.generation_id,
                provider: f.provider,
                finish_reason: f.finish_reason,
                passed: f.passed,
                score: f.score,
                failed_checks: f.failed_checks,
                send_lag_ms: f.send_lag_ms,
                slo_met: f.slo_met,
                tool_calls: f.tool_call_count,
                truncated: f.truncated,
                gateway_cost_usd: f.gateway_cost_usd,
                gateway_latency_ms: f.gateway_latency_ms,
                gateway_generation_ms: f.gateway_generation_ms,
                client_overhead_ms: f.client_overhead_ms,
                served_by: f.served_by,
                is_byok: f.is_byok,
                fallback: f.fallback,
                fallback_chain: f.fallback_chain,
                cost_mismatch: f.cost_mismatch,
                cached: f.cached,
                carried: f.carried,
                cache_saved_usd: f.cache_saved_usd,
                cache_probe: f.cache_probe,
            },
            text: f.text,
            reasoning: f.reasoning,
            checks: f.checks,
            itl_us: f.itl_us,
            grader_cost_usd: f.grader_cost_usd,
            tool_calls: f.tool_calls,
            params: f.params,
        }
    }
}

#[cfg(test)]
mod tests;
