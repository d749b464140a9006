//! The layer order of `docs/architecture.md`, checked against the code: every
//! `crate::…` path in `src/` must point down the table (or be one of the
//! pairs the document allows within a layer), every top-level module must be
//! in the table, and no top-level modules may form a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Macros exported at the crate root, and the module that defines each.
const ROOT_MACROS: &[(&str, &str)] = &[("usage", "exit")];

struct Layers {
    /// Layer number of each top-level module (1 = top).
    layer: BTreeMap<String, u32>,
    /// Pairs allowed within one layer.
    sideways: BTreeSet<(String, String)>,
}

/// The text between the first two backticks of each backticked word in `s`.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn read_layers(doc: &str) -> Layers {
    let mut layer = BTreeMap::new();
    let mut sideways = BTreeSet::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, n, modules, ..] = cells.as_slice() {
            if let Ok(n) = n.parse::<u32>() {
                for m in backticked(modules) {
                    layer.insert(m, n);
                }
            }
        }
        // `- `a` → `b`, `c` → `d`: why` lists allowed pairs.
        if line.starts_with("- `") {
            let head = line.split(": ").next().unwrap_or_default();
            for pair in head.trim_start_matches("- ").split(", ") {
                if let [from, to] = backticked(pair).as_slice() {
                    sideways.insert((from.clone(), to.clone()));
                }
            }
        }
    }
    assert!(
        layer.len() > 10,
        "no layer table found in docs/architecture.md"
    );
    Layers { layer, sideways }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (doc comments name modules too).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        // Strings are tracked within a line: enough for `"http://…"`.
        let mut in_string = false;
        let mut prev = '\0';
        let mut cut = line.len();
        for (i, c) in line.char_indices() {
            if c == '"' && prev != '\\' && prev != '\'' {
                in_string = !in_string;
            }
            if !in_string && c == '/' && prev == '/' {
                cut = i - 1;
                break;
            }
            prev = c;
        }
        out.push_str(&line[..cut]);
        out.push('\n');
    }
    out
}

/// Top-level module names reached by `crate::` paths in `code`, including
/// grouped imports (`use crate::{a, b::c}`).
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c == '$' || c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` in a macro, or a longer identifier
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    _ if item_start && (c.is_alphanumeric() || c == '_') && depth == 1 => {
                        let name: String = group[j..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        found.insert(name);
                        item_start = false;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Each top-level module of `src/` and the top-level modules it imports.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let deps = graph.entry(module.clone()).or_default();
        for name in crate_paths(&code) {
            let target = ROOT_MACROS
                .iter()
                .find(|(mac, _)| *mac == name)
                .map_or(name, |(_, m)| m.to_string());
            if target != module {
                deps.insert(target);
            }
        }
    }
    graph
}

/// A cycle through `start`, if any, as the list of modules on it.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

/// Every violation of the layer order in `graph`, worded for a reader.
fn violations(graph: &BTreeMap<String, BTreeSet<String>>, layers: &Layers) -> Vec<String> {
    let mut bad = Vec::new();
    for (module, deps) in graph {
        let Some(&from) = layers.layer.get(module) else {
            bad.push(format!(
                "src/{module} is not in the layer table of docs/architecture.md"
            ));
            continue;
        };
        for dep in deps {
            let Some(&to) = layers.layer.get(dep) else {
                bad.push(format!(
                    "{module} uses crate::{dep}, which is not in the layer table"
                ));
                continue;
            };
            let allowed = to > from
                || (to == from && layers.sideways.contains(&(module.clone(), dep.clone())));
            if !allowed {
                bad.push(format!(
                    "{module} (layer {from}) imports {dep} (layer {to}): imports must point down"
                ));
            }
        }
        if let Some(cycle) = cycle_from(graph, module) {
            bad.push(format!("cycle: {}", cycle.join(" → ")));
        }
    }
    bad
}

#[test]
fn imports_follow_the_documented_layers_without_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let layers = read_layers(&doc);
    let graph = import_graph(&root.join("src"));
    assert!(graph.contains_key("runner") && graph["runner"].contains("gateway"));
    let bad = violations(&graph, &layers);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

/// The checker itself catches an upward import, a cycle, grouped imports
/// and an unlisted module, and ignores comments and `$crate`.
#[test]
fn the_checker_catches_what_it_should() {
    let doc = "| 1 | `top` | |\n| 2 | `mid`, `side` | |\n| 3 | `low` | |\n\
               - `mid` → `side`: allowed\n";
    let mut layers = read_layers_unchecked(doc);
    layers.layer.insert("extra".into(), 3);
    let code = "use crate::{low::X, mid::{a, b}};\n// crate::top in a comment\n\
                macro_rules! m { () => { $crate::top }; }\nlet s = \"// not a comment\"; crate::side::f();";
    let paths = crate_paths(&code_only(code));
    assert_eq!(
        paths,
        ["low", "mid", "side"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert!(violations(&graph(&[("top", "mid"), ("mid", "side")]), &layers).is_empty());
    let up = violations(&graph(&[("low", "mid")]), &layers);
    assert!(up.iter().any(|v| v.contains("must point down")), "{up:?}");
    let sideways = violations(&graph(&[("side", "mid")]), &layers);
    assert!(sideways.iter().any(|v| v.contains("must point down")));
    let cyc = violations(&graph(&[("low", "extra"), ("extra", "low")]), &layers);
    assert!(cyc.iter().any(|v| v.starts_with("cycle:")), "{cyc:?}");
    let unlisted = violations(&graph(&[("new", "low")]), &layers);
    assert!(unlisted
        .iter()
        .any(|v| v.contains("not in the layer table")));
}

fn read_layers_unchecked(doc: &str) -> Layers {
    let padded: String = (0..11).map(|i| format!("| 9 | `pad{i}` | |\n")).collect();
    read_layers(&format!("{doc}{padded}"))
}
