//! Templates in suite text (`{{ product }}`, `{% if %}`, filters), rendered
//! with minijinja under strict undefined, and the expansion of one case
//! entry into many: `vars:` list values give the cross product
//! (`greet[lang=de]`), `cases_from:` rows give one case each.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use super::raw::VarValue;

/// Variable values for one case.
pub(crate) type Vars = BTreeMap<String, Value>;

/// Why a template could not be rendered.
#[derive(Debug, PartialEq)]
pub(crate) enum TemplateError {
    /// The template uses a variable the case does not define.
    Unknown(String),
    /// Syntax or evaluation error, worded by minijinja.
    Invalid(String),
}

/// The template engine of one suite load.
pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        Templates { env }
    }

    /// Render `text` with `vars`. Text without template syntax is returned
    /// as is.
    pub fn render(&self, text: &str, vars: &Vars) -> Result<String, TemplateError> {
        if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
            return Ok(text.to_string());
        }
        let tmpl = self
            .env
            .template_from_str(text)
            .map_err(|e| TemplateError::Invalid(describe(&e)))?;
        let mut names: Vec<String> = tmpl.undeclared_variables(false).into_iter().collect();
        names.sort();
        if let Some(missing) = names.into_iter().find(|n| !vars.contains_key(n)) {
            return Err(TemplateError::Unknown(missing));
        }
        tmpl.render(vars).map_err(|e| match e.kind() {
            minijinja::ErrorKind::UndefinedError => {
                TemplateError::Invalid(format!("{} (an undefined value)", describe(&e)))
            }
            _ => TemplateError::Invalid(describe(&e)),
        })
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Template variables as written (`defaults.vars` then the case's own):
/// the scalar values, and the list-valued ones in key order.
pub(crate) fn split_vars<'a>(
    layers: impl IntoIterator<Item = &'a BTreeMap<String, VarValue>>,
) -> (Vars, Vec<(String, Vec<String>)>) {
    let mut merged: BTreeMap<String, &VarValue> = BTreeMap::new();
    for layer in layers {
        merged.extend(layer.iter().map(|(k, v)| (k.clone(), v)));
    }
    let mut scalars = Vars::new();
    let mut lists = Vec::new();
    for (k, v) in merged {
        match v {
            VarValue::One(s) => {
                scalars.insert(k, Value::String(s.clone()));
            }
            VarValue::Many(list) => lists.push((k, list.clone())),
        }
    }
    (scalars, lists)
}

/// The cross product of the list-valued variables: each combination as
/// the id suffix (`[lang=de,tone=formal]`) and its values. One empty
/// combination when there are no lists.
pub(crate) fn cross_product(lists: &[(String, Vec<String>)]) -> Vec<(String, Vars)> {
    let mut out: Vec<(Vec<String>, Vars)> = vec![(Vec::new(), Vars::new())];
    for (name, values) in lists {
        let mut next = Vec::with_capacity(out.len() * values.len());
        for (labels, vars) in &out {
            for v in values {
                let mut labels = labels.clone();
                labels.push(format!("{name}={v}"));
                let mut vars = vars.clone();
                vars.insert(name.clone(), Value::String(v.clone()));
                next.push((labels, vars));
            }
        }
        out = next;
    }
    out.into_iter()
        .map(|(labels, vars)| {
            let suffix = if labels.is_empty() {
                String::new()
            } else {
                format!("[{}]", labels.join(","))
            };
            (suffix, vars)
        })
        .collect()
}

/// Render every string inside a JSON value (lists and maps included).
pub(crate) fn render_value(v: Value, f: &mut dyn FnMut(String) -> String) -> Value {
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

#[cfg(test)]
mod tests;
