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
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

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

/// Appends records, one line each; the caller flushes (within [`FLUSH_WITHIN`]).
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

    /// Append one record (buffered: call [`JournalWriter::flush`] soon).
    pub fn append(&mut self, record: &ResponseRecord) -> Result<(), JournalError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)
            .map_err(|e| self.error(io::Error::other(e)))?;
        self.line.push(b'\n');
        self.out.write_all(&self.line).map_err(|e| self.error(e))
    }

    /// Hand every appended line to the OS.
    pub fn flush(&mut self) -> Result<(), JournalError> {
        self.out.flush().map_err(|e| self.error(e))
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
mod tests {
    use super::*;
    use crate::record::JobKey;

    /// The flat mirror reads exactly what `ResponseRecord`'s own derive
    /// reads, for full and minimal rows.
    #[test]
    fn flat_parse_matches_the_derive() {
        let key = JobKey {
            job: 7,
            case_index: 0,
            model_index: 0,
            repeat: 2,
        };
        let mut full = ResponseRecord {
            row: RequestRow::skipped(key, "s", "c\"1", "m/x", ErrorKind::RateLimited),
            text: "héllo\n".into(),
            reasoning: "why".into(),
            checks: vec![CheckResult {
                check: "contains".into(),
                passed: false,
                weight: 1.5,
                reason: "no".into(),
            }],
            itl_us: vec![1, 2, 3],
            grader_cost_usd: Some(0.25),
            tool_calls: vec![],
            params: None,
        };
        full.row.status = Status::Ok;
        full.row.ttft_ms = Some(1.25);
        full.row.output_tokens = Some(9);
        full.row.passed = Some(false);
        full.row.send_lag_ms = Some(0.5);
        let mut minimal = full.clone();
        minimal.reasoning.clear();
        minimal.checks.clear();
        minimal.itl_us.clear();
        minimal.grader_cost_usd = None;
        for rec in [full, minimal] {
            let line = serde_json::to_string(&rec).unwrap();
            let derived: ResponseRecord = serde_json::from_str(&line).unwrap();
            assert_eq!(parse_line(&line).unwrap(), derived);
            assert_eq!(derived, rec);
        }
        // A journal from before `send_lag_ms`, with an unknown field.
        let old = r#"{"job":1,"suite":"s","case_id":"c","model":"m","repeat":0,"status":"ok","error_kind":null,"error_message":null,"attempts":1,"queue_ms":null,"ttft_ms":null,"duration_ms":null,"tpot_ms":null,"tokens_per_s":null,"input_tokens":null,"output_tokens":null,"reasoning_tokens":null,"cached_tokens":null,"cache_write_tokens":null,"cost_usd":null,"cost_source":"unknown","generation_id":null,"provider":null,"finish_reason":null,"passed":null,"score":null,"failed_checks":null,"text":"","future":1}"#;
        let derived: ResponseRecord = serde_json::from_str(old).unwrap();
        assert_eq!(parse_line(old).unwrap(), derived);
    }
}
