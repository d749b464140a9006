//! What the sim answers when a request carries tools or a JSON response
//! format, decided deterministically from the request:
//!
//! - which tools to call: the one `tool_choice` forces, else every tool
//!   whose name or description shares a word with the last user message
//!   (only the best one when `parallel_tool_calls: false`); none when
//!   `tool_choice` is `none`, when nothing matches under `auto`, or when
//!   the conversation already ends with tool results (then it answers
//!   from them);
//! - arguments (and `json_schema` answers) generated to be valid against
//!   the JSON Schema given, filled from the prompt where it can
//!   (capitalised words for strings, numbers for numbers);
//! - the stream: one delta per call with its id and name, then the
//!   arguments in fragments of 1 to 4 bytes, calls interleaved by index.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::text::{hash_bytes, hash_parts, push_json_escaped};

/// Deepest schema nesting generated.
const MAX_DEPTH: usize = 8;

/// One entry of the request's `tools`.
#[derive(Debug, Clone, Deserialize)]
pub struct SimTool {
    /// `function`.
    pub function: SimFunction,
}

/// `function` of a tool.
#[derive(Debug, Clone, Deserialize)]
pub struct SimFunction {
    /// The function name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default)]
    pub parameters: Option<Value>,
}

/// A call the sim decided to make.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    /// `call_...`.
    pub id: String,
    /// Function name.
    pub name: String,
    /// Arguments JSON text.
    pub arguments: String,
}

/// Hints taken from the prompt for generated values.
pub struct Hints {
    words: Vec<String>,
    numbers: Vec<i64>,
    lower: String,
}

impl Hints {
    /// Hints from the last user message.
    pub fn new(prompt: &str) -> Hints {
        let mut words = Vec::new();
        let mut numbers = Vec::new();
        for (i, raw) in prompt.split_whitespace().enumerate() {
            let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
            if w.is_empty() {
                continue;
            }
            if let Ok(n) = w.parse::<i64>() {
                numbers.push(n);
            } else if i > 0
                && w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().any(char::is_lowercase)
                && !words.iter().any(|x| x == w)
            {
                // A name (Berlin, Paris), not an acronym (JSON) or the
                // sentence's first word.
                words.push(w.to_string());
            }
        }
        Hints {
            words,
            numbers,
            lower: prompt.to_lowercase(),
        }
    }
}

/// The calls to make, or none (answer with text).
pub fn plan_calls(
    tools: &[SimTool],
    tool_choice: Option<&Value>,
    parallel: Option<bool>,
    ends_with_tool_result: bool,
    hints: &Hints,
    seed: u64,
) -> Vec<PlannedCall> {
    if tools.is_empty() {
        return Vec::new();
    }
    let forced = tool_choice
        .and_then(|c| c.pointer("/function/name"))
        .and_then(Value::as_str);
    let mode = tool_choice.and_then(Value::as_str).unwrap_or("auto");
    let chosen: Vec<&SimTool> = if let Some(name) = forced {
        tools
            .iter()
            .filter(|t| t.function.name == name)
            .take(1)
            .collect()
    } else if mode == "none" || (ends_with_tool_result && mode != "required") {
        Vec::new()
    } else {
        let scores: Vec<usize> = tools.iter().map(|t| score(t, &hints.lower)).collect();
        let best = scores.iter().copied().max().unwrap_or(0);
        if best == 0 {
            if mode == "required" {
                vec![&tools[0]]
            } else {
                Vec::new()
            }
        } else if parallel == Some(false) {
            let i = scores.iter().position(|&s| s == best).unwrap_or(0);
            vec![&tools[i]]
        } else {
            tools
                .iter()
                .zip(&scores)
                .filter(|(_, &s)| s > 0)
                .map(|(t, _)| t)
                .collect()
        }
    };
    chosen
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let h = hash_parts(&[seed, hash_bytes(7, t.function.name.as_bytes()), i as u64]);
            let schema = t
                .function
                .parameters
                .clone()
                .unwrap_or(json!({"type": "object"}));
            let mut counter = 0;
            let args = generate(&schema, hints, &mut counter, 0);
            PlannedCall {
                id: format!("call_{:016x}", h),
                name: t.function.name.clone(),
                arguments: args.to_string(),
            }
        })
        .collect()
}

/// Words of the tool's name and description found in the prompt.
fn score(tool: &SimTool, prompt_lower: &str) -> usize {
    let f = &tool.function;
    let text = format!(
        "{} {}",
        f.name.replace(['_', '-'], " "),
        f.description.as_deref().unwrap_or("")
    )
    .to_lowercase();
    let mut seen = std::collections::BTreeSet::new();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 4 && seen.insert(*w))
        .filter(|w| prompt_lower.contains(*w))
        .count()
}

