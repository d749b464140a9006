//! Unit tests of `runner::lookup`: the end-of-run line and the verdict.

use super::*;

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

#[tokio::test]
async fn a_found_record_anywhere_keeps_the_lookups_going() {
    let v = Verdict::new();
    v.found_one();
    v.give_up(NoRecords::NoRoute);
    assert_eq!(v.given_up(), None);
    let done = v.unless_given_up(async { 7 }).await;
    assert_eq!(done, Some(7));
}

#[tokio::test]
async fn the_first_reason_to_give_up_stands_and_ends_the_waits() {
    let v = Arc::new(Verdict::new());
    let waiting = {
        let v = v.clone();
        tokio::spawn(async move { v.unless_given_up(std::future::pending::<()>()).await })
    };
    tokio::task::yield_now().await;
    v.give_up(NoRecords::Waited(Duration::from_secs(1)));
    v.give_up(NoRecords::NoRoute);
    assert_eq!(
        v.given_up(),
        Some(NoRecords::Waited(Duration::from_secs(1)))
    );
    assert_eq!(
        waiting.await.unwrap(),
        None,
        "a pending wait ends at the verdict"
    );
    let later = v.unless_given_up(std::future::pending::<()>()).await;
    assert_eq!(later, None, "and so does a later one");
}
