//! Docs that match the tool: every relative link in the Markdown docs
//! resolves to a file inside the repository, and every README command that
//! can run offline runs, in order, with the exit code the README gives it.
//!
//! Which README lines are skipped, and why (also in CONTRIBUTING.md):
//! 1. the line does not start with `evalgate` (setup: `export`, `curl | sh`,
//!    `cargo install`, `scripts/test`); the first command,
//!    `cargo run --release -- ...`, runs as `evalgate ...`;
//! 2. it needs a real gateway and key: `evalgate run` without `--sim`,
//!    `evalgate models`, `evalgate credits`;
//! 3. it serves until interrupted: `evalgate sim`.
//!
//! A line's expected exit code is 0 unless its comment says `exit N`.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::common::{repo, shell, text};

/// The Markdown files whose links must resolve.
fn markdown_files() -> Vec<PathBuf> {
    let root = repo();
    let mut files: Vec<PathBuf> = ["README.md", "CONTRIBUTING.md", "BENCHMARKS.md"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

/// Text outside fenced code blocks and inline code spans.
fn prose(markdown: &str) -> String {
    let span = Regex::new(r"`[^`\n]*`").unwrap();
    let mut out = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(&span.replace_all(line, ""));
            out.push('\n');
        }
    }
    out
}

/// Relative link targets of `file` that do not resolve to a file or
/// directory inside `root`, with the reason.
fn broken_links(file: &Path, root: &Path) -> Vec<String> {
    let link = Regex::new(r#"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)"#).unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let root = root.canonicalize().unwrap();
    let mut broken = Vec::new();
    for cap in link.captures_iter(&prose(&text)) {
        let target = &cap[1];
        if target.starts_with('#') || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let path = target.split('#').next().unwrap();
        match file.parent().unwrap().join(path).canonicalize() {
            Ok(p) if p.starts_with(&root) => {}
            Ok(p) => broken.push(format!(
                "{target} (outside the repository: {})",
                p.display()
            )),
            Err(_) => broken.push(format!("{target} (no such file)")),
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository_and_no_conflict_is_left() {
    let root = repo();
    let files = markdown_files();
    assert!(files.len() >= 4, "{files:?}");
    let markers = Regex::new(r"(?m)^(<<<<<<< |=======$|>>>>>>> )").unwrap();
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if let Some(m) = markers.find(&text) {
            broken.push(format!(
                "{}: a merge conflict marker `{}`",
                file.display(),
                m.as_str()
            ));
        }
        for b in broken_links(file, &root) {
            broken.push(format!("{}: {b}", file.display()));
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_catches_a_missing_file_and_a_link_out_of_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join("docs")).unwrap();
    std::fs::write(tmp.path().join("outside.md"), "x").unwrap();
    std::fs::write(root.join("docs/there.md"), "x").unwrap();
    let page = root.join("README.md");
    std::fs::write(
        &page,
        "[ok](docs/there.md#part) [gone](docs/missing.md) [out](../outside.md)\n\
         [web](https://example.com/x) `[code](nowhere.md)`\n```\n[fenced](nowhere.md)\n```\n",
    )
    .unwrap();
    let broken = broken_links(&page, &root);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].starts_with("docs/missing.md (no such file)"));
    assert!(broken[1].starts_with("../outside.md (outside the repository"));
}

/// Shell lines of the README's `sh`/`bash` code blocks, in order: comment-only
/// lines dropped, `\` continuations joined.
fn readme_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_shell = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            in_shell = !in_shell && matches!(lang, "sh" | "bash" | "shell" | "console");
            continue;
        }
        if !in_shell || trimmed.is_empty() || (pending.is_empty() && trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(trimmed);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

/// The command part (before a ` #` comment) and the comment.
fn split_comment(line: &str) -> (&str, &str) {
    match line.find(" #") {
        Some(i) => (line[..i].trim(), line[i + 2..].trim()),
        None => (line.trim(), ""),
    }
}

/// The shell line to run, or the rule that skips it.
fn classify(line: &str) -> Result<String, &'static str> {
    let (command, _) = split_comment(line);
    let command = match command.strip_prefix("cargo run --release -- ") {
        Some(rest) => format!("evalgate {rest}"),
        None => command.to_string(),
    };
    let words: Vec<&str> = command.split_whitespace().collect();
    if words.first() != Some(&"evalgate") {
        return Err("rule 1: not an evalgate command");
    }
    match words.get(1).copied() {
        Some("run") if !words.contains(&"--sim") => Err("rule 2: needs a real gateway and key"),
        Some("models" | "credits") => Err("rule 2: needs a real gateway and key"),
        Some("sim") => Err("rule 3: serves until interrupted"),
        _ => Ok(command),
    }
}

/// `exit N` in the line's comment, else 0.
fn expected_exit(line: &str) -> i32 {
    let (_, comment) = split_comment(line);
    Regex::new(r"\bexit (\d+)")
        .unwrap()
        .captures(comment)
        .map_or(0, |c| c[1].parse().unwrap())
}

#[test]
fn the_readme_rules_pick_offline_commands_and_read_expected_exits() {
    let md = "```sh\ncargo run --release -- run s.yaml --sim   # a\nscripts/test\n```\n\
              ```yaml\nevalgate run not-shell.yaml --sim\n```\n\
              ```sh\n# only a comment\nevalgate run a.yaml \\\n  --sim --out x\nevalgate run b.yaml\n\
              evalgate credits\nevalgate sim --addr 127.0.0.1:1\nevalgate compare a b   # exit 1: slower\n```\n";
    let lines = readme_lines(md);
    assert_eq!(lines.len(), 7, "{lines:?}");
    let verdicts: Vec<_> = lines.iter().map(|l| classify(l)).collect();
    assert_eq!(verdicts[0], Ok("evalgate run s.yaml --sim".to_string()));
    assert_eq!(verdicts[1], Err("rule 1: not an evalgate command"));
    assert_eq!(
        verdicts[2],
        Ok("evalgate run a.yaml --sim --out x".to_string())
    );
    assert!(verdicts[3].as_ref().unwrap_err().starts_with("rule 2"));
    assert!(verdicts[4].as_ref().unwrap_err().starts_with("rule 2"));
    assert!(verdicts[5].as_ref().unwrap_err().starts_with("rule 3"));
    assert_eq!(expected_exit(&lines[6]), 1);
    assert_eq!(expected_exit(&lines[0]), 0);
}

#[test]
fn the_readme_opens_with_the_two_commands() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme_lines(&readme);
    assert_eq!(
        split_comment(&lines[0]).0,
        "cargo run --release -- run suites/quickstart.yaml --sim"
    );
    assert_eq!(split_comment(&lines[1]).0, "scripts/test");
    assert!(repo().join("scripts/test").is_file());
}

/// `from` copied into `to`, subdirectories (suites' data files) included.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn every_readme_command_that_can_run_offline_runs_with_its_documented_exit_code() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&repo().join("suites"), &dir.join("suites"));
    let mut ran = 0;
    for line in readme_lines(&readme) {
        let command = match classify(&line) {
            Ok(command) => command,
            Err(rule) => {
                eprintln!("skipped ({rule}): {line}");
                continue;
            }
        };
        let want = expected_exit(&line);
        let out = shell(&command, dir, &[]);
        assert_eq!(
            out.status.code(),
            Some(want),
            "README command `{command}` should exit {want}\n{}",
            text(&out)
        );
        ran += 1;
    }
    // The README's tour, regressions, project start, install and
    // completions blocks: far more than a handful must have run.
    assert!(ran >= 12, "only {ran} README commands ran");
    // What the commands wrote is there.
    assert!(dir.join("report.html").is_file());
    assert!(dir.join("evalgate.1").is_file());
    assert!(dir.join("evals/starter.yaml").is_file());
}
