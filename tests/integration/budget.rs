//! `--max-cost` when prices are unknown: until a model's cost is seen, its
//! requests go one at a time, so the budget holds within one request;
//! `--max-cost 0` sends nothing; the stop says what was spent against the
//! budget, and when a single request's worst case is over it, says that and
//! how to bound it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use evalgate::record::{ErrorKind, RequestRow, Status};

use crate::common::*;

const KEY: &str = "budget-test-key";

/// A gateway with no catalog that charges $1.00 per answer (its own
/// `usage.cost`), answering after 100 ms; it counts the peak in flight.
async fn dollar_gateway() -> (String, Arc<AtomicUsize>) {
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let state = (now.clone(), peak.clone());
    let chat = move || {
        let (now, peak) = state.clone();
        async move {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            hello_answer("1.0")
        }
    };
    let url = serve(axum::Router::new().route("/v1/chat/completions", post(chat))).await;
    (url, peak)
}

/// `--no-catalog --no-history EXTRA` against the dollar gateway of a
/// one-case suite over a model the catalog does not price: the output, the
/// rows and the peak number of requests in flight.
fn run_unpriced(extra: &[&str]) -> (std::process::Output, Vec<RequestRow>, usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, peak) = rt.block_on(dollar_gateway());
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "b", &["x/unpriced"]);
    let (res, rows) = run_no_catalog(tmp.path(), &url, KEY, &suite, extra);
    (res, rows, peak.load(Ordering::SeqCst))
}

#[test]
fn an_unknown_price_is_learned_one_request_at_a_time_and_the_budget_holds() {
    let (res, rows, peak) =
        run_unpriced(&["--repeat", "6", "--concurrency", "6", "--max-cost", "2"]);
    assert_eq!(res.status.code(), Some(1), "a budget stop: {}", text(&res));
    assert_eq!(rows.len(), 6);
    let spent: f64 = rows.iter().filter_map(|r| r.cost_usd).sum();
    assert_eq!(spent, 2.0, "{rows:#?}");
    let skipped = rows
        .iter()
        .filter(|r| r.status == Status::Skipped && r.error_kind == Some(ErrorKind::BudgetExceeded))
        .count();
    assert_eq!(skipped, 4);
    assert_eq!(peak, 1, "one at a time until the cost was known");
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(
        out.contains("budget: spent $2.0000 of the $2.0000 --max-cost budget"),
        "{out}"
    );
}

#[test]
fn max_cost_zero_sends_nothing() {
    let (res, rows, peak) = run_unpriced(&["--repeat", "3", "--max-cost", "0"]);
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    assert_eq!(peak, 0, "nothing sent");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.status == Status::Skipped),
        "{rows:#?}"
    );
}

#[test]
fn a_first_request_over_the_budget_alone_is_named_with_how_to_bound_it() {
    let tmp = tempfile::tempdir().unwrap();
    // A catalog-priced model with a large max_tokens: its worst case alone
    // is over a budget of a hundredth of a cent.
    let suite = suite_file(
        tmp.path(),
        "big.yaml",
        "name: big\nmodels: [openai/gpt-5]\ndefaults:\n  max_tokens: 100000\ncases:\n  - id: a\n    prompt: Write a long story.\n",
    );
    let res = run_sim(
        tmp.path(),
        &suite,
        &tmp.path().join("run"),
        &["--no-history", "--max-cost", "0.0001"],
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(
        out.contains("one request of openai/gpt-5 may cost up to $"),
        "{out}"
    );
    assert!(
        out.contains("more than --max-cost $0.000100 alone"),
        "{out}"
    );
    assert!(out.contains("smaller max_tokens"), "{out}");
    let rows = rows(&tmp.path().join("run"));
    assert!(
        rows.iter().all(|r| r.status == Status::Skipped),
        "{rows:#?}"
    );
}
