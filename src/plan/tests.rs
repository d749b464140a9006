//! Unit tests of `plan`.

use super::*;

#[test]
fn interleaves_models_and_covers_everything_once() {
    let p = Plan {
        cases: 3,
        models: 2,
        repeats: 2,
        shard: None,
    };
    let keys: Vec<_> = p.jobs().collect();
    assert_eq!(keys.len(), 12);
    assert_eq!(
        keys.iter()
            .take(4)
            .map(|k| (k.case_index, k.model_index, k.repeat))
            .collect::<Vec<_>>(),
        vec![(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 0)]
    );
    let mut seen: Vec<_> = keys
        .iter()
        .map(|k| (k.case_index, k.model_index, k.repeat))
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 12);
    let m1: Vec<_> = p.jobs_for_model(1).map(|k| k.job).collect();
    assert_eq!(m1, vec![1, 3, 5, 7, 9, 11]);
}

#[test]
fn shards_partition_the_plan() {
    let full = Plan {
        cases: 7,
        models: 3,
        repeats: 5,
        shard: None,
    };
    let mut all = Vec::new();
    for i in 1..=3 {
        let p = Plan {
            shard: Some(Shard { index: i, count: 3 }),
            ..full
        };
        let jobs: Vec<u64> = p.jobs().map(|k| k.job).collect();
        assert_eq!(jobs.len() as u64, p.len());
        assert!(!jobs.is_empty());
        all.extend(jobs);
    }
    all.sort();
    assert_eq!(all, (0..full.total()).collect::<Vec<_>>());
}

#[test]
fn shard_parsing() {
    assert_eq!(
        "2/4".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 4 }
    );
    for bad in ["3/2", "0/2", "1/0", "x", "1/"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}
