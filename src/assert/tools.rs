//! Checks on the tool calls an answer made: `tool_call` (a call to a named
//! function, optionally at an index, with arguments matching a JSON Schema
//! or a JSONPath value), `tool_calls_count` (min/max/equals) and
//! `no_tool_call`.

use std::sync::Arc;

use serde_json::Value;
use serde_json_path::JsonPath;

use crate::record::AssertSpec;
use crate::record::ToolCall;

/// A compiled tool-call check body.
#[derive(Clone)]
pub(crate) enum ToolCheck {
    Call {
        name: String,
        index: Option<usize>,
        arguments: Option<ArgsCheck>,
    },
    Count {
        min: Option<u64>,
        max: Option<u64>,
    },
    None,
}

/// What a call's arguments must satisfy.
#[derive(Clone)]
pub(crate) enum ArgsCheck {
    Schema(Arc<jsonschema::Validator>),
    Path {
        path: JsonPath,
        text: String,
        value: Option<Value>,
    },
}

/// Keys only tool checks take; any other check refuses them.
pub(crate) fn uses_tool_keys(spec: &AssertSpec) -> Option<&'static str> {
    [
        ("name", spec.name.is_some()),
        ("arguments", spec.arguments.is_some()),
        ("json_path", spec.json_path.is_some()),
        ("index", spec.index.is_some()),
        ("min", spec.min.is_some()),
        ("max", spec.max.is_some()),
        ("equals", spec.equals.is_some()),
    ]
    .into_iter()
    .find_map(|(k, set)| set.then_some(k))
}

