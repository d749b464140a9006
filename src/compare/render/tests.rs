//! Tests of the comparison renderers that need no comparison run: the HTML
//! page drawn from given rows, and the format list.

use super::*;
use crate::report::test_support::{summary, CLAUDE, GPT};

#[test]
fn compare_view_renders_verdict_rows_and_overlaid_cdfs() {
    let (base, _) = summary(false);
    let (cur, _) = summary(true);
    let row = |model: &str, metric: &str, verdict: &str| CompareRowView {
        model: model.into(),
        metric: metric.into(),
        baseline: "412 ms".into(),
        current: "530 ms".into(),
        change: "+118 ms (+29%)".into(),
        verdict: verdict.into(),
    };
    let view = CompareView {
        baseline: &base,
        current: &cur,
        method: "Mann–Whitney U, α = 0.01 <Holm>".into(),
        rows: vec![
            row(GPT, "TTFT p50", "regressed"),
            row(CLAUDE, "duration p50", "no change"),
            row(GPT, "pass rate", "improved"),
        ],
    };
    let html = render_compare(&view);
    assert_eq!(html.matches("<tr class=\"regressed\">").count(), 1);
    assert_eq!(html.matches("<tr class=\"improved\">").count(), 1);
    assert_eq!(html.matches("<tr class=\"same\">").count(), 1);
    assert!(html.contains("<td class=\"verdict\">regressed</td>"));
    assert!(html.contains("1 significant regression."));
    assert!(html.contains("Mann–Whitney U, α = 0.01 &lt;Holm&gt;"));
    // Two latency charts × two models that answered × (baseline + current).
    assert_eq!(html.matches("<path class=\"series").count(), 8);
    assert_eq!(html.matches("dashed\" data-model=").count(), 4);
    assert!(
        html.contains("class=\"banner\""),
        "current run is simulated"
    );
}

#[test]
fn every_format_is_listed_once_and_table_is_the_default() {
    let names = names();
    assert_eq!(names, ["table", "markdown", "json", "html"]);
    assert_eq!(FORMATS[0].name, "table");
    assert!(by_name("html").is_some() && by_name("yaml").is_none());
}
