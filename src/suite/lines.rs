//! Finding the line of things serde gives no location for (a duplicate case
//! id, a check that does not compile, an unknown template variable) by
//! scanning the source text. Block-style YAML is located exactly; anything
//! else falls back to the nearest enclosing line we can find.

use std::ops::Range;

use regex::Regex;

/// JSON Schema's own type names, which may appear as `type:` in a check value.
const JSON_SCHEMA_TYPES: &[&str] = &[
    "object", "array", "string", "number", "integer", "boolean", "null",
];

/// Line index over one suite file (lines are 1-based in every result).
pub(crate) struct Lines<'a> {
    lines: Vec<&'a str>,
    /// Line of each case's `id:` key, in file order.
    case_ids: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// Index `src`; `cases` is how many cases serde read, used to tell
    /// whether the scan found exactly one `id:` per case.
    pub fn new(src: &'a str, cases: usize) -> Self {
        let lines: Vec<&str> = src.lines().collect();
        let mut case_ids = Vec::new();
        if let Some(start) = top_key_line(&lines, "cases") {
            let end = next_top_key(&lines, start);
            case_ids = case_markers(&lines[..end], start);
        }
        if case_ids.len() != cases {
            case_ids.clear();
        }
        Lines { lines, case_ids }
    }

    /// Line of a top-level key such as `models:`.
    pub fn top_key(&self, key: &str) -> Option<usize> {
        top_key_line(&self.lines, key).map(|i| i + 1)
    }

    /// Line of the `index`-th case's `id:`.
    pub fn case(&self, index: usize) -> Option<usize> {
        self.case_ids.get(index).copied()
    }

    /// The lines (1-based, end exclusive) that belong to case `index`.
    fn case_range(&self, index: usize) -> Option<Range<usize>> {
        let id_line = self.case(index)?;
        let prev_end = index.checked_sub(1).and_then(|p| self.case(p)).unwrap_or(0);
        // The case starts at its `- ` item line, which may precede `id:`.
        let mut start = id_line;
        while start > prev_end + 1 && !is_item(self.lines[start - 1]) {
            start -= 1;
        }
        let end = match self.case(index + 1) {
            Some(next) => {
                let mut e = next;
                while e > id_line + 1 && !is_item(self.lines[e - 1]) {
                    e -= 1;
                }
                e
            }
            None => next_top_key(&self.lines, id_line - 1) + 1,
        };
        Some(start..end.max(id_line + 1))
    }

    /// Lines of the `defaults:` block.
    fn defaults_range(&self) -> Option<Range<usize>> {
        let start = top_key_line(&self.lines, "defaults")?;
        Some(start + 1..next_top_key(&self.lines, start) + 1)
    }

    /// First line in `range` whose key is `key`.
    fn key_in(&self, range: Range<usize>, key: &str) -> Option<usize> {
        let re = Regex::new(&format!(
            r"(?:^\s*(?:-\s+)?|[{{,]\s*){}\s*:",
            regex::escape(key)
        ))
        .expect("escaped regex");
        range
            .clone()
            .find(|&l| re.is_match(strip_comment(self.lines[l - 1])))
    }

    /// Line of `key` inside `defaults:`.
    pub fn defaults_key(&self, key: &str) -> Option<usize> {
        self.defaults_range().and_then(|r| self.key_in(r, key))
    }

    /// Line of `key` inside case `index`, else the case's line.
    pub fn case_key(&self, index: usize, key: &str) -> Option<usize> {
        self.case_range(index)
            .and_then(|r| self.key_in(r, key))
            .or_else(|| self.case(index))
    }

    /// Line of the `nth` check of case `index` (`defaults.assert` checks
    /// when `in_defaults`), falling back to the `assert:` line, then the case.
    pub fn check(&self, index: usize, nth: usize, in_defaults: bool) -> Option<usize> {
        let range = if in_defaults {
            self.defaults_range()?
        } else {
            self.case_range(index)?
        };
        // A check starts with `- type:` or `{type:`; `type: object` and the
        // like inside a `json_schema` value are not checks.
        let re =
            Regex::new(r#"(?:^\s*-\s+|\{\s*)type\s*:\s*["']?([A-Za-z_-]+)"#).expect("static regex");
        let is_check = |line: &str| {
            re.captures(line)
                .is_some_and(|c| !JSON_SCHEMA_TYPES.contains(&&c[1]))
        };
        range
            .clone()
            .filter(|&l| is_check(self.lines[l - 1]))
            .nth(nth)
            .or_else(|| self.key_in(range, "assert"))
            .or_else(|| {
                if in_defaults {
                    self.top_key("defaults")
                } else {
                    self.case(index)
                }
            })
    }

    /// Line where `{{ name }}` is used inside case `index`, else in `defaults`.
    pub fn var_use(&self, index: usize, name: &str) -> Option<usize> {
        let re = Regex::new(&format!(r"\{{\{{\s*{}\s*\}}\}}", regex::escape(name)))
            .expect("escaped regex");
        let find = |r: Range<usize>| r.into_iter().find(|&l| re.is_match(self.lines[l - 1]));
        self.case_range(index)
            .and_then(find)
            .or_else(|| self.defaults_range().and_then(find))
            .or_else(|| self.case(index))
    }
}

