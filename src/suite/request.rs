//! The request keys of a suite checked and turned into the chat vocabulary:
//! `tools` (names, JSON Schemas), `tool_choice`, `response_format` (inline
//! schema or `schema_file`), `params` and assistant tool calls. Each error
//! says what is wrong; the caller adds file, line and case.

use std::path::Path;

use serde_json::Value;

use super::raw::{RawResponseFormat, RawTool, RawToolCall, ResponseFormatKind};
use crate::record::{AssistantToolCall, Params, ResponseFormat, Tool, ToolChoice};

/// Largest `schema_file` read.
const MAX_SCHEMA_FILE: u64 = 4 * 1024 * 1024;

/// Keys `extra_body` may not set: the harness owns them.
const RESERVED_BODY_KEYS: &[&str] = &["model", "messages", "stream", "stream_options"];

/// Check a tool list and convert it.
pub(crate) fn tools(raw: &[RawTool]) -> Result<Vec<Tool>, String> {
    let mut out: Vec<Tool> = Vec::with_capacity(raw.len());
    for t in raw {
        if let Some(kind) = &t.kind {
            if kind != "function" {
                return Err(format!(
                    "tool `{}` has `type: {kind}`: only `function` tools are supported",
                    t.function.name
                ));
            }
        }
        let name = t.function.name.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(format!(
                "tool name `{name}` is invalid: use 1-64 letters, digits, `_` or `-`"
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(format!("tool `{name}` is listed twice: remove one"));
        }
        if let Some(schema) = &t.function.parameters {
            check_schema(schema).map_err(|e| {
                format!("`parameters` of tool `{name}` is not a valid JSON Schema: {e}")
            })?;
        }
        out.push(Tool {
            name: name.to_string(),
            description: t.function.description.clone(),
            parameters: t.function.parameters.clone(),
            strict: t.function.strict,
        });
    }
    Ok(out)
}

/// A JSON Schema object that compiles.
pub(crate) fn check_schema(schema: &Value) -> Result<(), String> {
    if !schema.is_object() {
        return Err("it must be a map such as {type: object, properties: {...}}".into());
    }
    jsonschema::meta::validate(schema).map_err(|e| e.to_string())?;
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `tool_choice` as written: `auto`, `none`, `required` or
/// `{type: function, function: {name}}` naming one of `tools`.
pub(crate) fn tool_choice(v: &Value, tools: &[Tool]) -> Result<ToolChoice, String> {
    const HINT: &str = "use auto, none, required or {type: function, function: {name: NAME}}";
    let choice = match v {
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => return Err(format!("`tool_choice` is `{other}`: {HINT}")),
        },
        Value::Object(m) => {
            let name = m
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`tool_choice` map has no `function.name`: {HINT}"))?;
            if m.get("type").is_some_and(|t| t != "function") {
                return Err(format!(
                    "`tool_choice` has a `type` other than function: {HINT}"
                ));
            }
            ToolChoice::Function(name.to_string())
        }
        _ => return Err(format!("`tool_choice` must be a string or a map: {HINT}")),
    };
    if tools.is_empty() {
        return Err(
            "`tool_choice` is set but there are no `tools`: add `tools:` or remove it".into(),
        );
    }
    if let ToolChoice::Function(name) = &choice {
        if !tools.iter().any(|t| &t.name == name) {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "`tool_choice` names `{name}`, which is not in `tools` ({})",
                names.join(", ")
            ));
        }
    }
    Ok(choice)
}

