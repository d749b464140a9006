//! The `sim/judge` grader, following the shared judge protocol.
//!
//! Every double-quoted substring of the rubric must appear in the answer,
//! case-insensitively; a rubric without quotes passes iff the answer is
//! non-empty. The verdict is the JSON object the protocol asks for.

use serde_json::json;

/// The text between the first `<tag>` and the end marker found by `last`.
fn section<'a>(text: &'a str, tag: &str, last: bool) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let rest = &text[start..];
    let end = if last {
        rest.rfind(&close)?
    } else {
        rest.find(&close)?
    };
    Some(rest[..end].trim_matches(|c| c == '\n' || c == '\r'))
}

/// Quoted phrases in a rubric (`Says "30 days"` → `["30 days"]`).
pub fn quoted(rubric: &str) -> Vec<&str> {
    let parts: Vec<&str> = rubric.split('"').collect();
    // Odd segments are inside quotes; an unmatched final quote opens nothing.
    let complete = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    parts[..complete]
        .iter()
        .skip(1)
        .step_by(2)
        .copied()
        .filter(|q| !q.is_empty())
        .collect()
}

/// The grader's reply text for one grading request (the user message).
pub fn verdict(grading_request: &str) -> String {
    let (pass, reason) = match (
        section(grading_request, "rubric", false),
        section(grading_request, "answer", true),
    ) {
        (Some(rubric), Some(answer)) => grade(rubric, answer),
        _ => (
            false,
            "The grading request has no <rubric> and <answer> sections.".to_string(),
        ),
    };
    json!({"pass": pass, "reason": reason}).to_string()
}

fn grade(rubric: &str, answer: &str) -> (bool, String) {
    let quotes = quoted(rubric);
    if quotes.is_empty() {
        return if answer.trim().is_empty() {
            (false, "The answer is empty.".to_string())
        } else {
            (
                true,
                "The answer is non-empty and the rubric names no exact phrase.".to_string(),
            )
        };
    }
    let haystack = answer.to_lowercase();
    match quotes
        .iter()
        .find(|q| !haystack.contains(&q.to_lowercase()))
    {
        Some(missing) => (false, format!("The answer does not contain \"{missing}\".")),
        None => (
            true,
            "The answer contains every quoted phrase of the rubric.".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests;
