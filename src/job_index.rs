//! Job order of a JSON-lines file written in completion order, in memory
//! that does not grow with the file.
//!
//! `responses.jsonl` and `generations.jsonl` get a line as each request (or
//! lookup) ends; requests.csv, the reports and the generations join want
//! them by job. One (job, byte offset) pair per line held in memory would
//! cost 16 bytes a line (16 MB at a million requests), so the pairs are
//! sorted externally: the file is read once, each chunk of at most
//! [`CHUNK`] pairs is sorted and spilled as 16-byte records to an unnamed
//! temporary file in the run directory (gone when the index is dropped, or
//! the process dies), and the sorted runs are merged, [`FAN_IN`] at a time,
//! as the pairs are read. A file of one chunk or less stays in memory and
//! touches no temporary file; so does one whose temporary file cannot be
//! written (it is sorted in memory instead). Of a job written twice the
//! first line (the lowest offset) wins.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// Pairs sorted in memory before a chunk is spilled: 1 MiB.
pub(crate) const CHUNK: usize = 65_536;

/// Sorted runs merged at once; more runs are first merged into fewer.
const FAN_IN: usize = 64;

/// One (job, offset) pair on disk.
const RECORD: usize = 16;

/// Bytes each run's reader buffers while merging (512 pairs).
const RUN_BUFFER: usize = 8 * 1024;

/// The job a JSON line names in its leading `{"job":N,` (how serde writes a
/// struct whose first field is `job`), read without parsing the rest.
pub(crate) fn leading_job(line: &str) -> Option<u64> {
    line.strip_prefix("{\"job\":")
        .and_then(|rest| rest.split_once(','))
        .and_then(|(n, _)| n.parse().ok())
}

/// A file's (job, byte offset) pairs, readable in job order any number of
/// times (see [`JobIndex::pairs`]).
pub(crate) struct JobIndex {
    sorted: Sorted,
}

enum Sorted {
    /// One chunk or less: sorted and deduplicated in memory.
    Memory(Arc<Vec<(u64, u64)>>),
    /// Sorted runs in a temporary file, as (first record, records).
    Spilled { file: Arc<File>, runs: Vec<Run> },
}

#[derive(Clone, Copy)]
struct Run {
    start: u64,
    len: u64,
}

impl JobIndex {
    /// An index of nothing (the file does not exist).
    pub(crate) fn empty() -> JobIndex {
        JobIndex {
            sorted: Sorted::Memory(Arc::new(Vec::new())),
        }
    }

    /// Index every line of `reader` whose job `job_of` names; chunks of
    /// more than `chunk` pairs spill to a temporary file in `spill_dir`.
    pub(crate) fn build(
        reader: &mut impl BufRead,
        job_of: impl Fn(&str) -> Option<u64>,
        spill_dir: &Path,
        chunk: usize,
    ) -> io::Result<JobIndex> {
        let chunk = chunk.max(1);
        let mut pairs = Vec::new();
        let mut spill: Option<Spill> = None;
        let mut line = String::new();
        let mut offset = 0u64;
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 {
                break;
            }
            if let Some(job) = job_of(&line) {
                pairs.push((job, offset));
                if pairs.len() == chunk {
                    let spill = match spill.as_mut() {
                        Some(s) => s,
                        None => spill.insert(Spill::create(spill_dir)?),
                    };
                    spill.write_run(&mut pairs)?;
                }
            }
            offset += n as u64;
        }
        let Some(mut spill) = spill else {
            sort_run(&mut pairs);
            return Ok(JobIndex {
                sorted: Sorted::Memory(Arc::new(pairs)),
            });
        };
        if !pairs.is_empty() {
            spill.write_run(&mut pairs)?;
        }
        drop(pairs);
        let (mut file, mut runs) = spill.finish()?;
        // Too many runs to merge at once: merge groups into longer runs.
        while runs.len() > FAN_IN {
            let mut next = Spill::create(spill_dir)?;
            for group in runs.chunks(FAN_IN) {
                let merged = Merge::new(Arc::clone(&file), group);
                next.write_sorted(merged)?;
            }
            (file, runs) = next.finish()?;
        }
        Ok(JobIndex {
            sorted: Sorted::Spilled { file, runs },
        })
    }

    /// [`JobIndex::build`] from the start of `reader`; when the temporary
    /// file cannot be written (a full disk, a read-only run directory), the
    /// pairs are sorted in memory instead: more memory, the same order.
    pub(crate) fn build_or_in_memory(
        reader: &mut (impl BufRead + Seek),
        job_of: impl Fn(&str) -> Option<u64>,
        spill_dir: &Path,
        chunk: usize,
    ) -> io::Result<JobIndex> {
        match JobIndex::build(reader, &job_of, spill_dir, chunk) {
            Ok(index) => Ok(index),
            Err(_) => {
                reader.seek(SeekFrom::Start(0))?;
                JobIndex::build(reader, &job_of, spill_dir, usize::MAX)
            }
        }
    }

    /// The pairs by ascending job, one per job (its first line). A read
    /// error of the temporary file ends the pairs early.
    pub(crate) fn pairs(&self) -> Pairs {
        match &self.sorted {
            Sorted::Memory(pairs) => Pairs::Memory {
                pairs: Arc::clone(pairs),
                at: 0,
            },
            Sorted::Spilled { file, runs } => Pairs::Merge(Merge::new(Arc::clone(file), runs)),
        }
    }

    /// Whether the pairs went to a temporary file (for tests).
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> bool {
        matches!(self.sorted, Sorted::Spilled { .. })
    }
}