/// The line (1-based) naming each case of the `cases:` block starting at
/// `start`: its `id:` or `cases_from:` key at the item's own indentation,
/// else the item's first line. Keys nested deeper (an `id:` inside
/// `cases_from:`) do not count.
fn case_markers(lines: &[&str], start: usize) -> Vec<usize> {
    let item_indent = lines
        .iter()
        .skip(start + 1)
        .map(|l| strip_comment(l))
        .find(|l| !l.trim().is_empty())
        .filter(|l| is_item(l))
        .map(|l| l.len() - l.trim_start().len());
    let Some(indent) = item_indent else {
        // Flow style (`cases: [{id: a}, ...]`): every `id:` names a case.
        let id_re = Regex::new(r"(?:^\s*(?:-\s+)?|[{,]\s*)id\s*:").expect("static regex");
        return (start..lines.len())
            .filter(|&i| id_re.is_match(strip_comment(lines[i])))
            .map(|i| i + 1)
            .collect();
    };
    let key_re = Regex::new(r"^(id|cases_from)\s*:").expect("static regex");
    let flow_re = Regex::new(r"^\{.*\bid\s*:").expect("static regex");
    let mut out = Vec::new();
    let mut current: Option<(usize, bool)> = None; // (item line, marker found)
    for (i, raw) in lines.iter().enumerate().skip(start + 1) {
        let line = strip_comment(raw);
        if line.trim().is_empty() {
            continue;
        }
        let ind = line.len() - line.trim_start().len();
        if ind == indent && is_item(line) {
            if let Some((item, false)) = current {
                out.push(item);
            }
            let rest = line.trim_start()[1..].trim_start();
            let marked = key_re.is_match(rest) || flow_re.is_match(rest);
            if marked {
                out.push(i + 1);
            }
            current = Some((i + 1, marked));
            continue;
        }
        if let Some((item, false)) = current {
            if ind == indent + 2 && key_re.is_match(line.trim_start()) {
                out.push(i + 1);
                current = Some((item, true));
            }
        }
    }
    if let Some((item, false)) = current {
        out.push(item);
    }
    out
}

fn is_item(line: &str) -> bool {
    line.trim_start().starts_with("- ") || line.trim() == "-"
}

/// Drop a trailing `# comment` (good enough for locating keys).
fn strip_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(i) => &line[..i],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    }
}

/// 0-based line index of an unindented `key:`.
fn top_key_line(lines: &[&str], key: &str) -> Option<usize> {
    lines.iter().position(|l| {
        l.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

/// 0-based index of the next unindented key after line `start` (or the end).
fn next_top_key(lines: &[&str], start: usize) -> usize {
    lines
        .iter()
        .enumerate()
        .skip(start + 1)
        .find(|(_, l)| {
            let first = l.chars().next();
            first.is_some_and(|c| !c.is_whitespace() && c != '#' && c != '-')
        })
        .map(|(i, _)| i)
        .unwrap_or(lines.len())
}
