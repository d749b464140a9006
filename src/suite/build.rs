//! From the raw file to a [`Suite`]: validate what serde cannot (required
//! keys, unique ids, prompt vs messages, graders, compiled checks), merge
//! `defaults` into each case and render `{{var}}` templates. Every problem is
//! collected with its line so `evalgate validate` can list them all.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::error::SuiteError;
use super::lines::Lines;
use super::raw::{RawCase, RawDefaults, RawSuite, Role, VarValue};
use super::types::{Case, Suite, SuiteTimeouts};
use crate::record::{AssertSpec, Message};

/// Collects problems for one file.
struct Problems<'a> {
    path: &'a Path,
    list: Vec<SuiteError>,
}

impl Problems<'_> {
    fn add(&mut self, line: Option<usize>, message: String) {
        self.list.push(SuiteError::Invalid {
            path: self.path.to_path_buf(),
            line,
            message,
        });
    }
}

/// Build the suite, or every problem found.
pub(crate) fn build(
    raw: RawSuite,
    src: &str,
    path: &Path,
    hash: String,
) -> Result<Suite, Vec<SuiteError>> {
    let raw_cases = raw.cases.unwrap_or_default();
    let lines = Lines::new(src, raw_cases.len());
    let mut p = Problems {
        path,
        list: Vec::new(),
    };

    let name = raw.name.unwrap_or_default();
    let name_re = Regex::new(r"^[A-Za-z0-9._-]+$").expect("static regex");
    if name.is_empty() {
        p.add(
            lines.top_key("name"),
            "missing field `name`: add e.g. `name: support-answers` (used as the results directory)"
                .into(),
        );
    } else if !name_re.is_match(&name) || name == "." || name == ".." {
        p.add(
            lines.top_key("name"),
            format!("`name` `{name}` cannot be a directory name: use letters, digits, `.`, `_` and `-` only"),
        );
    }

    let models = raw.models.clone().unwrap_or_default();
    if raw.models.as_ref().is_some_and(Vec::is_empty) {
        p.add(
            lines.top_key("models"),
            "`models` is empty: list at least one model id (e.g. openai/gpt-5) or remove the key and pass --models".into(),
        );
    }
    let mut seen = HashSet::new();
    for m in &models {
        if m.trim().is_empty() {
            p.add(
                lines.top_key("models"),
                "`models` has an empty model id: remove it".into(),
            );
        } else if !seen.insert(m.as_str()) {
            p.add(
                lines.top_key("models"),
                format!("`models` lists `{m}` twice: remove one"),
            );
        }
    }
    for (model, price) in raw.pricing.iter().flatten() {
        let parts = [
            Some(price.input),
            Some(price.output),
            price.cache_read,
            price.cache_write,
        ];
        if parts.iter().flatten().any(|v| !v.is_finite() || *v < 0.0) {
            p.add(
                lines.top_key("pricing"),
                format!("`pricing` for `{model}` has a negative price: prices are USD per million tokens, >= 0"),
            );
        }
    }
    if let Some(t) = raw.slo.as_ref().and_then(|s| s.tokens_per_s) {
        if !t.is_finite() || t < 0.0 {
            p.add(
                lines.top_key("slo"),
                format!("`tokens_per_s` in `slo` is {t}: give a non-negative rate, e.g. tokens_per_s: 30"),
            );
        }
    }
    if let Some(key_env) = &raw.key_env {
        if key_env.trim().is_empty() || key_env.contains(['=', ' ']) {
            p.add(
                lines.top_key("key_env"),
                format!("`key_env` `{key_env}` is not an environment variable name: use e.g. AI_GATEWAY_API_KEY"),
            );
        }
    }

    if raw_cases.is_empty() {
        let what = if lines.top_key("cases").is_some() {
            "`cases` is empty"
        } else {
            "missing field `cases`"
        };
        p.add(
            lines.top_key("cases"),
            format!("{what}: add at least one case with an `id` and a `prompt`"),
        );
    }

    let defaults = raw.defaults.unwrap_or_default();
    let mut ids = HashSet::new();
    let mut cases = Vec::with_capacity(raw_cases.len());
    for (i, rc) in raw_cases.into_iter().enumerate() {
        if !ids.insert(rc.id.clone()) {
            p.add(
                lines.case(i),
                format!(
                    "duplicate case id `{}`: case ids must be unique, rename this one",
                    rc.id
                ),
            );
        }
        if let Some(case) = build_case(i, rc, &defaults, raw.grader.as_deref(), &lines, &mut p) {
            cases.push(case);
        }
    }

    if !p.list.is_empty() {
        return Err(p.list);
    }
    let t = raw.timeouts.unwrap_or_default();
    Ok(Suite {
        path: path.to_path_buf(),
        name,
        description: raw.description,
        models,
        cases,
        gateway: raw.gateway,
        pricing: raw.pricing.unwrap_or_default(),
        grader: raw.grader,
        key_env: raw.key_env,
        timeouts: SuiteTimeouts {
            connect_ms: t.connect.map(|m| m.0),
            ttft_ms: t.ttft.map(|m| m.0),
            idle_ms: t.idle.map(|m| m.0),
            total_ms: t.total.map(|m| m.0),
        },
        slo: raw
            .slo
            .map(|s| crate::record::Slo {
                ttft_ms: s.ttft.map(|m| m.0 as f64),
                duration_ms: s.duration.map(|m| m.0 as f64),
                tokens_per_s: s.tokens_per_s,
            })
            .unwrap_or_default(),
        hash,
    })
}

