//! Unit tests of `report::markdown`.

use super::*;
use crate::report::test_support::{records, summary};

#[test]
fn report_text() {
    let (sum, _) = summary(true);
    let bytes = Markdown.render(&sum, &mut records().into_iter()).unwrap();
    let expected = concat!(
        "# evalgate report: support\n",
        "\n",
        "> **SIMULATED — answers and timings come from the built-in sim gateway, not real models**\n",
        "\n",
        "Run started 2025-06-01T12:00:00Z, ended 2025-06-01T12:00:09Z, gateway `http://127.0.0.1:8787/v1`, 2 models, 5 planned jobs, evalgate 0.1.0.\n",
        "\n",
        "## Why the run failed\n",
        "\n",
        "**openai/gpt-5**: 1 failing answer\n",
        "\n",
        "- `order-json` #0: is_json: expected JSON, got &lt;text&gt;\n",
        "\n",
        "## Decision\n",
        "\n",
        "- openai/gpt-5 (reference): on the Pareto front\n",
        "- anthropic/claude-sonnet-4: pass rate not compared (no checked cases in common), p95 TTFT −972 ms (too few cases to test): on the Pareto front\n",
        "\n",
        "<sub>Paired on the same cases against openai/gpt-5: pass rate by exact McNemar on per-case outcomes; TTFT and duration by Wilcoxon signed-rank on per-case log ratios; 0 tests in one Holm family at α = 0.01. Pareto front over pass rate ↑, cost per passing answer ↓, p95 TTFT ↓.</sub>\n",
        "\n",
        "## Models\n",
        "\n",
        "| model | ok/req | errors | pass | TTFT p50 ms | TTFT p75 ms | TTFT p95 ms | dur p50 ms | dur p95 ms | tok/s p50 | tokens in/out | cost | cost/req | grader cost | cost/pass | goodput |\n",
        "| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        "| openai/gpt-5 | 2/2 | 0 | 50.0% | 412 | 980 | 980 | 1530 | 2100 | 44.7 | 2,400 / 150 | $0.0033 | $0.00165 | - | $0.0033 | 50.0% |\n",
        "| anthropic/claude-sonnet-4 | 1/3 | 1 (+1 skipped) | - | 8.50 | 8.50 | 8.50 | 95.0 | 95.0 | 46.3 | 10 / 4 | n/a (2 unknown) | - | - | - | - |\n",
        "\n",
        "## Errors\n",
        "\n",
        "| model | error kind | rows | what to do |\n",
        "| :--- | :--- | ---: | :--- |\n",
        "| anthropic/claude-sonnet-4 | budget_exceeded | 1 | the --max-cost / --max-requests budget stopped the run; raise it or resume with --resume |\n",
        "| anthropic/claude-sonnet-4 | rate_limited | 1 | rate limited; lower --concurrency / --per-model-concurrency |\n",
        "\n",
        "## Top failures\n",
        "\n",
        "| case | model | failed checks | answer |\n",
        "| :--- | :--- | :--- | :--- |\n",
        "| order-json | openai/gpt-5 | is_json: expected JSON, got &lt;text&gt; | Use &lt;b&gt; &amp; \"quotes\" 'x'� end |\n",
    );
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn top_failures_are_capped_at_ten() {
    let (sum, _) = summary(false);
    let fail = records()
        .into_iter()
        .find(|r| r.row.passed == Some(false))
        .unwrap();
    let mut many = std::iter::repeat_n(fail, 12);
    let text = String::from_utf8(Markdown.render(&sum, &mut many).unwrap()).unwrap();
    let section = text.split("## Top failures").nth(1).unwrap();
    assert_eq!(section.matches("| order-json |").count(), 10);
    assert!(section.contains("10 of 12 failing answers shown"));
    assert!(!text.contains("SIMULATED"));
}

#[test]
fn long_answers_are_cut_at_200_chars() {
    let mut rec = records().remove(2);
    rec.text = "é".repeat(300);
    let row = failure_row(&rec);
    assert_eq!(row[3].chars().count(), 201);
    assert!(row[3].ends_with('…'));
}
