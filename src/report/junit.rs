//! `junit.xml`: one `<testsuite>` per model, one `<testcase>` per request, so
//! Jenkins, GitLab and GitHub test reporters show failing answers as failing
//! tests. Follows the common (Jenkins/Ant) JUnit schema: inside a testcase,
//! `skipped`, then `error`, then `failure`, then `system-out`.

use std::fmt::Write as _;

use super::{Exporter, ReportError, RunSummary};
use crate::record::{ResponseRecord, Status};

/// Characters of each answer kept in `<system-out>`.
const ANSWER_CHARS: usize = 2000;

/// Writes `junit.xml`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Junit;

/// One model's test cases, already rendered, with the counts its attributes need.
#[derive(Default)]
struct Suite {
    body: String,
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    seconds: f64,
}

impl Exporter for Junit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn render(
        &self,
        summary: &RunSummary,
        records: &mut dyn Iterator<Item = ResponseRecord>,
    ) -> Result<Vec<u8>, ReportError> {
        let suite_name = &summary.run.suite;
        // The run's models first (even without rows), then any others as seen.
        let mut suites: Vec<(String, Suite)> = summary
            .models
            .iter()
            .map(|m| (m.model.clone(), Suite::default()))
            .collect();
        for rec in records {
            let i = match suites.iter().position(|(m, _)| *m == rec.row.model) {
                Some(i) => i,
                None => {
                    suites.push((rec.row.model.clone(), Suite::default()));
                    suites.len() - 1
                }
            };
            testcase(&mut suites[i].1, suite_name, &rec);
        }

        let total = suites.iter().fold(Suite::default(), |mut t, (_, s)| {
            t.tests += s.tests;
            t.failures += s.failures;
            t.errors += s.errors;
            t.skipped += s.skipped;
            t.seconds += s.seconds;
            t
        });
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{}\" {}>",
            escape(suite_name, true),
            counts(&total)
        );
        for (model, s) in &suites {
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" {}>",
                escape(model, true),
                counts(s)
            );
            out.push_str(&s.body);
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        Ok(out.into_bytes())
    }
}

fn counts(s: &Suite) -> String {
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\"",
        s.tests, s.failures, s.errors, s.skipped, s.seconds
    )
}

/// Render one record as a `<testcase>` into its suite and count it.
fn testcase(s: &mut Suite, suite_name: &str, rec: &ResponseRecord) {
    let row = &rec.row;
    let seconds = row.duration_ms.unwrap_or(0.0).max(0.0) / 1000.0;
    s.tests += 1;
    s.seconds += seconds;
    let mut children = String::new();
    let kind = row.error_kind.map_or("unknown", |k| k.as_str());
    match row.status {
        Status::Skipped => {
            s.skipped += 1;
            let _ = writeln!(
                children,
                "      <skipped message=\"{}\"/>",
                escape(kind, true)
            );
        }
        Status::Error => {
            s.errors += 1;
            let message = row.error_message.as_deref().unwrap_or(kind);
            let mut detail = format!("attempts: {}", row.attempts);
            if let Some(hint) = row.error_kind.and_then(|k| k.hint()) {
                let _ = write!(detail, "\nhint: {hint}");
            }
            let _ = writeln!(
                children,
                "      <error type=\"{}\" message=\"{}\">{}</error>",
                escape(kind, true),
                escape(message, true),
                escape(&detail, false)
            );
        }
        Status::Ok if row.passed == Some(false) => {
            s.failures += 1;
            let failed: Vec<_> = rec.checks.iter().filter(|c| !c.passed).collect();
            let (message, detail) = if failed.is_empty() {
                let detail = row.failed_checks.clone().unwrap_or_default();
                ("checks failed".to_string(), detail)
            } else {
                let names: Vec<&str> = failed.iter().map(|c| c.check.as_str()).collect();
                let message = format!(
                    "{} of {} checks failed: {}",
                    failed.len(),
                    rec.checks.len(),
                    names.join(", ")
                );
                let lines: Vec<String> = failed
                    .iter()
                    .map(|c| match c.reason.as_str() {
                        "" => c.check.clone(),
                        reason => format!("{}: {reason}", c.check),
                    })
                    .collect();
                (message, lines.join("\n"))
            };
            let _ = writeln!(
                children,
                "      <failure type=\"check\" message=\"{}\">{}</failure>",
                escape(&message, true),
                escape(&detail, false)
            );
        }
        Status::Ok => {}
    }
    if !rec.text.is_empty() {
        let mut answer: String = rec.text.chars().take(ANSWER_CHARS).collect();
        if rec.text.chars().nth(ANSWER_CHARS).is_some() {
            answer.push_str("… [truncated]");
        }
        let _ = writeln!(
            children,
            "      <system-out>{}</system-out>",
            escape(&answer, false)
        );
    }
    let open = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{seconds:.3}\"",
        escape(&format!("{suite_name}.{}", row.model), true),
        escape(&format!("{}#{}", row.case_id, row.repeat), true),
    );
    if children.is_empty() {
        let _ = writeln!(s.body, "{open}/>");
    } else {
        let _ = writeln!(s.body, "{open}>\n{children}    </testcase>");
    }
}

/// Escape text for XML 1.0. Characters XML cannot carry at all (most C0
/// controls, U+FFFE, U+FFFF — not even as `&#..;`) are written as a visible
/// `\u001b`. In attributes, tabs and line breaks become character
/// references so parsers do not normalise them to spaces.
pub(crate) fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
            "<testsuites name=\"support\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" time=\"3.630\">\n",
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
        let xml =
            String::from_utf8(Junit.render(&sum, &mut records().into_iter()).unwrap()).unwrap();
        let head = xml.lines().nth(1).unwrap();
        assert_eq!(
            head,
            "<testsuites name=\"support\" tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"3.975\">"
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
        let xml =
            String::from_utf8(Junit.render(&sum, &mut std::iter::once(rec)).unwrap()).unwrap();
        let out = xml.split("<system-out>").nth(1).unwrap();
        let out = out.split("</system-out>").next().unwrap();
        assert_eq!(out, format!("{}… [truncated]", "a".repeat(2000)));
    }
}