/// `response_format`, with a `schema_file` read from `dir`; `None` for
/// `type: text`.
pub(crate) fn response_format(
    raw: &RawResponseFormat,
    dir: &Path,
) -> Result<Option<ResponseFormat>, String> {
    match raw.kind {
        ResponseFormatKind::Text => Ok(None),
        ResponseFormatKind::JsonObject => {
            if raw.json_schema.is_some() {
                return Err("`response_format` of type json_object takes no `json_schema`: use type json_schema".into());
            }
            Ok(Some(ResponseFormat::JsonObject))
        }
        ResponseFormatKind::JsonSchema => {
            let js = raw.json_schema.as_ref().ok_or(
                "`response_format` of type json_schema needs `json_schema: {name, schema}` (or `schema_file`)",
            )?;
            let schema = match (&js.schema, &js.schema_file) {
                (Some(s), None) => s.clone(),
                (None, Some(file)) => read_schema(&dir.join(file), file)?,
                (Some(_), Some(_)) => {
                    return Err(
                        "`json_schema` has both `schema` and `schema_file`: keep one".into(),
                    )
                }
                (None, None) => {
                    return Err("`json_schema` needs `schema` or `schema_file`".into());
                }
            };
            check_schema(&schema).map_err(|e| {
                format!("the `response_format` schema is not a valid JSON Schema: {e}")
            })?;
            Ok(Some(ResponseFormat::JsonSchema {
                name: js.name.clone().unwrap_or_else(|| "response".into()),
                schema,
                strict: js.strict,
            }))
        }
    }
}

fn read_schema(path: &Path, shown: &str) -> Result<Value, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!("cannot read schema_file {shown}: {e} (paths are relative to the suite file)")
    })?;
    if meta.len() > MAX_SCHEMA_FILE {
        return Err(format!(
            "schema_file {shown} is over {} MB: that is not a schema",
            MAX_SCHEMA_FILE / (1024 * 1024)
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read schema_file {shown}: {e}"))?;
    // YAML is a superset of JSON: one parser for both.
    serde_yaml::from_str(&text).map_err(|e| format!("schema_file {shown} is not JSON or YAML: {e}"))
}

/// Check parameter values; `what` names where they are (`params`, ...).
pub(crate) fn check_params(p: &Params) -> Result<(), String> {
    let range = |name: &str, v: Option<f64>, lo: f64, hi: f64| match v {
        Some(x) if !(lo..=hi).contains(&x) => Err(format!("`{name}` is {x}, outside {lo}..={hi}")),
        _ => Ok(()),
    };
    range("temperature", p.temperature, 0.0, 2.0)?;
    range("top_p", p.top_p, 0.0, 1.0)?;
    range("presence_penalty", p.presence_penalty, -2.0, 2.0)?;
    range("frequency_penalty", p.frequency_penalty, -2.0, 2.0)?;
    if p.max_tokens == Some(0) {
        return Err("`max_tokens` is 0: use at least 1".into());
    }
    if let Some(e) = &p.reasoning_effort {
        if !["minimal", "low", "medium", "high"].contains(&e.as_str()) {
            return Err(format!(
                "`reasoning_effort` is `{e}`: use minimal, low, medium or high"
            ));
        }
    }
    if let Some(extra) = &p.extra_body {
        if let Some(k) = extra
            .keys()
            .find(|k| RESERVED_BODY_KEYS.contains(&k.as_str()))
        {
            return Err(format!(
                "`extra_body` sets `{k}`, which evalgate sets itself: remove it"
            ));
        }
    }
    Ok(())
}

/// An assistant turn's tool call as written.
pub(crate) fn assistant_call(raw: &RawToolCall) -> Result<AssistantToolCall, String> {
    if raw.kind.as_deref().is_some_and(|k| k != "function") {
        return Err(format!(
            "tool call `{}` has a `type` other than function",
            raw.id
        ));
    }
    let (name, args) = match (&raw.function, &raw.name) {
        (Some(f), None) => (f.name.clone(), f.arguments.clone()),
        (None, Some(n)) => (n.clone(), raw.arguments.clone()),
        _ => {
            return Err(format!(
                "tool call `{}` needs `name` (or `function: {{name, arguments}}`), once",
                raw.id
            ))
        }
    };
    let arguments = match args {
        None => "{}".to_string(),
        Some(Value::String(s)) => s,
        Some(v) => v.to_string(),
    };
    Ok(AssistantToolCall {
        id: raw.id.clone(),
        name,
        arguments,
    })
}
