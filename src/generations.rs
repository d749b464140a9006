//! `generations.jsonl`: the gateway's generation records, beside the journal.
//!
//! A record arrives seconds after its answer, so it is not part of the
//! answer's journal line (which is written at once, for crash safety).
//! The lookup task appends one line per looked-up request — the record, or
//! why there is none — and the rows are joined with it when the run
//! directory is written. The rows come in job order, the lines in
//! completion order (nearly job order), and a line follows its answer by at
//! most the lookup patience, so the join holds only the lines that arrived
//! ahead of their row's turn: memory stays flat however long the run
//! (bounded by [`MAX_AHEAD`] in any case).

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gateway::generation::{GenerationRecord, LookupFailure};
use crate::record::{CostSource, RequestRow, ResponseRecord};

pub const FILE_NAME: &str = "generations.jsonl";

/// Lines read ahead of the row being joined before the join gives up on it.
pub const MAX_AHEAD: usize = 100_000;

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

/// Appends lines, flushing each (they come seconds apart per request).
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
        self.out.write_all(&bytes).map_err(err)?;
        self.out.flush().map_err(err)
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
    lines: Option<std::io::Lines<BufReader<File>>>,
    ahead: HashMap<u64, GenerationLine>,
    first_choice: BTreeMap<String, String>,
}

/// Join `records` with `dir/generations.jsonl` (unchanged when there is
/// none), and hold each to the run's `first_choice` (`run.json`): a row
/// served by another provider than its model's first choice — per its
/// record, else per the stream — is a fallback.
pub fn join<I: Iterator<Item = ResponseRecord>>(
    dir: &Path,
    records: I,
    first_choice: &BTreeMap<String, String>,
) -> Joined<I> {
    let lines = File::open(dir.join(FILE_NAME))
        .ok()
        .map(|f| BufReader::with_capacity(64 * 1024, f).lines());
    Joined {
        records,
        lines,
        ahead: HashMap::new(),
        first_choice: first_choice.clone(),
    }
}

/// Whether a run directory has generation records to join.
pub fn exists(dir: &Path) -> bool {
    dir.join(FILE_NAME).is_file()
}

impl<I> Joined<I> {
    fn line_for(&mut self, job: u64) -> Option<GenerationLine> {
        if let Some(l) = self.ahead.remove(&job) {
            return Some(l);
        }
        let lines = self.lines.as_mut()?;
        while self.ahead.len() < MAX_AHEAD {
            // A torn or unreadable line (a crash mid-write) is skipped.
            let text = match lines.next()? {
                Ok(t) => t,
                Err(_) => continue,
            };
            let Ok(line) = serde_json::from_str::<GenerationLine>(&text) else {
                continue;
            };
            if line.job == job {
                return Some(line);
            }
            self.ahead.insert(line.job, line);
        }
        None
    }
}

impl<I: Iterator<Item = ResponseRecord>> Iterator for Joined<I> {
    type Item = ResponseRecord;

    fn next(&mut self) -> Option<ResponseRecord> {
        let mut rec = self.records.next()?;
        // Replayed and carried rows have no line here (nor need one).
        if rec.row.cached || rec.row.carried {
            return Some(rec);
        }
        if rec.row.generation_id.is_some() && self.lines.is_some() {
            let line = self.line_for(rec.row.job);
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
