//! A reader that closes standard output early (`evalgate trend | head -1`)
//! ends no command with a panic: each command finishes quietly, with the
//! exit code it gives when its output is read to the end.

use std::path::Path;
use std::process::{Output, Stdio};

use crate::common::*;

/// `evalgate ARGS` in `dir`, its stdout a pipe whose reader is gone before
/// anything is written, so every write to it fails (EPIPE).
fn closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    bin()
        .args(args)
        .current_dir(dir)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("evalgate runs")
}

fn assert_quiet(what: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    for panic_text in [
        "panicked",
        "failed printing",
        "internal error",
        "Broken pipe",
    ] {
        assert!(!err.contains(panic_text), "{what}: {}", text(out));
    }
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_its_own_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let suite = one_case_suite(d, "s", &["sim/fast", "sim/slow"]);
    let suite = suite.to_str().unwrap();
    for (out, scale) in [("results/s/a", "1"), ("results/s/b", "3")] {
        let res = evalgate(
            &["run", suite, "--sim", "--no-progress", "-n", "3"]
                .into_iter()
                .chain(["--sim-ttft-scale", scale, "--out", out])
                .collect::<Vec<_>>(),
            d,
        );
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    }
    let commands: &[&[&str]] = &[
        &["trend", "results/s"],
        &["trend", "--suite", "s"],
        &["report", "results/s/a"],
        &["report", "results/s/a", "--format", "markdown"],
        &["compare", "results/s/a", "results/s/b"],
        &["models", "--sim"],
        &["history", "list"],
        &["validate", suite],
        &["completions", "bash"],
        &["man"],
    ];
    for args in commands {
        let what = args.join(" ");
        let open = evalgate(args, d);
        assert!(!open.stdout.is_empty(), "{what} prints: {}", text(&open));
        let closed = closed_stdout(d, args);
        assert_quiet(&what, &closed);
        assert_eq!(
            closed.status.code(),
            open.status.code(),
            "{what}: {}",
            text(&closed)
        );
    }

    // A run prints its table last: its outputs are whole all the same.
    let res = closed_stdout(d, &["run", suite, "--sim", "--no-progress", "--out", "c"]);
    assert_quiet("run", &res);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(rows(&d.join("c")).len(), 2);
    assert!(d.join("c/summary.json").exists());
}

/// `2>&1 | head`: stderr is the same pipe as stdout; an error message
/// written to it after the reader has gone ends the command as it would
/// have ended.
#[test]
fn a_closed_pipe_shared_by_stdout_and_stderr_keeps_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["validate", "missing.yaml"];
    let open = evalgate(&args, tmp.path());
    assert_eq!(open.status.code(), Some(2), "{}", text(&open));
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let closed = bin()
        .args(args)
        .current_dir(tmp.path())
        .stderr(writer.try_clone().unwrap())
        .stdout(writer)
        .status()
        .expect("evalgate runs");
    assert_eq!(closed.code(), Some(2));
}
