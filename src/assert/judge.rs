//! The grader protocol for `judge` checks (shared with the sim's
//! `sim/judge` model; see the judge protocol in the design notes): two
//! messages out, one JSON verdict `{"pass": bool, "reason": string}` back.

use serde_json::Value;

use crate::record::Message;

/// The grader's system message, word for word.
pub const JUDGE_SYSTEM: &str = "You are a strict grader. Decide whether the ANSWER satisfies the RUBRIC. Reply with only a JSON object: {\"pass\": true or false, \"reason\": \"<one sentence>\"}";

/// The two messages sent to the grader model for one `judge` check:
/// the fixed system message, then the rubric, the last user message of the
/// graded conversation and the answer, each in its tag.
pub fn judge_messages(rubric: &str, conversation: &[Message], answer: &str) -> Vec<Message> {
    let question = conversation
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.as_text())
        .unwrap_or_default();
    let user = format!(
        "<rubric>\n{rubric}\n</rubric>\n<question>\n{question}\n</question>\n<answer>\n{answer}\n</answer>"
    );
    vec![
        Message::text("system", JUDGE_SYSTEM),
        Message::text("user", user),
    ]
}

/// Read the grader's verdict: the first `{...}` JSON object in its reply
/// (fences and surrounding text are ignored) with a boolean `pass` and a
/// string `reason`.
pub fn parse_verdict(grader_text: &str) -> Result<(bool, String), String> {
    let mut seen_object = false;
    for (start, _) in grader_text.match_indices('{') {
        let Some(end) = object_end(&grader_text[start..]) else {
            continue;
        };
        let Ok(Value::Object(map)) =
            serde_json::from_str::<Value>(&grader_text[start..start + end])
        else {
            continue;
        };
        seen_object = true;
        let Some(pass) = map.get("pass").and_then(Value::as_bool) else {
            continue;
        };
        let reason = map
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string();
        return Ok((pass, reason));
    }
    let shown: String = grader_text.trim().chars().take(120).collect();
    if seen_object {
        Err(format!(
            "grader reply has no boolean \"pass\" in its JSON object: {shown:?}"
        ))
    } else {
        Err(format!(
            "grader reply has no JSON verdict object: {shown:?}"
        ))
    }
}

/// Byte length of the balanced `{...}` starting at `s[0]`, skipping braces
/// inside JSON strings.
fn object_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}
