//! Unit tests of `history::maintain`.

use super::*;

fn run(suite: &str, started_at: &str) -> RunListing {
    RunListing {
        id: format!("{started_at}-{suite}"),
        suite: suite.into(),
        started_at: started_at.into(),
        exit_code: 0,
        rows: 3,
        bytes: 100,
    }
}

#[test]
fn keep_last_counts_per_suite_and_older_than_compares_times() {
    let listed = vec![
        run("a", "2026-01-01T00:00:00+00:00"),
        run("b", "2026-01-02T00:00:00+00:00"),
        run("a", "2026-01-03T00:00:00.5+00:00"),
        run("a", "2026-01-04T00:00:00+00:00"),
    ];
    let ids = |v: Vec<&RunListing>| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(select(&listed, &Prune::KeepLast(1))),
        vec![listed[0].id.clone(), listed[2].id.clone()]
    );
    assert!(select(&listed, &Prune::KeepLast(3)).is_empty());
    let cutoff = DateTime::parse_from_rfc3339("2026-01-03T00:00:00.2+00:00")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        ids(select(&listed, &Prune::OlderThan(cutoff))),
        vec![listed[0].id.clone(), listed[1].id.clone()]
    );
}

#[test]
fn failed_policy_keeps_errors_skips_and_failed_checks() {
    let key = crate::record::JobKey {
        job: 0,
        case_index: 0,
        model_index: 0,
        repeat: 0,
    };
    let skipped = RequestRow::skipped(key, "s", "c", "m", crate::record::ErrorKind::Cancelled);
    let mut ok = skipped.clone();
    ok.status = Status::Ok;
    ok.error_kind = None;
    let mut failed_check = ok.clone();
    failed_check.passed = Some(false);
    let mut passed = ok.clone();
    passed.passed = Some(true);
    let p = HistoryRows::Failed;
    assert!(p.keeps(&skipped) && p.keeps(&failed_check));
    assert!(!p.keeps(&ok) && !p.keeps(&passed));
    assert!(HistoryRows::All.keeps(&ok) && !HistoryRows::None.keeps(&skipped));
}
