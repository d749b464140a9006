//! Unit tests of `report::table`.

use super::*;
use crate::report::test_support::summary;

#[test]
fn comparison_table_text() {
    let (sum, _) = summary(true);
    let expected = concat!(
        "SIMULATED — answers and timings come from the built-in sim gateway, not real models\n",
        "╭───────────────────────────┬────────┬────────────────┬───────┬─────────────┬─────────────┬─────────────┬────────────┬────────────┬───────────┬───────────────┬─────────────────┬──────────┬─────────────┬───────────┬─────────╮\n",
        "│ model                     │ ok/req │         errors │  pass │ TTFT p50 ms │ TTFT p75 ms │ TTFT p95 ms │ dur p50 ms │ dur p95 ms │ tok/s p50 │ tokens in/out │            cost │ cost/req │ grader cost │ cost/pass │ goodput │\n",
        "├───────────────────────────┼────────┼────────────────┼───────┼─────────────┼─────────────┼─────────────┼────────────┼────────────┼───────────┼───────────────┼─────────────────┼──────────┼─────────────┼───────────┼─────────┤\n",
        "│ openai/gpt-5              │    2/2 │              0 │ 50.0% │         412 │         980 │         980 │       1530 │       2100 │      44.7 │   2,400 / 150 │         $0.0033 │ $0.00165 │           - │   $0.0033 │   50.0% │\n",
        "│ anthropic/claude-sonnet-4 │    1/3 │ 1 (+1 skipped) │     - │        8.50 │        8.50 │        8.50 │       95.0 │       95.0 │      46.3 │        10 / 4 │ n/a (2 unknown) │        - │           - │         - │       - │\n",
        "╰───────────────────────────┴────────┴────────────────┴───────┴─────────────┴─────────────┴─────────────┴────────────┴────────────┴───────────┴───────────────┴─────────────────┴──────────┴─────────────┴───────────┴─────────╯",
    );
    assert_eq!(comparison_table(&sum, View::Wide), expected);
    let (real, _) = summary(false);
    assert!(!comparison_table(&real, View::Wide).contains("SIMULATED"));
}

#[test]
fn compact_table_fits_the_width_and_shortens_long_ids() {
    let (mut sum, _) = summary(true);
    sum.models[1].model = "anthropic/claude-sonnet-4-20250514-with-a-very-long-suffix".into();
    for width in [80, 70] {
        let t = comparison_table(&sum, View::Compact { width });
        for line in t.lines() {
            assert!(crate::term::columns(line) <= width, "{width}: {line}\n{t}");
        }
        assert!(t.contains("anthrop"), "{t}");
        assert!(t.contains("…"), "{t}");
    }
    let expected = concat!(
        "SIMULATED — answers and timings come from the built-in sim\n",
        "╭───────────────────────────────────────────────┬────────┬───────┬──────────┬──────────┬───────────╮\n",
    );
    let t = comparison_table(&sum, View::Compact { width: 100 });
    assert!(t.starts_with(expected), "{t}");
    assert!(t.contains("│ TTFT p50 │ TTFT p95 │ cost/pass │"), "{t}");
    assert!(
        t.contains("│ anthropic/claude-sonne…ith-a-very-long-suffix │"),
        "{t}"
    );
}

#[test]
fn errors_table_has_hints() {
    let (sum, _) = summary(false);
    let t = errors_table(&sum, View::Wide).unwrap();
    assert!(t.contains("rate_limited"));
    assert!(t.contains("lower --concurrency"));
    assert!(t.contains("budget_exceeded"));
    let mut clean = sum.clone();
    clean
        .models
        .iter_mut()
        .for_each(|m| m.errors_by_kind.clear());
    assert_eq!(errors_table(&clean, View::Wide), None);
    let narrow = errors_table(&sum, View::Compact { width: 80 }).unwrap();
    assert!(
        narrow.lines().all(|l| crate::term::columns(l) <= 80),
        "{narrow}"
    );
}

#[test]
fn formats() {
    assert_eq!(fmt_ms(Some(1.234)), "1.23");
    assert_eq!(fmt_ms(Some(12.34)), "12.3");
    assert_eq!(fmt_ms(Some(1234.5)), "1234");
    assert_eq!(fmt_ms(None), "-");
    assert_eq!(fmt_usd(0.000_123_4), "$0.000123");
    assert_eq!(fmt_usd(12.5), "$12.50");
    assert_eq!(fmt_usd(0.0033), "$0.0033");
    assert_eq!(fmt_usd(0.0), "$0");
    assert_eq!(group_thousands(1_234_567), "1,234,567");
    assert_eq!(group_thousands(999), "999");
}
