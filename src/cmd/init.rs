//! `evalgate init [DIR]`: a starter suite with checks in DIR, and a CI
//! workflow at the repository root (found from DIR by its `.git`) that runs
//! it on every change with the evalgate action: posts the Markdown summary,
//! keeps the run directory as an artifact, compares against the last
//! baseline, and falls back to `--sim` when the key secret is absent.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::InitArgs;
use crate::usage;

const SUITE: &str = r#"# A starter evalgate suite. Run it offline first:
#   evalgate run evals/starter.yaml --sim
# then against the gateway (needs AI_GATEWAY_API_KEY):
#   evalgate run evals/starter.yaml
name: starter
description: Support answers for a product, checked for facts, format and speed.
models: [openai/gpt-5-mini, anthropic/claude-sonnet-4, google/gemini-2.5-flash]
grader: openai/gpt-5-mini
defaults:
  system: You are a concise support agent for {{product}}. Answer in at most three sentences.
  max_tokens: 300
  temperature: 0
  vars: {product: Acme Router X2}
  assert:
    - type: max_ttft_ms
      value: 5000
    - type: not-icontains
      value: as an AI language model
cases:
  - id: refund-window
    prompt: What is the refund window for the {{product}}?
    assert:
      - type: judge
        value: States a refund window as a number of days, without inventing conditions.
  - id: reset-steps
    prompt: My {{product}} lost its settings. How do I reset it?
    assert:
      - type: judge
        value: Gives concrete reset steps.
  - id: order-json
    prompt: 'Extract the order as JSON with keys quantity (integer) and city: two {{product}} routers to Berlin, express.'
    max_tokens: 200
    assert:
      - type: max_output_tokens
        value: 200
"#;

/// The workflow, with `@ACTION@` (the action's `uses:` reference) and
/// `@SUITE@` (the suite's path from the repository root) filled in.
const WORKFLOW: &str = r#"# Runs the eval suite on every change with the evalgate action: report.md in
# the job summary, the run directory kept as an artifact, the build failed on
# failed checks or a latency/cost regression against the last run from main.
# Pull requests from forks get no secrets: without the key the suite runs
# against the simulated gateway (--sim, results marked SIMULATED) with a
# notice, so the workflow still checks the suite and the plumbing.
name: evals
on:
  push:
    branches: [main]
  pull_request:

jobs:
  evals:
    runs-on: ubuntu-latest
    env:
      AI_GATEWAY_API_KEY: ${{ secrets.AI_GATEWAY_API_KEY }}
    steps:
      - uses: actions/checkout@v4
      - name: Real gateway, or the simulated one without the key
        id: mode
        run: |
          if [ -n "$AI_GATEWAY_API_KEY" ]; then
            echo "baseline=baseline" >> "$GITHUB_OUTPUT"
            echo "artifact=evalgate-run" >> "$GITHUB_OUTPUT"
          else
            echo "::notice::AI_GATEWAY_API_KEY is not available (not set, or a pull request from a fork): running against the simulated gateway (--sim) without a baseline"
            echo "args=--sim" >> "$GITHUB_OUTPUT"
            echo "artifact=evalgate-run-sim" >> "$GITHUB_OUTPUT"
          fi
      - name: Fetch the last baseline from main
        if: steps.mode.outputs.baseline != ''
        uses: dawidd6/action-download-artifact@v6
        continue-on-error: true
        with:
          branch: main
          name: evalgate-run
          path: baseline
      - name: Run the suite
        uses: @ACTION@
        with:
          suite: @SUITE@
          min-pass-rate: "0.9"
          baseline: ${{ steps.mode.outputs.baseline }}
          args: ${{ steps.mode.outputs.args }}
          artifact-name: ${{ steps.mode.outputs.artifact }}
"#;

/// `owner/name@vVERSION`: the action of the release this binary belongs to.
fn action_ref() -> String {
    format!(
        "{}@v{}",
        crate::build_info::github_slug(),
        crate::build_info::VERSION
    )
}

/// The workflow for a suite at `suite` (relative to the repository root).
fn workflow(suite: &str) -> String {
    WORKFLOW
        .replace("@ACTION@", &action_ref())
        .replace("@SUITE@", suite)
}

/// The nearest directory at or above `dir` holding `.git` (a directory, or a
/// file in worktrees and submodules).
fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `path` relative to `root` with `/` separators, as a workflow names it.
fn relative_slash(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn write_new(path: &Path, text: &str, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        return Err(usage!(
            "{} exists; pass --force to overwrite it",
            path.display()
        ));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(args: &InitArgs) -> anyhow::Result<i32> {
    let dir = args.dir.as_deref().unwrap_or(Path::new("."));
    let suite = dir.join("evals/starter.yaml");
    // GitHub only reads workflows at the repository root, so find it.
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let abs = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let root = repository_root(&abs);
    let workflow_path = match &root {
        Some(root) => root.join(".github/workflows/evals.yml"),
        None => dir.join(".github/workflows/evals.yml"),
    };
    let suite_in_repo = relative_slash(
        &abs.join("evals/starter.yaml"),
        root.as_deref().unwrap_or(&abs),
    );
    // Refuse before writing anything, not after the suite.
    if workflow_path.exists() && !args.force {
        return Err(usage!(
            "{} exists; pass --force to overwrite it",
            workflow_path.display()
        ));
    }
    write_new(&suite, SUITE, args.force)?;
    write_new(&workflow_path, &workflow(&suite_in_repo), args.force)?;
    println!("wrote {}", suite.display());
    match &root {
        Some(root) => println!(
            "wrote {} (at the repository root {}, found from {} by its .git: GitHub reads workflows only there)",
            workflow_path.display(),
            root.display(),
            abs.display()
        ),
        None => println!(
            "wrote {} (no git repository at or above {}: move .github/ to your repository's root, where GitHub reads workflows)",
            workflow_path.display(),
            abs.display()
        ),
    }
    println!();
    println!("next:");
    println!("  evalgate validate {}", suite.display());
    println!(
        "  evalgate run {} --sim      # offline dry run, marked simulated",
        suite.display()
    );
    println!(
        "  export AI_GATEWAY_API_KEY=...  # then run it for real, and add the key as the CI secret AI_GATEWAY_API_KEY"
    );
    Ok(crate::exit::OK)
}
