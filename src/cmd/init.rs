//! `evalgate init [DIR]`: a starter suite with checks and a CI workflow that
//! runs it on every change, posts the Markdown summary, keeps the run
//! directory as an artifact and compares against the last baseline.

use std::path::Path;

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

const WORKFLOW: &str = r#"# Runs the eval suite on every change, posts the summary, keeps the run
# directory, and fails the build on failed checks or a latency/cost regression
# against the last baseline from main.
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
      - name: Install evalgate
        run: cargo install --locked --git https://github.com/evalgate/evalgate evalgate
      - name: Fetch the last baseline from main
        uses: dawidd6/action-download-artifact@v6
        continue-on-error: true
        with:
          branch: main
          name: evalgate-run
          path: baseline
      - name: Run the suite
        run: |
          if [ -f baseline/summary.json ]; then
            evalgate run evals/starter.yaml --out run --no-progress --min-pass-rate 0.9 --baseline baseline
          else
            evalgate run evals/starter.yaml --out run --no-progress --min-pass-rate 0.9
          fi
      - name: Post the summary
        if: always()
        run: cat run/report.md >> "$GITHUB_STEP_SUMMARY"
      - name: Keep the run directory
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: evalgate-run
          path: run
"#;

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
    let workflow = dir.join(".github/workflows/evals.yml");
    write_new(&suite, SUITE, args.force)?;
    write_new(&workflow, WORKFLOW, args.force)?;
    println!("wrote {}", suite.display());
    println!("wrote {}", workflow.display());
    println!();
    println!("next:");
    println!("  evalgate validate {}", suite.display());
    println!(
        "  evalgate run {} --sim      # offline dry run, marked simulated",
        suite.display()
    );
    println!(
        "  export AI_GATEWAY_API_KEY=...  # then run it for real, and add the key as a CI secret"
    );
    Ok(crate::exit::OK)
}