fn build_case(
    i: usize,
    rc: RawCase,
    defaults: &RawDefaults,
    grader: Option<&str>,
    lines: &Lines,
    p: &mut Problems,
) -> Option<Case> {
    let id = rc.id.clone();
    let case_line = lines.case(i);
    if id.trim().is_empty() {
        p.add(
            case_line,
            format!(
                "case #{} has an empty `id`: give it a short unique name",
                i + 1
            ),
        );
    }
    let mut vars: BTreeMap<String, VarValue> = defaults.vars.clone().unwrap_or_default();
    vars.extend(rc.vars.clone().unwrap_or_default());
    let before = p.list.len();
    let render = |text: &str, p: &mut Problems| -> String {
        render(text, &vars).unwrap_or_else(|name| {
            p.add(
                lines.var_use(i, &name),
                format!(
                    "unknown variable `{name}` in case `{id}`: define it under `vars:` in the case or in `defaults`"
                ),
            );
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
            messages.extend(system.map(|s| msg(Role::System, s)));
            messages.push(msg(Role::User, render(prompt, p)));
        }
        (None, Some(list)) => {
            if list.is_empty() {
                p.add(
                    lines.case_key(i, "messages"),
                    format!("case `{id}` has empty `messages`: add at least one user message"),
                );
            }
            if list.first().is_none_or(|m| m.role != Role::System) {
                messages.extend(system.map(|s| msg(Role::System, s)));
            }
            for m in list {
                messages.push(msg(m.role, render(&m.content, p)));
            }
        }
    }

    let max_tokens = rc.max_tokens.or(defaults.max_tokens);
    if max_tokens == Some(0) {
        p.add(
            lines.case_key(i, "max_tokens"),
            format!("`max_tokens` in case `{id}` is 0: use at least 1"),
        );
    }
    let temperature = rc.temperature.or(defaults.temperature);
    if temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
        p.add(
            lines.case_key(i, "temperature"),
            format!("`temperature` in case `{id}` is outside 0..=2"),
        );
    }

    let own = rc.assert.clone().unwrap_or_default();
    let inherited = defaults.assert.clone().unwrap_or_default();
    let n_inherited = inherited.len();
    let mut checks = Vec::with_capacity(n_inherited + own.len());
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
            match grader {
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

    let threshold = rc.threshold.or(defaults.threshold).map_or(1.0, |t| t.0);
    (p.list.len() == before).then(|| Case {
        id,
        messages,
        max_tokens,
        temperature,
        checks,
        threshold,
        line: case_line.unwrap_or(0),
    })
}

fn msg(role: Role, content: String) -> Message {
    Message {
        role: role.as_str().to_string(),
        content,
    }
}

/// Replace `{{name}}` / `{{ name }}`; `Err(name)` for the first unknown one.
fn render(text: &str, vars: &BTreeMap<String, VarValue>) -> Result<String, String> {
    static VAR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\{\{\s*([^{}\s]+)\s*\}\}").expect("static regex"));
    let mut missing = None;
    let out = VAR.replace_all(text, |c: &regex::Captures| match vars.get(&c[1]) {
        Some(v) => v.0.clone(),
        None => {
            missing.get_or_insert_with(|| c[1].to_string());
            c[0].to_string()
        }
    });
    match missing {
        Some(name) => Err(name),
        None => Ok(out.into_owned()),
    }
}

/// Render every string inside a check value (lists and maps included).
fn render_value(v: Value, f: &mut dyn FnMut(String) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| render_value(x, f)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, render_value(x, f)))
                .collect(),
        ),
        other => other,
    }
}
