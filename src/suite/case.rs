//! One entry of `cases:` turned into cases: expanded by `cases_from:` rows
//! and `vars:` lists, `defaults` merged, templates rendered, messages (text,
//! images, tool calls and tool results), parameters, tools and response
//! format checked. Every problem is added with its line and case.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::build::Problems;
use super::data::{read_rows, Row};
use super::lines::Lines;
use super::media::Images;
use super::raw::{RawCase, RawContent, RawDefaults, RawMessage, Role};
use super::request;
use super::template::{cross_product, render_value, split_vars, TemplateError, Templates, Vars};
use super::types::{Case, PROBE_SUFFIX};
use crate::record::{AssertSpec, CacheProbe, Content, Message, Params, Part, ResponseFormat};

/// What every case of one suite shares while being built.
pub(crate) struct Shared<'a> {
    pub defaults: &'a RawDefaults,
    pub grader: Option<&'a str>,
    pub lines: &'a Lines<'a>,
    /// The suite's directory (data files, images and schemas are relative to it).
    pub dir: &'a Path,
    pub templates: Templates,
    pub images: Images,
}

/// One case to build from an entry: its id, variables and origin.
struct Instance {
    id: String,
    vars: Vars,
    /// `row 3 of data/t.csv`, for messages.
    origin: Option<String>,
}

