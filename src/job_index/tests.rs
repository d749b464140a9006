//! Unit tests of `job_index`: scrambled orders, duplicates, torn lines,
//! one chunk and many (more runs than one merge takes).

use super::*;

/// Lines `{"job":N,...}` for `jobs` in that order; returns the file and the
/// offset of each line.
fn file_of(jobs: &[u64]) -> (Vec<u8>, Vec<u64>) {
    let mut bytes = Vec::new();
    let mut offsets = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        offsets.push(bytes.len() as u64);
        // Lines of different lengths, so offsets are not a multiple of anything.
        bytes.extend_from_slice(
            format!("{{\"job\":{job},\"pad\":\"{}\"}}\n", "x".repeat(i % 5)).as_bytes(),
        );
    }
    (bytes, offsets)
}

fn job_of(line: &str) -> Option<u64> {
    line.strip_prefix("{\"job\":")?
        .split_once(',')?
        .0
        .parse()
        .ok()
}

/// What the index must yield: each job's first line, by job.
fn expected(jobs: &[u64], offsets: &[u64]) -> Vec<(u64, u64)> {
    let mut first = std::collections::BTreeMap::new();
    for (job, offset) in jobs.iter().zip(offsets) {
        first.entry(*job).or_insert(*offset);
    }
    first.into_iter().collect()
}

fn index(bytes: &[u8], dir: &Path, chunk: usize) -> JobIndex {
    JobIndex::build(&mut &bytes[..], job_of, dir, chunk).unwrap()
}

/// A permutation of 0..n that is far from sorted (a multiplicative scramble).
fn scrambled(n: u64) -> Vec<u64> {
    (0..n).map(|i| (i * 7_919) % n).collect()
}

#[test]
fn a_small_file_stays_in_memory_and_comes_out_by_job() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = scrambled(1_000);
    let (bytes, offsets) = file_of(&jobs);
    let idx = index(&bytes, dir.path(), CHUNK);
    assert!(!idx.spilled());
    assert_eq!(idx.pairs().collect::<Vec<_>>(), expected(&jobs, &offsets));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn chunks_spill_and_merge_to_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = scrambled(1_001);
    let (bytes, offsets) = file_of(&jobs);
    for chunk in [1, 2, 3, 16, 100, 1_000] {
        let idx = index(&bytes, dir.path(), chunk);
        assert!(idx.spilled(), "chunk {chunk}");
        let got: Vec<_> = idx.pairs().collect();
        assert_eq!(got, expected(&jobs, &offsets), "chunk {chunk}");
        // Read twice (the run directory's writers pass over it more than once).
        assert_eq!(idx.pairs().count(), got.len());
    }
    // The temporary files have no name: nothing is left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn more_runs_than_one_merge_takes_are_merged_in_passes() {
    let dir = tempfile::tempdir().unwrap();
    // Chunk 2 over 10,000 lines: 5,000 runs, three merge passes.
    let jobs = scrambled(10_000);
    let (bytes, offsets) = file_of(&jobs);
    let idx = index(&bytes, dir.path(), 2);
    assert_eq!(idx.pairs().collect::<Vec<_>>(), expected(&jobs, &offsets));
}

#[test]
fn of_a_job_written_twice_the_first_line_wins_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    // Every job three times, the copies far apart (other chunks), backwards
    // once so a later chunk holds the lower job.
    let mut jobs: Vec<u64> = (0..300).rev().collect();
    jobs.extend(scrambled(300));
    jobs.extend(0..300);
    let (bytes, offsets) = file_of(&jobs);
    for chunk in [7, 64, CHUNK] {
        let got: Vec<_> = index(&bytes, dir.path(), chunk).pairs().collect();
        assert_eq!(got.len(), 300);
        assert_eq!(got, expected(&jobs, &offsets), "chunk {chunk}");
        // Each job's line is in the first third (written backwards).
        assert!(got
            .iter()
            .all(|(job, off)| *off == offsets[(299 - job) as usize]));
    }
}

#[test]
fn lines_without_a_job_and_a_torn_last_line_are_skipped_or_kept_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"{\"job\":5,\"a\":1}\n\n{\"nojob\":1}\n{\"job\":2,\"a\":1}\n".to_vec();
    let torn_at = bytes.len() as u64;
    bytes.extend_from_slice(b"{\"job\":1,\"a");
    for chunk in [1, CHUNK] {
        let got: Vec<_> = index(&bytes, dir.path(), chunk).pairs().collect();
        // The torn line names its job: it is indexed (its reader decides).
        let two = memchr::memmem::find(&bytes, b"{\"job\":2").unwrap() as u64;
        assert_eq!(got, vec![(1, torn_at), (2, two), (5, 0)], "chunk {chunk}");
    }
    assert!(index(b"", dir.path(), 1).pairs().next().is_none());
    assert!(JobIndex::empty().pairs().next().is_none());
}

#[test]
fn without_room_for_the_temporary_file_the_pairs_are_sorted_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-such-dir");
    let jobs = scrambled(500);
    let (bytes, offsets) = file_of(&jobs);
    let mut reader = std::io::Cursor::new(&bytes[..]);
    assert!(JobIndex::build(&mut reader, job_of, &nowhere, 7).is_err());
    let mut reader = std::io::Cursor::new(&bytes[..]);
    let idx = JobIndex::build_or_in_memory(&mut reader, job_of, &nowhere, 7).unwrap();
    assert!(!idx.spilled());
    assert_eq!(idx.pairs().collect::<Vec<_>>(), expected(&jobs, &offsets));
}
