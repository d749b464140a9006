//! One run per run directory: while a run holds its directory, a second run
//! (`--force` included) or a `--resume` of it exits 2 naming the holder's
//! pid and sends nothing; runs started together without `--out` each get a
//! directory of their own.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use evalgate::sim::SimServer;

use crate::common::*;

const KEY: &str = "rundir-test-key";

fn spawn_run(dir: &Path, url: &str, suite: &Path, extra: &[&str]) -> Child {
    bin()
        .args(["run", suite.to_str().unwrap(), "--gateway", url])
        .args(["--no-progress", "--no-catalog"])
        .args(extra)
        .env("AI_GATEWAY_API_KEY", KEY)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evalgate starts")
}

fn wait_for_in_flight(sim: &SimServer) {
    let start = Instant::now();
    while sim.stats().in_flight == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no request in flight"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_busy_run_directory_refuses_a_second_run_and_a_resume_naming_the_pid() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "slow.yaml",
        "name: slow\nmodels: [sim/ttft-300-itl-10-tok-10-jitter-0]\ncases:\n  - id: a\n    prompt: Take your time.\n",
    );
    let run_dir = tmp.path().join("run");
    let out = run_dir.to_str().unwrap();
    let mut first = spawn_run(
        tmp.path(),
        &sim.base_url(),
        &suite,
        &["--out", out, "--repeat", "40", "--concurrency", "1"],
    );
    wait_for_in_flight(&sim);
    let pid = format!("pid {}", first.id());

    let resume = bin()
        .args(["run", "--resume", out, "--no-progress"])
        .env("AI_GATEWAY_API_KEY", KEY)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let second = spawn_run(
        tmp.path(),
        &sim.base_url(),
        &suite,
        &["--out", out, "--force"],
    )
    .wait_with_output()
    .unwrap();
    // The first run, still going, sends one request at a time.
    let peak = sim.stats().peak_in_flight;
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(first.id() as libc::pid_t, libc::SIGKILL) };
    first.wait().unwrap();

    for res in [&resume, &second] {
        assert_eq!(res.status.code(), Some(2), "{}", text(res));
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains("is in use by another evalgate run"), "{err}");
        assert!(err.contains(&pid), "names {pid}: {err}");
    }
    assert_eq!(peak, 1, "nothing sent by the refused runs");
}

#[test]
fn runs_started_together_get_directories_of_their_own() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "together.yaml",
        "name: together\nmodels: [sim/ttft-5-itl-1-tok-5-jitter-0]\ncases:\n  - id: a\n    prompt: Hi.\n  - id: b\n    prompt: Hello.\n",
    );
    let children: Vec<Child> = (0..3)
        .map(|_| {
            spawn_run(
                tmp.path(),
                &sim.base_url(),
                &suite,
                &["--repeat", "5", "--no-history"],
            )
        })
        .collect();
    for child in children {
        let res = child.wait_with_output().unwrap();
        assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    }
    let dirs: Vec<_> = std::fs::read_dir(tmp.path().join("results/together"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 3, "{dirs:?}");
    for dir in dirs {
        assert_eq!(rows(&dir).len(), 10, "{}", dir.display());
        assert_eq!(summary(&dir).models[0].requests, 10);
    }
}