/// Build every case of entry `i`.
pub(crate) fn build_entry(i: usize, rc: &RawCase, sh: &mut Shared, p: &mut Problems) -> Vec<Case> {
    let case_line = sh.lines.case(i);
    let empty = BTreeMap::new();
    let (scalars, lists) = split_vars([
        sh.defaults.vars.as_ref().unwrap_or(&empty),
        rc.vars.as_ref().unwrap_or(&empty),
    ]);
    let mut base: Vec<Instance> = Vec::new();
    match (&rc.id, &rc.cases_from) {
        (Some(_), Some(_)) => {
            p.add(
                sh.lines.case_key(i, "cases_from"),
                format!(
                    "case #{} has both `id` and `cases_from`: ids come from the data file (`cases_from: {{file, id: COLUMN}}`), remove `id`",
                    i + 1
                ),
            );
            return Vec::new();
        }
        (None, None) => {
            p.add(
                case_line,
                format!(
                    "case #{} has no `id`: give it a short unique name (or `cases_from:` a data file)",
                    i + 1
                ),
            );
            return Vec::new();
        }
        (Some(id), None) => {
            if id.trim().is_empty() {
                p.add(
                    case_line,
                    format!(
                        "case #{} has an empty `id`: give it a short unique name",
                        i + 1
                    ),
                );
            }
            base.push(Instance {
                id: id.clone(),
                vars: scalars,
                origin: None,
            });
        }
        (None, Some(from)) => {
            let line = sh.lines.case_key(i, "cases_from");
            let rows = match read_rows(&sh.dir.join(&from.file), &from.file) {
                Ok(rows) => rows,
                Err(e) => {
                    p.add(line, format!("{e} (in `cases_from` of case #{})", i + 1));
                    return Vec::new();
                }
            };
            for row in rows {
                match row_instance(&row, from.id.as_deref(), &from.file, &scalars) {
                    Ok(inst) => base.push(inst),
                    Err(e) => p.add(line, e),
                }
            }
        }
    }
    let combos = cross_product(&lists);
    let mut out = Vec::with_capacity(base.len() * combos.len());
    for inst in base {
        for (suffix, list_vars) in &combos {
            let mut vars = inst.vars.clone();
            vars.extend(list_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            let one = Instance {
                id: format!("{}{suffix}", inst.id),
                vars,
                origin: inst.origin.clone(),
            };
            if let Some(case) = build_one(i, rc, &one, sh, p) {
                out.extend(with_probe(case, rc, sh.defaults));
            }
        }
    }
    out
}

/// The case, and with `cache_probe: true` its probe right after it.
fn with_probe(mut case: Case, rc: &RawCase, defaults: &RawDefaults) -> Vec<Case> {
    if !rc.cache_probe.or(defaults.cache_probe).unwrap_or(false) {
        return vec![case];
    }
    case.probe = Some(CacheProbe::Prime);
    let probe = Case {
        id: format!("{}{PROBE_SUFFIX}", case.id),
        probe: Some(CacheProbe::Probe),
        ..case.clone()
    };
    vec![case, probe]
}

fn row_instance(
    row: &Row,
    id_column: Option<&str>,
    file: &str,
    scalars: &Vars,
) -> Result<Instance, String> {
    let origin = format!("row {} (line {}) of {file}", row.number, row.line);
    let id = match id_column {
        None => format!("row-{}", row.number),
        Some(col) => match row.values.get(col) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(format!("{origin} has an empty or non-text id column `{col}`: give every row an id")),
            None => {
                return Err(format!(
                    "{origin} has no column `{col}` (named by `cases_from.id`): add the column or fix the name"
                ))
            }
        },
    };
    let mut vars = scalars.clone();
    vars.extend(row.values.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(Instance {
        id,
        vars,
        origin: Some(origin),
    })
}

fn build_one(
    i: usize,
    rc: &RawCase,
    inst: &Instance,
    sh: &mut Shared,
    p: &mut Problems,
) -> Option<Case> {
    let lines = sh.lines;
    let defaults = sh.defaults;
    let id = inst.id.as_str();
    let case_line = lines.case(i);
    let before = p.list.len();
    let origin = inst
        .origin
        .as_ref()
        .map(|o| format!(", {o}"))
        .unwrap_or_default();
    let templates = &sh.templates;
    let render = |text: &str, p: &mut Problems| -> String {
        templates
            .render(text, &inst.vars)
            .unwrap_or_else(|e| {
                match e {
                    TemplateError::Unknown(name) => p.add(
                        lines.var_use(i, &name),
                        if inst.origin.is_some() {
                            format!("unknown variable `{name}` in case `{id}`{origin}: the file has no such column; add it, or define it under `vars:`")
                        } else {
                            format!("unknown variable `{name}` in case `{id}`: define it under `vars:` in the case or in `defaults`")
                        },
                    ),
                    TemplateError::Invalid(msg) => p.add(
                        case_line,
                        format!("template error in case `{id}`{origin}: {msg}"),
                    ),
                }
                text.to_string()
            })
    };

    let system = rc
        .system
        .as_ref()
        .or(defaults.system.as_ref())
        .map(|s| render(s, p));
    let mut messages = Vec::new();
    match (&rc.prompt, &rc.messages) {
        (None, None) => p.add(
            case_line,
            format!("case `{id}` has neither `prompt` nor `messages`: add one of them"),
        ),
        (Some(_), Some(_)) => p.add(
            lines.case_key(i, "messages"),
            format!("case `{id}` has both `prompt` and `messages`: keep only one"),
        ),
        (Some(prompt), None) => {
            messages.extend(system.map(|s| Message::text("system", s)));
            messages.push(Message::text("user", render(prompt, p)));
        }
        (None, Some(list)) => {
            if list.is_empty() {
                p.add(
                    lines.case_key(i, "messages"),
                    format!("case `{id}` has empty `messages`: add at least one user message"),
                );
            }
            if list.first().is_none_or(|m| m.role != Role::System) {
                messages.extend(system.map(|s| Message::text("system", s)));
            }
            for (n, m) in list.iter().enumerate() {
                let line = lines.case_key(i, "messages");
                match message(m, &mut |t| render(&t, p), &mut sh.images) {
                    Ok(msg) => messages.push(msg),
                    Err(e) => p.add(
                        line,
                        format!("{e} (message {} of case `{id}`{origin})", n + 1),
                    ),
                }
            }
        }
    }

    let params = case_params(i, rc, defaults, lines, p, id);

    let raw_tools = rc.tools.as_ref().or(defaults.tools.as_ref());
    let tools = match raw_tools.map(|t| request::tools(t)).transpose() {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => {
            let line = key_line(lines, i, rc.tools.is_some(), "tools");
            p.add(line, format!("{e} (in case `{id}`)"));
            Vec::new()
        }
    };
    let tool_choice = match rc.tool_choice.as_ref().or(defaults.tool_choice.as_ref()) {
        None => None,
        Some(v) => match request::tool_choice(v, &tools) {
            Ok(c) => Some(c),
            Err(e) => {
                let line = key_line(lines, i, rc.tool_choice.is_some(), "tool_choice");
                p.add(line, format!("{e} (in case `{id}`)"));
                None
            }
        },
    };
    let parallel_tool_calls = rc.parallel_tool_calls.or(defaults.parallel_tool_calls);
    let response_format = match rc
        .response_format
        .as_ref()
        .or(defaults.response_format.as_ref())
    {
        None => None,
        Some(raw) => match request::response_format(raw, sh.dir) {
            Ok(f) => f,
            Err(e) => {
                let line = key_line(lines, i, rc.response_format.is_some(), "response_format");
                p.add(line, format!("{e} (in case `{id}`)"));
                None
            }
        },
    };

    let own = rc.assert.clone().unwrap_or_default();
    let inherited = defaults.assert.clone().unwrap_or_default();
    let n_inherited = inherited.len();
    let mut checks = Vec::with_capacity(n_inherited + own.len() + 1);
    for (k, spec) in inherited.into_iter().chain(own).enumerate() {
        let (nth, in_defaults) = if k < n_inherited {
            (k, true)
        } else {
            (k - n_inherited, false)
        };
        let line = lines.check(i, nth, in_defaults);
        let where_ = if in_defaults {
            format!("check {} of `defaults.assert` (for case `{id}`)", nth + 1)
        } else {
            format!("check {} of case `{id}`", nth + 1)
        };
        let mut spec = AssertSpec {
            value: spec.value.map(|v| render_value(v, &mut |s| render(&s, p))),
            ..spec
        };
        let is_judge = spec.kind.trim().trim_start_matches("not-") == "judge";
        if is_judge && spec.grader.is_none() {
            match sh.grader {
                Some(g) => spec.grader = Some(g.to_string()),
                None => {
                    p.add(
                        line,
                        format!("`judge` {where_} has no grader: add `grader: openai/gpt-5-mini` to the check or to the suite"),
                    );
                    continue;
                }
            }
        }
        if let Err(e) = crate::assert::compile(&spec) {
            p.add(line, format!("{e} (in {where_})"));
        }
        checks.push(spec);
    }
    let check_format = rc
        .check_response_format
        .or(defaults.check_response_format)
        .unwrap_or(true);
    if let (true, Some(format)) = (check_format, &response_format) {
        checks.push(implicit_format_check(format));
    }

    let threshold = rc.threshold.or(defaults.threshold).map_or(1.0, |t| t.0);
    (p.list.len() == before).then(|| Case {
        id: id.to_string(),
        messages,
        params,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        checks,
        threshold,
        line: case_line.unwrap_or(0),
        probe: None,
    })
}

/// The check every answer to a `response_format` case gets: the schema
/// asked for (any JSON object for `json_object`).
fn implicit_format_check(format: &ResponseFormat) -> AssertSpec {
    let schema = match format {
        ResponseFormat::JsonSchema { schema, .. } => schema.clone(),
        ResponseFormat::JsonObject => serde_json::json!({"type": "object"}),
    };
    AssertSpec {
        kind: "response_format".into(),
        value: Some(schema),
        ..AssertSpec::default()
    }
}

/// The line of `key` in the case when the case sets it, else in `defaults`.
fn key_line(lines: &Lines, i: usize, in_case: bool, key: &str) -> Option<usize> {
    if in_case {
        lines.case_key(i, key)
    } else {
        lines.defaults_key(key).or_else(|| lines.case(i))
    }
}

/// `defaults` < case parameters, the old `temperature`/`max_tokens` keys
/// included; problems added.
fn case_params(
    i: usize,
    rc: &RawCase,
    defaults: &RawDefaults,
    lines: &Lines,
    p: &mut Problems,
    id: &str,
) -> Params {
    let legacy = |max_tokens: Option<u32>, temperature: Option<f64>| Params {
        max_tokens,
        temperature,
        ..Params::default()
    };
    let d = legacy(defaults.max_tokens, defaults.temperature)
        .merged(defaults.params.as_ref().unwrap_or(&Params::default()));
    let c = legacy(rc.max_tokens, rc.temperature)
        .merged(rc.params.as_ref().unwrap_or(&Params::default()));
    let merged = d.merged(&c);
    if let Err(e) = request::check_params(&merged) {
        // The message names the parameter: `max_tokens` is 0 ...
        let key = e.split('`').nth(1).unwrap_or("params");
        let line = if rc.params.is_some() {
            lines.case_key(i, "params")
        } else if rc.max_tokens.is_some() || rc.temperature.is_some() {
            lines.case_key(i, key)
        } else {
            lines
                .defaults_key("params")
                .or_else(|| lines.defaults_key(key))
        };
        p.add(line, format!("{e} (in case `{id}`)"));
    }
    merged
}

/// One message as written, rendered, with images read.
fn message(
    m: &RawMessage,
    render: &mut dyn FnMut(String) -> String,
    images: &mut Images,
) -> Result<Message, String> {
    let role = m.role.as_str();
    let content = match &m.content {
        None => Content::default(),
        Some(RawContent::Text(t)) => Content::Text(render(t.clone())),
        Some(RawContent::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for part in parts {
                match (&part.text, &part.image) {
                    (Some(t), None) => {
                        if part.detail.is_some() {
                            return Err("a text part takes no `detail`".into());
                        }
                        out.push(Part::Text(render(t.clone())));
                    }
                    (None, Some(src)) => {
                        let src = render(src.clone());
                        out.push(Part::Image(images.get(&src, part.detail.clone())?));
                    }
                    _ => {
                        return Err(
                            "each content part needs exactly one of `text` or `image`".into()
                        )
                    }
                }
            }
            if out.is_empty() {
                return Err("`content` is an empty list: add a `text` or `image` part".into());
            }
            Content::Parts(out)
        }
    };
    let tool_calls = m
        .tool_calls
        .iter()
        .flatten()
        .map(request::assistant_call)
        .collect::<Result<Vec<_>, _>>()?;
    if !tool_calls.is_empty() && m.role != Role::Assistant {
        return Err(format!(
            "a `{role}` message has `tool_calls`: only assistant turns call tools"
        ));
    }
    if m.role == Role::Tool && m.tool_call_id.is_none() {
        return Err("a `tool` message needs `tool_call_id`: the id of the call it answers".into());
    }
    if m.role != Role::Tool && m.tool_call_id.is_some() {
        return Err(format!(
            "a `{role}` message has `tool_call_id`: only `tool` messages answer calls"
        ));
    }
    if content.is_empty() && tool_calls.is_empty() {
        return Err(format!("a `{role}` message needs `content`"));
    }
    if m.role != Role::User && content.images().next().is_some() {
        return Err(format!(
            "a `{role}` message has an image: images go in user messages"
        ));
    }
    Ok(Message {
        role: role.to_string(),
        content,
        tool_calls,
        tool_call_id: m.tool_call_id.clone(),
    })
}