/// Compile `tool_call`, `tool_calls_count` or `no_tool_call`.
pub(crate) fn compile(base: &str, spec: &AssertSpec) -> Result<ToolCheck, String> {
    let refuse = |allowed: &[&str]| -> Result<(), String> {
        match uses_tool_keys(spec) {
            Some(k) if !allowed.contains(&k) => Err(format!(
                "`{base}` does not take `{k}`: it takes {}",
                if allowed.is_empty() {
                    "no keys".to_string()
                } else {
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
            _ => Ok(()),
        }
    };
    match base {
        "no_tool_call" => {
            refuse(&[])?;
            if spec.value.as_ref().is_some_and(|v| !v.is_null()) {
                return Err("`no_tool_call` takes no value: remove `value`".into());
            }
            Ok(ToolCheck::None)
        }
        "tool_calls_count" => {
            refuse(&["min", "max", "equals"])?;
            let (min, max) = match (spec.equals, spec.min, spec.max) {
                (Some(n), None, None) => (Some(n), Some(n)),
                (Some(_), _, _) => {
                    return Err("`tool_calls_count` takes `equals` or `min`/`max`, not both".into())
                }
                (None, None, None) => {
                    return Err(
                        "`tool_calls_count` needs `min`, `max` or `equals`, e.g. `min: 1`".into(),
                    )
                }
                (None, min, max) => (min, max),
            };
            if let (Some(lo), Some(hi)) = (min, max) {
                if lo > hi {
                    return Err(format!("`tool_calls_count` has min {lo} > max {hi}"));
                }
            }
            Ok(ToolCheck::Count { min, max })
        }
        _ => {
            refuse(&["name", "arguments", "json_path", "index"])?;
            let name = spec
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .ok_or("`tool_call` needs `name:` (the function expected)")?;
            let arguments = match (&spec.arguments, &spec.json_path) {
                (Some(_), Some(_)) => {
                    return Err("`tool_call` takes `arguments` (a JSON Schema) or `json_path` with `value`, not both".into())
                }
                (Some(schema @ Value::Object(_)), None) => {
                    let v = jsonschema::validator_for(schema).map_err(|e| {
                        format!("`arguments` of `tool_call` is not a valid JSON Schema: {e}")
                    })?;
                    Some(ArgsCheck::Schema(Arc::new(v)))
                }
                (Some(_), None) => {
                    return Err("`arguments` of `tool_call` must be a JSON Schema map, e.g. {required: [city]}".into())
                }
                (None, Some(text)) => {
                    let path = JsonPath::parse(text).map_err(|e| {
                        format!("`json_path` `{text}` is not a valid JSONPath: {e}")
                    })?;
                    Some(ArgsCheck::Path {
                        path,
                        text: text.clone(),
                        value: spec.value.clone().filter(|v| !v.is_null()),
                    })
                }
                (None, None) => {
                    if spec.value.as_ref().is_some_and(|v| !v.is_null()) {
                        return Err("`tool_call` uses `value` only with `json_path`".into());
                    }
                    None
                }
            };
            Ok(ToolCheck::Call {
                name,
                index: spec.index,
                arguments,
            })
        }
    }
}

/// Evaluate: `Ok(what was seen)` when it holds, `Err(what was expected)`.
pub(crate) fn evaluate(check: &ToolCheck, calls: &[ToolCall]) -> Result<String, String> {
    let n = calls.len() as u64;
    match check {
        ToolCheck::None => match calls.first() {
            None => Ok("the answer made no tool call".into()),
            Some(_) => Err(format!("expected no tool call, got {}", listing(calls))),
        },
        ToolCheck::Count { min, max } => {
            let ok = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
            let want = match (min, max) {
                (Some(a), Some(b)) if a == b => format!("exactly {a}"),
                (Some(a), Some(b)) => format!("{a} to {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => "any number of".into(),
            };
            if ok {
                Ok(format!("{n} tool call(s), {want} expected"))
            } else {
                Err(format!("expected {want} tool call(s), got {n}"))
            }
        }
        ToolCheck::Call {
            name,
            index,
            arguments,
        } => {
            let candidates: Vec<&ToolCall> = match index {
                Some(i) => calls.get(*i).into_iter().collect(),
                None => calls.iter().collect(),
            };
            let at = index.map(|i| format!(" at index {i}")).unwrap_or_default();
            let named: Vec<&ToolCall> =
                candidates.into_iter().filter(|c| &c.name == name).collect();
            if named.is_empty() {
                return Err(if calls.is_empty() {
                    format!("expected a call to `{name}`{at}, the answer made no tool call")
                } else {
                    format!("expected a call to `{name}`{at}, got {}", listing(calls))
                });
            }
            let Some(check) = arguments else {
                return Ok(format!("called {}", named[0].display()));
            };
            let mut why = String::new();
            for call in &named {
                match args_ok(check, call) {
                    Ok(()) => return Ok(format!("called {}", call.display())),
                    Err(e) => why = e,
                }
            }
            Err(format!("`{name}` was called but {why}"))
        }
    }
}

fn args_ok(check: &ArgsCheck, call: &ToolCall) -> Result<(), String> {
    if let Some(e) = &call.error {
        return Err(format!("its {e}"));
    }
    match check {
        ArgsCheck::Schema(v) => v.validate(&call.arguments).map_err(|e| {
            let at = e.instance_path.to_string();
            let at = if at.is_empty() { "/".into() } else { at };
            format!("its arguments break the schema at {at}: {e}")
        }),
        ArgsCheck::Path { path, text, value } => {
            let nodes = path.query(&call.arguments).all();
            match (nodes.is_empty(), value) {
                (true, _) => Err(format!("{text} is not in its arguments {}", call.arguments)),
                (false, None) => Ok(()),
                (false, Some(want)) => {
                    if nodes
                        .iter()
                        .any(|n| super::eval::json_eq(n, want) || loose_eq(n, want))
                    {
                        Ok(())
                    } else {
                        let got: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
                        Err(format!("{text} is {}, expected {want}", got.join(", ")))
                    }
                }
            }
        }
    }
}

/// A number or boolean argument equals the same text in the suite (`value:
/// "{{expected}}"` from a CSV row is always a string).
fn loose_eq(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(n), Value::String(s)) => n.to_string() == s.trim(),
        (Value::Bool(b), Value::String(s)) => s.trim() == if *b { "true" } else { "false" },
        _ => false,
    }
}

fn listing(calls: &[ToolCall]) -> String {
    calls
        .iter()
        .map(ToolCall::display)
        .collect::<Vec<_>>()
        .join(", ")
}
