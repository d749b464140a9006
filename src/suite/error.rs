//! Suite errors, worded for the person editing the file: which file, which
//! line, which field, and what to do about it. serde_yaml's own messages are
//! rewritten here (paths like `cases[2].asert` become "in case `refund`",
//! unknown fields get a "did you mean").

use std::path::PathBuf;

use regex::Regex;

/// A problem with a suite file.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The file could not be read.
    /// The I/O error is part of the message and deliberately not a
    /// `#[source]`: printed as a chain, it would repeat at the end.
    #[error("cannot read suite file {}: {error} (check the path; suites are YAML files such as suites/quickstart.yaml)", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file was read but is not a valid suite.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        /// 1-based line, when it could be found.
        line: Option<usize>,
        /// What is wrong, where in the suite, and the fix.
        message: String,
    },
}

impl SuiteError {
    /// The 1-based line the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            SuiteError::Read { .. } => None,
            SuiteError::Invalid { line, .. } => *line,
        }
    }
}

/// Word a serde_yaml error. `case_id(i)` gives the id of the i-th case when
/// it can be read from the file.
pub(crate) fn from_serde(
    err: &serde_yaml::Error,
    path: PathBuf,
    case_id: &dyn Fn(usize) -> Option<String>,
) -> SuiteError {
    let line = err.location().map(|l| l.line());
    let full = err.to_string();
    let tail = Regex::new(r"\s+at line \d+ column \d+$").expect("static regex");
    let full = tail.replace(&full, "").into_owned();
    if full.contains(" at line ") {
        // Still a position inside: a YAML syntax error from the parser
        // ("... at line 3 column 1, while parsing a flow node").
        let inner = Regex::new(r"\s*at line \d+ column \d+,?").expect("static regex");
        let what = inner.replace_all(&full, "");
        return SuiteError::Invalid {
            path,
            line,
            message: format!(
                "YAML syntax error: {what} (check indentation, quotes and brackets on or just before this line)"
            ),
        };
    }
    let (yaml_path, msg) = split_path(&full);
    // For unknown fields serde's path is the map holding the field; for
    // every other error it is the value itself.
    let is_container = msg.starts_with("unknown field");
    let place = describe(yaml_path, is_container, case_id);
    let message = reword(msg, yaml_path, &place);
    SuiteError::Invalid {
        path,
        line,
        message,
    }
}

/// serde_yaml prefixes messages with the path of the value (`cases[0].vars`).
fn split_path(full: &str) -> (&str, &str) {
    match full.split_once(": ") {
        Some((p, rest)) if !p.is_empty() && !p.contains(char::is_whitespace) => (p, rest),
        _ => ("", full),
    }
}

/// "in case `refund`", "in check 2 of case `refund`", "in `defaults`", ...
fn describe(
    yaml_path: &str,
    is_container: bool,
    case_id: &dyn Fn(usize) -> Option<String>,
) -> String {
    let re = Regex::new(r"^cases\[(\d+)\](?:\.(assert|messages)\[(\d+)\])?").expect("static regex");
    if let Some(c) = re.captures(yaml_path) {
        let idx: usize = c[1].parse().unwrap_or(0);
        let case = match case_id(idx) {
            Some(id) => format!("case `{id}`"),
            None => format!("case #{}", idx + 1),
        };
        return match (c.get(2), c.get(3)) {
            (Some(kind), Some(n)) => {
                let n: usize = n.as_str().parse().unwrap_or(0);
                let what = if kind.as_str() == "assert" {
                    "check"
                } else {
                    "message"
                };
                format!(" in {what} {} of {case}", n + 1)
            }
            _ => format!(" in {case}"),
        };
    }
    let re = Regex::new(r"^defaults\.assert\[(\d+)\]").expect("static regex");
    if let Some(c) = re.captures(yaml_path) {
        let n: usize = c[1].parse().unwrap_or(0);
        return format!(" in check {} of `defaults.assert`", n + 1);
    }
    match yaml_path.split(['.', '[']).next() {
        Some("") | None => String::new(),
        Some(top) if is_container || yaml_path.contains(['.', '[']) => format!(" in `{top}`"),
        Some(_) => String::new(),
    }
}

/// The last key of a serde path (`cases[0].max_tokens` -> `max_tokens`).
fn field_of(yaml_path: &str) -> Option<&str> {
    let last = yaml_path.rsplit('.').next()?;
    let key = last.split('[').next()?;
    (!key.is_empty()).then_some(key)
}

fn reword(msg: &str, yaml_path: &str, place: &str) -> String {
    let unknown =
        Regex::new(r"^unknown (field|variant) `([^`]*)`, (?:expected|there are no) (.*)$")
            .expect("static regex");
    if let Some(c) = unknown.captures(msg) {
        let (what, name) = (&c[1], &c[2]);
        let expected: Vec<String> = Regex::new(r"`([^`]*)`")
            .expect("static regex")
            .captures_iter(&c[3])
            .map(|m| m[1].to_string())
            .collect();
        let what = match (what, field_of(yaml_path)) {
            ("variant", Some(f)) => format!("`{f}` value"),
            ("variant", None) => "value".to_string(),
            _ => "field".to_string(),
        };
        return format!(
            "unknown {what} `{name}`{place} {}",
            suggest(name, &expected)
        );
    }
    let field = field_of(yaml_path);
    let invalid =
        Regex::new(r"^invalid (?:type|value): (.*), expected (.*)$").expect("static regex");
    if let Some(c) = invalid.captures(msg) {
        let want = human_type(&c[2]);
        return match field {
            Some(f) => format!("`{f}`{place} must be {want}, not {}", &c[1]),
            None => format!(
                "the suite must be {want}, not {}: start with `name:` and `cases:`",
                &c[1]
            ),
        };
    }
    if let Some(m) = Regex::new(r"^missing field `([^`]*)`")
        .expect("static regex")
        .captures(msg)
    {
        return format!("missing field `{}`{place}: add it", &m[1]);
    }
    match field {
        Some(f) => format!("`{f}`{place}: {msg}"),
        None => format!("{msg}{place}"),
    }
}

/// "(did you mean `assert`?)" or the list of accepted names.
pub(crate) fn suggest(name: &str, expected: &[String]) -> String {
    let best = expected
        .iter()
        .map(|e| (strsim::jaro_winkler(name, e), e))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, e)) if score >= 0.75 => format!("(did you mean `{e}`?)"),
        _ if expected.is_empty() => "(remove it)".to_string(),
        _ => format!(
            "(expected one of {})",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn human_type(serde: &str) -> String {
    match serde {
        "u32" | "u64" | "usize" => "a whole number".into(),
        "f64" | "f32" => "a number".into(),
        "a string" | "string" => "a string".into(),
        "a sequence" => "a list".into(),
        "a map" => "a map".into(),
        s if s.starts_with("struct ") => "a map of fields".into(),
        s if s.starts_with("a sequence") => "a list".into(),
        s => s.to_string(),
    }
}
