//! `generations.jsonl`: the gateway's generation records, beside the journal.
//!
//! A record arrives seconds after its answer, so it is not part of the
//! answer's journal line (which is written at once, for crash safety).
//! The lookup task appends one line per looked-up request — the record, or
//! why there is none — and the rows are joined with it when the run
//! directory is written. The lines are in the order their lookups ended,
//! so the join sorts an index of them by job first (in bounded memory, like
//! the journal's own job order: see `job_index`) and walks it beside the
//! rows, which come in job order, reading each row's line at its offset: a
//! row whose lookup never ended costs nothing to look for.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::iter::Peekable;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gateway::generation::{GenerationRecord, LookupFailure};
use crate::job_index::{JobIndex, Pairs};
use crate::record::{CostSource, RequestRow, ResponseRecord};

pub const FILE_NAME: &str = "generations.jsonl";

/// A streamed cost further than this share from the record's is flagged.
pub const COST_TOLERANCE: f64 = 0.01;

/// One line: a job's generation record or why it has none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerationLine {
    pub job: u64,
    pub generation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<GenerationRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<LookupFailure>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}; check the run directory is writable")]
pub struct GenerationsError {
    path: PathBuf,
    source: io::Error,
}

/// Appends lines; [`flush`](Self::flush) when the lookups pause and at the end.
pub struct GenerationWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl GenerationWriter {
    /// Open `dir/generations.jsonl` for appending (a resumed run adds to it).
    pub fn open(dir: &Path) -> Result<GenerationWriter, GenerationsError> {
        let path = dir.join(FILE_NAME);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| GenerationsError {
                path: path.clone(),
                source,
            })?;
        Ok(GenerationWriter {
            path,
            out: BufWriter::new(file),
        })
    }

    pub fn append(&mut self, line: &GenerationLine) -> Result<(), GenerationsError> {
        let err = |source| GenerationsError {
            path: self.path.clone(),
            source,
        };
        let mut bytes = serde_json::to_vec(line).map_err(|e| err(e.into()))?;
        bytes.push(b'\n');
        self.out.write_all(&bytes).map_err(err)
    }

    pub fn flush(&mut self) -> Result<(), GenerationsError> {
        self.out.flush().map_err(|source| GenerationsError {
            path: self.path.clone(),
            source,
        })
    }
}

/// Fill a row from its generation record: the gateway's cost (now the
/// row's cost, `cost_source = generation`; a streamed cost more than 1% off
/// is flagged), latency, generation time, provider, and a model fallback
/// (a provider fallback needs the run's order: see [`join`]).
pub fn apply(row: &mut RequestRow, rec: &GenerationRecord) {
    row.gateway_cost_usd = rec.cost_usd;
    row.gateway_latency_ms = rec.latency_ms;
    row.gateway_generation_ms = rec.generation_ms;
    row.client_overhead_ms = match (row.ttft_ms, rec.latency_ms) {
        (Some(ours), Some(theirs)) => Some(((ours - theirs) * 1000.0).round() / 1000.0),
        _ => None,
    };
    row.served_by = rec.provider.clone();
    row.is_byok = rec.is_byok;
    if let Some(c) = rec.cost_usd {
        if row.cost_source == CostSource::Gateway {
            let streamed = row.cost_usd.unwrap_or(0.0);
            row.cost_mismatch = (streamed - c).abs() > COST_TOLERANCE * c.abs().max(1e-12);
        }
        row.cost_usd = Some(c);
        row.cost_source = CostSource::Generation;
    }
    // The gateway ran another model than asked: a model fallback.
    if let Some(m) = rec.model.as_deref().filter(|m| *m != row.model) {
        row.fallback = true;
        row.fallback_chain
            .get_or_insert_with(|| format!("{}>{m}", row.model));
    }
}

/// The journal's records with their generation lines applied.
pub struct Joined<I> {
    records: I,
    lines: Option<Lines>,
    first_choice: BTreeMap<String, String>,
}

