//! From the raw file to a [`Suite`]: validate the suite-level keys (name,
//! models, pricing, `model_params`), build every case entry (see `case`),
//! and check ids are unique. Every problem is collected with its line so
//! `evalgate validate` can list them all.

use std::collections::HashSet;
use std::path::Path;

use regex::Regex;

use super::case::{build_entry, Shared};
use super::error::SuiteError;
use super::lines::Lines;
use super::load::LoadOptions;
use super::media::Images;
use super::raw::RawSuite;
use super::request;
use super::template::Templates;
use super::types::{Suite, SuiteTimeouts};
use crate::cells::clean_id;

/// Collects problems for one file.
pub(crate) struct Problems<'a> {
    path: &'a Path,
    pub list: Vec<SuiteError>,
}

impl Problems<'_> {
    pub fn add(&mut self, line: Option<usize>, message: String) {
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
    opts: &LoadOptions,
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

    // NUL and bidi controls would make an id print as something else in
    // every report: they are dropped here, once, for every output.
    let models: Vec<String> = raw
        .models
        .iter()
        .flatten()
        .map(|m| clean_id(m).into_owned())
        .collect();
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

    let model_params = raw.model_params.unwrap_or_default();
    for (model, params) in &model_params {
        if let Err(e) = request::check_params(params) {
            p.add(
                lines.top_key("model_params"),
                format!("{e} (in `model_params` of `{model}`)"),
            );
        }
    }

    let defaults = raw.defaults.unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut shared = Shared {
        defaults: &defaults,
        grader: raw.grader.as_deref(),
        lines: &lines,
        dir,
        templates: Templates::new(),
        images: Images::new(dir, opts.max_image_bytes),
    };
    let mut ids = HashSet::new();
    let mut cases = Vec::with_capacity(raw_cases.len());
    for (i, rc) in raw_cases.iter().enumerate() {
        // An id as written is checked even when its case has other problems.
        if let Some(id) = &rc.id {
            if !ids.insert(id.clone()) {
                p.add(
                    lines.case(i),
                    format!("duplicate case id `{id}`: case ids must be unique, rename this one"),
                );
            }
        }
        for mut case in build_entry(i, rc, &mut shared, &mut p) {
            // NUL and bidi controls would make the id print as something
            // else in every report: dropped here, once, for every output.
            case.id = clean_id(&case.id).into_owned();
            if rc.id.as_ref() != Some(&case.id) && !ids.insert(case.id.clone()) {
                p.add(
                    lines.case(i),
                    format!(
                        "duplicate case id `{}`: case ids must be unique, rename this one",
                        case.id
                    ),
                );
            }
            cases.push(case);
        }
    }

    let max_answer_bytes = raw.max_answer_bytes.and_then(|n| usize::try_from(n).ok());
    if max_answer_bytes == Some(0) {
        p.add(
            lines.top_key("max_answer_bytes"),
            "`max_answer_bytes` must be at least 1 (bytes of answer kept per request, e.g. 4194304)".into(),
        );
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
        model_params,
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
        max_answer_bytes,
        hash,
    })
}
