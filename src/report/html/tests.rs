//! Tests of `report.html` on the writers' fixed run.

use super::*;
use crate::record::ResponseRecord;
use crate::report::test_support::{records, summary, CLAUDE, GPT};

fn render(sum: &RunSummary, recs: Vec<ResponseRecord>) -> String {
    String::from_utf8(Html.render(sum, &mut recs.into_iter()).unwrap()).unwrap()
}

#[test]
fn answers_are_escaped_text_and_the_page_runs_nothing() {
    let (sum, _) = summary(false);
    let mut recs = records();
    recs[2].text = "<script>alert('x')</script> <img src=x onerror=alert(1)>".into();
    recs[2].checks[0].reason = "saw </pre><b>bold</b>".into();
    let html = render(&sum, recs);
    assert!(!html.contains("<script"), "raw script tag in report");
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>bold"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("saw &lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;"));
    // Scripts and every external load are forbidden by the page itself.
    assert!(html.contains("default-src 'none'"));
    assert!(!html.contains("http://") || !html.contains("src=\"http"));
    assert!(!html.contains("https://"), "no external URL of any kind");
}

#[test]
fn simulated_banner_only_for_sim_runs() {
    let (sim, _) = summary(true);
    let html = render(&sim, records());
    assert!(html.contains(&esc(crate::report::SIMULATED_BANNER)));
    assert!(html.contains("class=\"banner\""));
    let (real, _) = summary(false);
    assert!(!render(&real, records()).contains("SIMULATED"));
}

#[test]
fn has_table_charts_and_failing_case_side_by_side() {
    let (sum, _) = summary(false);
    let html = render(&sum, records());
    // The comparison table's cells come from table::comparison_data.
    assert!(html.contains("<td class=\"num\">$0.00165</td>"));
    assert!(html.contains("n/a (2 unknown)"));
    // TTFT and duration CDFs: one path per model that answered.
    assert_eq!(html.matches("<path class=\"series").count(), 4);
    assert_eq!(html.matches("<svg class=\"chart").count(), 5);
    // Errors by kind: rate_limited and budget_exceeded for Claude.
    assert!(html.contains("<rect class=\"bar k1\""));
    assert!(html.contains("lower --concurrency"));
    // The failing case shows both models: GPT's failed check, Claude's error.
    let case = html.split("Case <code>order-json</code>").nth(1).unwrap();
    let case = case.split("</section>").next().unwrap();
    assert!(case.contains(GPT) && case.contains(CLAUDE));
    assert!(case.contains("<code>is_json</code>: expected JSON, got &lt;text&gt;"));
    assert!(case.contains("rate_limited: Too many requests &amp; &lt;slow down&gt;"));
    assert!(!html.contains("Case <code>refund-window</code>"));
}

#[test]
fn model_without_cost_or_checks_is_named_not_plotted() {
    let (sum, _) = summary(false);
    let html = render(&sum, records());
    let scatter = html
        .split_once("Cost per request vs pass rate")
        .unwrap()
        .1
        .split("</figure>")
        .next()
        .unwrap();
    // GPT has cost and checks: one point. Claude has neither a cost nor checks.
    assert_eq!(scatter.matches("<circle class=\"point").count(), 1);
    assert!(scatter
        .contains("no cost figure (gateway, catalog or suite price): anthropic/claude-sonnet-4"));

    let mut no_checks = sum.clone();
    no_checks.models[0].pass_rate = None;
    let html = render(&no_checks, records());
    assert!(html.contains("No model has both a cost and checked answers."));
    assert!(html.contains("Not plotted, no answer was checked: openai/gpt-5."));
}

#[test]
fn failing_cases_are_bounded_and_answers_cut() {
    let (sum, _) = summary(false);
    let fail = records().remove(2);
    let many = (0..25).map(|i| {
        let mut r = fail.clone();
        r.row.case_id = format!("case-{i}");
        r.text = "x".repeat(2000);
        r
    });
    let html = render(&sum, many.collect());
    assert_eq!(html.matches("<section class=\"case").count(), 20);
    assert!(html.contains("25 failing cases"));
    assert!(html.contains(&format!("{}…</pre>", "x".repeat(1500))));
    assert!(!html.contains(&"x".repeat(1501)));
}

#[test]
fn failing_cases_keep_the_order_of_first_appearance() {
    // case-a first appears passing and fails only later; it still comes
    // before case-b, and case-c never fails so it is not shown.
    let (sum, _) = summary(false);
    let fail = records().remove(2);
    let mut pass = fail.clone();
    pass.row.passed = Some(true);
    pass.checks.clear();
    let with = |r: &ResponseRecord, case: &str, repeat: u32| {
        let mut r = r.clone();
        r.row.case_id = case.into();
        r.row.repeat = repeat;
        r
    };
    let recs = vec![
        with(&pass, "case-a", 0),
        with(&pass, "case-c", 0),
        with(&fail, "case-b", 0),
        with(&fail, "case-a", 1),
    ];
    let html = render(&sum, recs);
    let a = html.find("<code>case-a</code>").expect("case-a shown");
    let b = html.find("<code>case-b</code>").expect("case-b shown");
    assert!(a < b);
    assert!(!html.contains("<code>case-c</code>"));
    assert!(html.contains("2 failing cases"));
    assert!(html.contains("1 of 2 repeats failed"));
}

#[test]
fn decision_view_comes_before_the_models_table() {
    let (sum, _) = summary(true);
    let bytes = Html.render(&sum, &mut records().into_iter()).unwrap();
    let html = String::from_utf8(bytes).unwrap();
    let decision = html.find("<h2>Decision</h2>").expect("a Decision section");
    let models = html.find("<h2>Models</h2>").unwrap();
    assert!(decision < models);
    assert!(html.contains("<li>openai/gpt-5 (reference): on the Pareto front</li>"));
    assert!(html.contains("Holm family"));
}
