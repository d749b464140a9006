//! Bad input stops `run` before anything is sent: each mistake is a clear
//! message naming the fix, exit code 2, no request at the gateway (checked
//! on an in-test sim with a key set, so the key check passes) and no run
//! directory left behind.

use std::path::{Path, PathBuf};

use evalgate::sim::SimServer;

use crate::common::*;

const GOOD: &str = "name: good\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: Say hello.\n";

struct Env {
    sim: SimServer,
    rt: tokio::runtime::Runtime,
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sim = rt.block_on(sim(Default::default()));
        Env {
            sim,
            rt,
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn suite(&self, name: &str, yaml: &str) -> PathBuf {
        suite_file(self.dir(), name, yaml)
    }

    /// `evalgate run --gateway SIM --no-progress <args>` with a key set.
    fn run(&self, args: &[&str]) -> std::process::Output {
        run_gateway(self.dir(), &self.sim.base_url(), "bad-input-test-key", args)
    }

    /// The run is refused with exit 2, a message holding every part of
    /// `says`, nothing sent and no `results/` directory.
    fn refused(&self, args: &[&str], says: &[&str]) {
        let res = self.run(args);
        assert_eq!(res.status.code(), Some(2), "{args:?}: {}", text(&res));
        let err = String::from_utf8_lossy(&res.stderr);
        for part in says {
            assert!(err.contains(part), "{args:?}: `{part}` missing in: {err}");
        }
        assert_eq!(self.sim.stats().requests, 0, "{args:?}: nothing sent");
        assert!(
            !self.dir().join("results").exists(),
            "{args:?}: no run directory"
        );
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Nothing was ever sent by any refused run.
        assert_eq!(self.sim.stats().requests, 0);
        let _ = &self.rt;
    }
}

#[test]
fn bad_suites_are_refused_with_file_line_and_fix() {
    let env = Env::new();
    let malformed = env.suite(
        "malformed.yaml",
        "name: m\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: \"never closed\n  - id: b\n",
    );
    env.refused(&[malformed.to_str().unwrap()], &["malformed.yaml", "line"]);

    let wrong_type = env.suite(
        "types.yaml",
        "name: t\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n    max_tokens: lots\n",
    );
    env.refused(
        &[wrong_type.to_str().unwrap()],
        &["types.yaml line 6", "max_tokens", "whole number"],
    );

    let not_a_list = env.suite("models.yaml", "name: t\nmodels: sim/fast\ncases: {a: 1}\n");
    env.refused(&[not_a_list.to_str().unwrap()], &["models.yaml line"]);

    let unknown = env.suite(
        "unknown.yaml",
        "name: u\nmodels: [sim/fast]\ncolour: red\ncases:\n  - id: a\n    prompt: hi\n",
    );
    env.refused(
        &[unknown.to_str().unwrap()],
        &[
            "unknown.yaml line 3",
            "unknown field `colour`",
            "expected one of",
        ],
    );

    let dup = env.suite(
        "dup.yaml",
        "name: d\nmodels: [sim/fast]\ncases:\n  - id: a\n    prompt: hi\n  - id: a\n    prompt: ho\n",
    );
    env.refused(
        &[dup.to_str().unwrap()],
        &["dup.yaml line 6", "duplicate case id `a`"],
    );

    let no_models = env.suite(
        "nomodels.yaml",
        "name: n\ncases:\n  - id: a\n    prompt: hi\n",
    );
    env.refused(&[no_models.to_str().unwrap()], &["no models", "--models"]);

    env.refused(&["does-not-exist.yaml"], &["does-not-exist.yaml"]);

    // A bad suite among good ones: nothing runs, not even the good one.
    let good = env.suite("good.yaml", GOOD);
    env.refused(
        &[good.to_str().unwrap(), dup.to_str().unwrap()],
        &["dup.yaml line 6"],
    );
}

#[test]
fn invalid_flags_are_refused() {
    let env = Env::new();
    let good = env.suite("good.yaml", GOOD);
    let g = good.to_str().unwrap();
    for (flags, says) in [
        (&["--concurrency", "0"][..], "at least 1"),
        (&["--per-model-concurrency", "0"], "at least 1"),
        (&["--repeat", "-1"], "-1"),
        (&["--repeat", "0"], "at least 1"),
        (&["--shard", "3/2"], "3/2"),
        (&["--shard", "0/2"], "0/2"),
        (&["--max-cost", "-1"], "-1"),
        (&["--min-pass-rate", "1.5"], "between 0 and 1"),
        (&["--timeout", "soon"], "soon"),
        (&["--max-retries", "many"], "many"),
        (&["--retry-budget", "-5"], "-5"),
        (&["--models", ""], "empty model id"),
        (&["--models", "sim/fast,,sim/slow"], "empty model id"),
        // Checked against the gateway's catalog before any chat request.
        (&["--models", "sim/fsat"], "not in the gateway's catalog"),
    ] {
        let mut args = vec![g];
        args.extend_from_slice(flags);
        env.refused(&args, &[says]);
    }
    // --out names one directory: one suite at a time.
    let other = env.suite("other.yaml", &GOOD.replace("good", "other"));
    env.refused(
        &[g, other.to_str().unwrap(), "--out", "x"],
        &["--out names one run directory"],
    );
}

#[test]
fn output_directories_that_cannot_be_used_are_refused() {
    let env = Env::new();
    let good = env.suite("good.yaml", GOOD);
    let g = good.to_str().unwrap();

    // Exists and is not empty: refused, and left untouched.
    let full = env.dir().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    env.refused(
        &[g, "--out", full.to_str().unwrap()],
        &["exists and is not empty", "--force", "--resume"],
    );
    let names: Vec<_> = std::fs::read_dir(&full).unwrap().collect();
    assert_eq!(names.len(), 1, "nothing written into it");

    // A regular file where a directory is needed: fails even for root.
    let file = env.dir().join("a-file");
    std::fs::write(&file, "x").unwrap();
    env.refused(&[g, "--out", file.to_str().unwrap()], &["is a file"]);
    let under = file.join("run");
    env.refused(
        &[g, "--out", under.to_str().unwrap()],
        &["cannot create the output directory", "writable --out"],
    );
    env.refused(
        &[g, "--out", "/proc/evalgate-x"],
        &["/proc/evalgate-x", "writable --out"],
    );
}

#[test]
fn force_writes_into_a_non_empty_directory() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let tmp = tempfile::tempdir().unwrap();
    let good = suite_file(tmp.path(), "good.yaml", GOOD);
    let full = tmp.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        "bad-input-test-key",
        &[
            good.to_str().unwrap(),
            "--force",
            "--out",
            full.to_str().unwrap(),
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(rows(&full).len(), 1);
    assert_eq!(
        std::fs::read_to_string(full.join("keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(sim.stats().requests, 1);

    // --force over a finished run starts afresh: the old journal does not
    // count as done, so every job is sent again and listed once.
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        "bad-input-test-key",
        &[
            good.to_str().unwrap(),
            "--force",
            "--out",
            full.to_str().unwrap(),
        ],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(sim.stats().requests, 2);
    assert_eq!(rows(&full).len(), 1);
    assert_eq!(records(&full).len(), 1);
}
