//! `junit.xml`: one `<testsuite>` per model, one `<testcase>` per request, so
//! Jenkins, GitLab and GitHub test reporters show failing answers as failing
//! tests. Follows the common (Jenkins/Ant) JUnit schema: inside a testcase,
//! `skipped`, then `error`, then `failure`, then `system-out`; only the
//! attributes the Jenkins xUnit schema (junit-10.xsd) allows: `<testsuites>`
//! has no `skipped` (its `<testsuite>`s do), and `time` is plain decimal
//! seconds.

use std::fmt::Write as _;

use super::{Exporter, Records, ReportError, RunSummary};
use crate::record::{RequestRow, ResponseRecord, Status};

/// Characters of each answer kept in `<system-out>`.
const ANSWER_CHARS: usize = 2000;

/// Writes `junit.xml`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Junit;

/// One model's counts, which its `<testsuite>` attributes need before its
/// children.
#[derive(Default)]
struct Counts {
    tests: u64,
    failures: u64,
    errors: u64,
    skipped: u64,
    seconds: f64,
}

impl Counts {
    fn add(&mut self, row: &RequestRow) {
        self.tests += 1;
        self.seconds += seconds(row);
        match row.status {
            Status::Skipped => self.skipped += 1,
            Status::Error => self.errors += 1,
            Status::Ok if row.passed == Some(false) => self.failures += 1,
            Status::Ok => {}
        }
    }
}

fn seconds(row: &RequestRow) -> f64 {
    row.duration_ms.unwrap_or(0.0).max(0.0) / 1000.0
}

impl Exporter for Junit {
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    /// One pass counts each model's rows, then one pass per model writes its
    /// test cases: memory stays flat however many rows the run has.
    fn write<'r>(
        &self,
        summary: &RunSummary,
        records: &Records<'r>,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        let io = super::write_err("junit.xml");
        let suite_name = &summary.run.suite;
        // The run's models first (even without rows), then any others as seen.
        let mut suites: Vec<(String, Counts)> = summary
            .models
            .iter()
            .map(|m| (m.model.clone(), Counts::default()))
            .collect();
        for rec in records()? {
            let i = match suites.iter().position(|(m, _)| *m == rec.row.model) {
                Some(i) => i,
                None => {
                    suites.push((rec.row.model.clone(), Counts::default()));
                    suites.len() - 1
                }
            };
            suites[i].1.add(&rec.row);
        }

        let total = suites.iter().fold(Counts::default(), |mut t, (_, s)| {
            t.tests += s.tests;
            t.failures += s.failures;
            t.errors += s.errors;
            t.skipped += s.skipped;
            t.seconds += s.seconds;
            t
        });
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">\n",
            escape(suite_name, true),
            total.tests,
            total.failures,
            total.errors,
            decimal_seconds(total.seconds)
        )
        .map_err(&io)?;
        let mut case = String::new();
        for (model, s) in &suites {
            writeln!(
                out,
                "  <testsuite name=\"{}\" {}>",
                escape(model, true),
                counts(s)
            )
            .map_err(&io)?;
            if s.tests > 0 {
                for rec in records()?.filter(|r| r.row.model == *model) {
                    case.clear();
                    testcase(&mut case, suite_name, &rec);
                    out.write_all(case.as_bytes()).map_err(&io)?;
                }
            }
            out.write_all(b"  </testsuite>\n").map_err(&io)?;
        }
        out.write_all(b"</testsuites>\n").map_err(&io)
    }
}

fn counts(s: &Counts) -> String {
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
        s.tests,
        s.failures,
        s.errors,
        s.skipped,
        decimal_seconds(s.seconds)
    )
}

/// Seconds as the schemas' `xs:decimal`: digits, a point, three decimals;
/// never an exponent, a sign or `NaN`/`inf`.
fn decimal_seconds(s: f64) -> String {
    let s = if s.is_finite() { s.max(0.0) } else { 0.0 };
    format!("{s:.3}")
}

/// Render one record as a `<testcase>` into `out`.
fn testcase(out: &mut String, suite_name: &str, rec: &ResponseRecord) {
    let row = &rec.row;
    let seconds = seconds(row);
    let mut children = String::new();
    let kind = row.error_kind.map_or("unknown", |k| k.as_str());
    match row.status {
        Status::Skipped => {
            let _ = writeln!(
                children,
                "      <skipped message=\"{}\"/>",
                escape(kind, true)
            );
        }
        Status::Error => {
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
    let shown = rec.answer_shown();
    if !shown.is_empty() {
        let mut answer: String = shown.chars().take(ANSWER_CHARS).collect();
        if shown.chars().nth(ANSWER_CHARS).is_some() {
            answer.push_str("… [truncated]");
        }
        let _ = writeln!(
            children,
            "      <system-out>{}</system-out>",
            escape(&answer, false)
        );
    }
    let open = format!(
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
        escape(&format!("{suite_name}.{}", row.model), true),
        escape(&format!("{}#{}", row.case_id, row.repeat), true),
        decimal_seconds(seconds),
    );
    if children.is_empty() {
        let _ = writeln!(out, "{open}/>");
    } else {
        let _ = writeln!(out, "{open}>\n{children}    </testcase>");
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
mod tests;
