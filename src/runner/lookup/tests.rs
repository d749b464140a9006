//! Unit tests of `runner::lookup`: the end-of-run line and the verdict.

use super::*;

const LOOKUP_WAIT: Duration = Duration::from_secs(30);

fn stats(found: u64, not_found: u64, unsent: u64, why: Option<NoRecords>) -> LookupStats {
    LookupStats {
        found,
        not_found,
        unsent,
        no_records: why,
        patience: Duration::from_secs(30),
        ..LookupStats::default()
    }
}

#[test]
fn the_line_counts_what_the_lookups_did() {
    assert_eq!(
        stats(40, 2, 0, None).line(),
        "generation records: 40 found, 2 not found within 30 s"
    );
    let mut s = stats(1, 0, 0, None);
    s.patience = Duration::from_millis(1500);
    s.failed = 1;
    s.dropped = 3;
    assert_eq!(
        s.line(),
        "generation records: 1 found, 1 failed, 3 not looked up"
    );
}

#[test]
fn a_gateway_without_records_is_named_with_the_way_out() {
    let waited = stats(0, 2, 9, Some(NoRecords::Waited(Duration::from_secs(2)))).line();
    assert_eq!(
        waited,
        "generation records: 0 found, 2 not found, 9 not sent; this gateway keeps no \
         generation records (GET /generation answered 404 for 2 s); --no-lookup skips them"
    );
    let no_route = stats(0, 1, 3, Some(NoRecords::NoRoute)).line();
    assert!(
        no_route.ends_with(
            "this gateway keeps no generation records (it has no GET /generation); --no-lookup skips them"
        ),
        "{no_route}"
    );
}

#[test]
fn a_found_record_anywhere_keeps_the_lookups_going() {
    let mut v = Verdict::default();
    v.found_one();
    assert!(!v.give_up(NoRecords::NoRoute));
    assert_eq!(v.given_up(), None);
}

#[test]
fn the_first_reason_to_give_up_stands() {
    let mut v = Verdict::default();
    assert!(v.give_up(NoRecords::Waited(Duration::from_secs(1))));
    assert!(!v.give_up(NoRecords::NoRoute));
    assert_eq!(
        v.given_up(),
        Some(NoRecords::Waited(Duration::from_secs(1)))
    );
}

/// Waiting lookups come out earliest first, whatever order they went in.
#[test]
fn the_queue_gives_the_earliest_due_lookup_first() {
    let now = Instant::now();
    let at = |ms: u64, job: u64| Waiting {
        due: now + Duration::from_millis(ms),
        job,
        id: format!("gen_{job}"),
        wait: FIRST_WAIT,
        give_up: now + LOOKUP_WAIT,
        only_404: true,
    };
    let mut q = BinaryHeap::from(vec![at(30, 1), at(10, 2), at(20, 3), at(10, 0)]);
    let order: Vec<u64> = std::iter::from_fn(|| q.pop().map(|w| w.job)).collect();
    assert_eq!(order, [0, 2, 3, 1]);
}