/// Sort by job, then offset, keeping each job's first line.
fn sort_run(pairs: &mut Vec<(u64, u64)>) {
    // Offsets are distinct, so an unstable sort by both keeps the order of
    // a job's lines.
    pairs.sort_unstable();
    pairs.dedup_by_key(|(job, _)| *job);
}

/// A temporary file being filled with sorted runs.
struct Spill {
    out: BufWriter<File>,
    runs: Vec<Run>,
    records: u64,
}

impl Spill {
    fn create(dir: &Path) -> io::Result<Spill> {
        Ok(Spill {
            out: BufWriter::with_capacity(64 * 1024, tempfile::tempfile_in(dir)?),
            runs: Vec::new(),
            records: 0,
        })
    }

    /// Sort `pairs` and append them as one run; `pairs` is left empty.
    fn write_run(&mut self, pairs: &mut Vec<(u64, u64)>) -> io::Result<()> {
        sort_run(pairs);
        let sorted = pairs.drain(..);
        self.write_sorted(sorted)
    }

    /// Append pairs already sorted as one run.
    fn write_sorted(&mut self, pairs: impl Iterator<Item = (u64, u64)>) -> io::Result<()> {
        let start = self.records;
        for (job, offset) in pairs {
            self.out.write_all(&job.to_le_bytes())?;
            self.out.write_all(&offset.to_le_bytes())?;
            self.records += 1;
        }
        self.runs.push(Run {
            start,
            len: self.records - start,
        });
        Ok(())
    }

    fn finish(self) -> io::Result<(Arc<File>, Vec<Run>)> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok((Arc::new(file), self.runs))
    }
}

/// The pairs of a [`JobIndex`] by ascending job.
pub(crate) enum Pairs {
    Memory {
        pairs: Arc<Vec<(u64, u64)>>,
        at: usize,
    },
    Merge(Merge),
}

impl Iterator for Pairs {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        match self {
            Pairs::Memory { pairs, at } => {
                let pair = pairs.get(*at).copied();
                *at += 1;
                pair
            }
            Pairs::Merge(merge) => merge.next(),
        }
    }
}

/// A k-way merge of sorted runs: a heap holding each run's next pair.
pub(crate) struct Merge {
    readers: Vec<RunReader>,
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    last_job: Option<u64>,
}

impl Merge {
    fn new(file: Arc<File>, runs: &[Run]) -> Merge {
        let mut readers: Vec<RunReader> = runs
            .iter()
            .map(|run| RunReader {
                file: Arc::clone(&file),
                next: run.start * RECORD as u64,
                end: (run.start + run.len) * RECORD as u64,
                buf: Vec::new(),
                at: 0,
            })
            .collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some((job, offset)) = reader.next() {
                heap.push(Reverse((job, offset, i)));
            }
        }
        Merge {
            readers,
            heap,
            last_job: None,
        }
    }
}

impl Iterator for Merge {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        loop {
            let Reverse((job, offset, i)) = self.heap.pop()?;
            if let Some(pair) = self.readers[i].next() {
                self.heap.push(Reverse((pair.0, pair.1, i)));
            }
            // Runs hold a job at most once each, but several runs may hold
            // it: the lowest offset comes first and wins.
            if self.last_job == Some(job) {
                continue;
            }
            self.last_job = Some(job);
            return Some((job, offset));
        }
    }
}

/// Reads one run of the temporary file, a buffer at a time.
struct RunReader {
    file: Arc<File>,
    /// Byte position of the next buffer to read.
    next: u64,
    end: u64,
    buf: Vec<u8>,
    at: usize,
}

impl RunReader {
    /// The run's next pair; `None` at its end or on a read error.
    fn next(&mut self) -> Option<(u64, u64)> {
        if self.at == self.buf.len() {
            if self.next >= self.end {
                return None;
            }
            let n = (self.end - self.next).min(RUN_BUFFER as u64) as usize;
            self.buf.resize(n, 0);
            read_exact_at(&self.file, &mut self.buf, self.next).ok()?;
            self.next += n as u64;
            self.at = 0;
        }
        let record = &self.buf[self.at..self.at + RECORD];
        self.at += RECORD;
        let job = u64::from_le_bytes(record[..8].try_into().ok()?);
        let offset = u64::from_le_bytes(record[8..].try_into().ok()?);
        Some((job, offset))
    }
}

/// Fill `buf` from `pos` without moving a shared file position, so any
/// number of merges can read one file at once.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, pos)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests;