/// `generations.jsonl` by job: its (job, offset) pairs in job order,
/// walked as the rows come, each row's line read at its offset.
struct Lines {
    reader: BufReader<File>,
    pos: u64,
    index: JobIndex,
    cursor: Peekable<Pairs>,
    last_job: u64,
}

/// Join `records` (in job order) with `dir/generations.jsonl` (unchanged
/// when there is none), and hold each to the run's `first_choice`
/// (`run.json`): a row served by another provider than its model's first
/// choice — per its record, else per the stream — is a fallback.
pub fn join<I: Iterator<Item = ResponseRecord>>(
    dir: &Path,
    records: I,
    first_choice: &BTreeMap<String, String>,
) -> Joined<I> {
    join_chunked(dir, records, first_choice, crate::job_index::CHUNK)
}

/// [`join`] sorting at most `chunk` pairs in memory at once.
pub(crate) fn join_chunked<I: Iterator<Item = ResponseRecord>>(
    dir: &Path,
    records: I,
    first_choice: &BTreeMap<String, String>,
    chunk: usize,
) -> Joined<I> {
    Joined {
        records,
        lines: Lines::open(dir, chunk),
        first_choice: first_choice.clone(),
    }
}

/// Whether a run directory has generation records to join.
pub fn exists(dir: &Path) -> bool {
    dir.join(FILE_NAME).is_file()
}

impl Lines {
    /// `None` when the file is absent or unreadable (the rows stay as they are).
    fn open(dir: &Path, chunk: usize) -> Option<Lines> {
        let mut reader = BufReader::with_capacity(64 * 1024, File::open(dir.join(FILE_NAME)).ok()?);
        let index = JobIndex::build_or_in_memory(&mut reader, job_of, dir, chunk).ok()?;
        reader.seek(SeekFrom::Start(0)).ok()?;
        Some(Lines {
            reader,
            pos: 0,
            cursor: index.pairs().peekable(),
            index,
            last_job: 0,
        })
    }

    /// The line of `job`. Rows come in job order, so the cursor only moves
    /// forward; a row before the last one starts the walk over (correct,
    /// but a pass over the index per such row).
    fn line_for(&mut self, job: u64) -> Option<GenerationLine> {
        if job < self.last_job {
            self.cursor = self.index.pairs().peekable();
        }
        self.last_job = job;
        let offset = loop {
            let &(at, offset) = self.cursor.peek()?;
            if at >= job {
                if at > job {
                    return None;
                }
                break offset;
            }
            self.cursor.next();
        };
        // Relative seeks keep the read buffer when the line is in it.
        let delta = i64::try_from(offset).ok()? - i64::try_from(self.pos).ok()?;
        self.reader.seek_relative(delta).ok()?;
        let mut text = String::new();
        let n = self.reader.read_line(&mut text).ok()?;
        self.pos = offset + n as u64;
        // A torn or unreadable line (a crash mid-write) joins nothing.
        serde_json::from_str(&text).ok()
    }
}

/// The job of a line from its leading `{"job":N,` (as serde writes
/// [`GenerationLine`]), else by parsing it.
fn job_of(line: &str) -> Option<u64> {
    crate::job_index::leading_job(line).or_else(|| {
        serde_json::from_str::<GenerationLine>(line)
            .ok()
            .map(|l| l.job)
    })
}

impl<I: Iterator<Item = ResponseRecord>> Iterator for Joined<I> {
    type Item = ResponseRecord;

    fn next(&mut self) -> Option<ResponseRecord> {
        let mut rec = self.records.next()?;
        // Replayed and carried rows have no line here (nor need one).
        if rec.row.cached || rec.row.carried {
            return Some(rec);
        }
        if let (Some(_), Some(lines)) = (&rec.row.generation_id, self.lines.as_mut()) {
            let line = lines.line_for(rec.row.job);
            if let Some(r) = line.and_then(|l| l.record) {
                apply(&mut rec.row, &r);
            }
        }
        if let Some(first) = self.first_choice.get(&rec.row.model) {
            rec.row.check_first_choice(first);
        }
        Some(rec)
    }
}

#[cfg(test)]
mod tests;