/// A value valid against `schema` (the common keywords: type, properties,
/// required, items, enum, const, minimum/maximum, min/maxItems,
/// min/maxLength, anyOf/oneOf/allOf), filled from the prompt's hints.
pub fn generate(schema: &Value, hints: &Hints, counter: &mut usize, depth: usize) -> Value {
    let Some(s) = schema.as_object() else {
        return Value::Null;
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        let hit = options.iter().find(|o| {
            o.as_str()
                .is_some_and(|t| hints.lower.contains(&t.to_lowercase()))
        });
        return hit.or(options.first()).cloned().unwrap_or(Value::Null);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return generate(first, hints, counter, depth + 1);
        }
    }
    let ty = match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "string",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            if let Some(Value::Object(props)) = s.get("properties") {
                // Required properties first, in the order listed: the
                // prompt's names fill them in that order (origin, destination).
                let required: Vec<&str> = s
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let order = required.iter().copied().chain(
                    props
                        .keys()
                        .map(String::as_str)
                        .filter(|k| !required.contains(k)),
                );
                for name in order {
                    if let Some(sub) = props.get(name) {
                        out.insert(name.to_string(), generate(sub, hints, counter, depth + 1));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(1);
            let max = s
                .get("maxItems")
                .and_then(Value::as_u64)
                .unwrap_or(u64::MAX);
            let n = min.max(1).min(max).min(16);
            let item = s.get("items").cloned().unwrap_or(json!({"type": "string"}));
            Value::Array(
                (0..n)
                    .map(|_| generate(&item, hints, counter, depth + 1))
                    .collect(),
            )
        }
        "integer" | "number" => {
            let lo = s.get("minimum").and_then(Value::as_f64);
            let hi = s.get("maximum").and_then(Value::as_f64);
            let mut v = hints.numbers.first().copied().unwrap_or(1) as f64;
            if let Some(lo) = lo {
                v = v.max(lo);
            }
            if let Some(hi) = hi {
                v = v.min(hi);
            }
            if ty == "integer" {
                json!(v.ceil() as i64)
            } else {
                json!(v)
            }
        }
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => {
            let mut text = match s.get("format").and_then(Value::as_str) {
                Some("date") => "2026-01-15".to_string(),
                Some("date-time") => "2026-01-15T09:30:00Z".to_string(),
                Some("email") => "user@example.com".to_string(),
                _ => {
                    let w = hints.words.get(*counter).cloned();
                    *counter += 1;
                    w.unwrap_or_else(|| "sample".to_string())
                }
            };
            let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
            let max = s
                .get("maxLength")
                .and_then(Value::as_u64)
                .map(|m| m as usize);
            while text.chars().count() < min {
                text.push('x');
            }
            if let Some(max) = max {
                text = text.chars().take(max).collect();
            }
            Value::String(text)
        }
    }
}

/// The stream deltas for `calls`: the inside of `"delta":{...}`, one per
/// chunk. Each call opens with its id and name; its arguments follow in
/// fragments of 1 to 4 bytes (on character boundaries), calls taking turns.
pub fn deltas(calls: &[PlannedCall], seed: u64) -> Vec<String> {
    let mut out = Vec::new();
    for (i, c) in calls.iter().enumerate() {
        let mut d = format!("\"tool_calls\":[{{\"index\":{i},\"id\":\"{}\",\"type\":\"function\",\"function\":{{\"name\":\"", c.id);
        push_json_escaped(&mut d, &c.name);
        d.push_str("\",\"arguments\":\"\"}}]");
        out.push(d);
    }
    let pieces: Vec<Vec<&str>> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| fragments(&c.arguments, hash_parts(&[seed, i as u64])))
        .collect();
    let longest = pieces.iter().map(Vec::len).max().unwrap_or(0);
    for k in 0..longest {
        for (i, p) in pieces.iter().enumerate() {
            if let Some(piece) = p.get(k) {
                let mut d =
                    format!("\"tool_calls\":[{{\"index\":{i},\"function\":{{\"arguments\":\"");
                push_json_escaped(&mut d, piece);
                d.push_str("\"}}]");
                out.push(d);
            }
        }
    }
    out
}

/// `text` cut into pieces of 1 to 4 bytes, never inside a character.
pub fn fragments(text: &str, seed: u64) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut n = 0u64;
    while start < text.len() {
        let want = 1 + (hash_parts(&[seed, n]) % 4) as usize;
        let mut end = (start + want).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests;
