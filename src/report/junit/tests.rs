//! Unit tests of `report::junit`.

use super::*;
use crate::metrics::Aggregate;
use crate::report::test_support::{records, run_meta, summary, GPT};

#[test]
fn two_rows_exact_text() {
    let recs: Vec<ResponseRecord> = records()
        .into_iter()
        .filter(|r| r.row.model == GPT)
        .collect();
    let mut meta = run_meta(false);
    meta.models = vec![GPT.into()];
    let mut agg = Aggregate::new(&meta.models);
    recs.iter().for_each(|r| agg.record(r));
    let sum = RunSummary::new(meta, &agg);
    let xml = String::from_utf8(Junit.render(&sum, &mut recs.into_iter()).unwrap()).unwrap();
    let expected = concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<testsuites name=\"support\" tests=\"2\" failures=\"1\" errors=\"0\" time=\"3.630\">\n",
        "  <testsuite name=\"openai/gpt-5\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"3.630\">\n",
        "    <testcase classname=\"support.openai/gpt-5\" name=\"refund-window#0\" time=\"1.530\">\n",
        "      <system-out>Refunds are accepted within 30 days.</system-out>\n",
        "    </testcase>\n",
        "    <testcase classname=\"support.openai/gpt-5\" name=\"order-json#0\" time=\"2.100\">\n",
        "      <failure type=\"check\" message=\"1 of 2 checks failed: is_json\">is_json: expected JSON, got &lt;text&gt;</failure>\n",
        "      <system-out>Use &lt;b&gt; &amp; &quot;quotes&quot; &apos;x&apos;\\u001b end</system-out>\n",
        "    </testcase>\n",
        "  </testsuite>\n",
        "</testsuites>\n",
    );
    assert_eq!(xml, expected);
}

#[test]
fn counts_match_children() {
    let (sum, _) = summary(false);
    let xml = String::from_utf8(Junit.render(&sum, &mut records().into_iter()).unwrap()).unwrap();
    let head = xml.lines().nth(1).unwrap();
    assert_eq!(
        head,
        "<testsuites name=\"support\" tests=\"5\" failures=\"1\" errors=\"1\" time=\"3.975\">"
    );
    assert_eq!(xml.matches("<testcase ").count(), 5);
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert_eq!(xml.matches("<error ").count(), 1);
    assert_eq!(xml.matches("<skipped ").count(), 1);
    assert!(xml.contains(
        "  <testsuite name=\"anthropic/claude-sonnet-4\" tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"1\" time=\"0.345\">"
    ));
    assert!(xml.contains("<skipped message=\"budget_exceeded\"/>"));
    assert!(xml.contains(
        "<error type=\"rate_limited\" message=\"Too many requests &amp; &lt;slow down&gt;\">attempts: 3\nhint: rate limited;"
    ));
}

#[test]
fn suite_counts_match_the_summary() {
    // The `<testsuite>` attributes come from a counting pass over the
    // rows; they must agree with what the summary says of each model.
    let (sum, _) = summary(false);
    let xml = String::from_utf8(Junit.render(&sum, &mut records().into_iter()).unwrap()).unwrap();
    for m in &sum.models {
        let failures = records()
            .iter()
            .filter(|r| r.row.model == m.model && r.row.passed == Some(false))
            .count();
        let head = format!(
            "<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{}\" ",
            m.model, m.requests, m.errors, m.skipped
        );
        assert!(xml.contains(&head), "{head} not in\n{xml}");
        let cases = xml
            .split(&head)
            .nth(1)
            .unwrap()
            .split("</testsuite>")
            .next()
            .unwrap();
        assert_eq!(cases.matches("<testcase ").count() as u64, m.requests);
    }
}

#[test]
fn escaping() {
    assert_eq!(escape("a<b>&\"c'", false), "a&lt;b&gt;&amp;&quot;c&apos;");
    assert_eq!(
        escape("x\u{1}y\u{1b}\u{FFFF}", false),
        "x\\u0001y\\u001b\\uffff"
    );
    assert_eq!(escape("l1\nl2\tt\r", true), "l1&#10;l2&#9;t&#13;");
    assert_eq!(escape("l1\nl2\tt", false), "l1\nl2\tt");
    assert_eq!(escape("ünïcode ✓", true), "ünïcode ✓");
}

#[test]
fn long_answers_are_truncated() {
    let (sum, _) = summary(false);
    let mut rec = records().remove(0);
    rec.text = "a".repeat(5000);
    let xml = String::from_utf8(Junit.render(&sum, &mut std::iter::once(rec)).unwrap()).unwrap();
    let out = xml.split("<system-out>").nth(1).unwrap();
    let out = out.split("</system-out>").next().unwrap();
    assert_eq!(out, format!("{}… [truncated]", "a".repeat(2000)));
}
