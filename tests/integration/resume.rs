//! Interruption and resume: Ctrl-C / SIGTERM stop new starts, let in-flight
//! requests finish within the grace period (a second Ctrl-C abandons them),
//! write every file with unrun jobs as `cancelled` rows and exit 130;
//! `--resume` (also after `kill -9`, torn journal line included) finishes
//! the plan with the same row set as a clean run, and refuses a changed suite.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use evalgate::record::{ErrorKind, RequestRow, Status};
use evalgate::sim::SimServer;

use crate::common::*;

const KEY: &str = "resume-test-key";

/// A sim on its own runtime, which keeps serving while the test thread
/// waits on the binary.
struct Gateway {
    sim: SimServer,
    _rt: tokio::runtime::Runtime,
}

impl Gateway {
    fn start() -> Gateway {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let sim = rt.block_on(sim(Default::default()));
        Gateway { sim, _rt: rt }
    }
    fn url(&self) -> String {
        self.sim.base_url()
    }
}

/// `evalgate run SUITE --gateway URL --no-progress --out OUT <extra>` with the key set.
fn run_args(gw: &Gateway, suite: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "run",
        suite.to_str().unwrap(),
        "--gateway",
        &gw.url(),
        "--no-progress",
        // Parametric sim ids are not in the sim's catalog.
        "--no-catalog",
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn spawn(dir: &Path, args: &[String]) -> Child {
    bin()
        .args(args)
        .env("AI_GATEWAY_API_KEY", KEY)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("evalgate starts")
}

fn run(dir: &Path, args: &[String]) -> Output {
    spawn(dir, args).wait_with_output().unwrap()
}

fn resume(dir: &Path, run_dir: &Path) -> Output {
    run(
        dir,
        &[
            "run".into(),
            "--resume".into(),
            run_dir.display().to_string(),
            "--no-progress".into(),
        ],
    )
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0, "kill({sig})");
}
/// SIGTERM the run and wait for it: it must exit 130 (interrupted).
/// Returns its output and how long it took to exit after the signal.
fn sigterm_and_wait(child: Child) -> (Output, Duration) {
    let signalled = Instant::now();
    signal(&child, libc::SIGTERM);
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130), "{}", text(&res));
    (res, signalled.elapsed())
}

/// Poll `cond` every 10 ms; panic after `limit`.
fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn journal_lines(run_dir: &Path) -> usize {
    std::fs::read(run_dir.join("responses.jsonl"))
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0)
}
/// A run of `repeat` requests of one slow `model`, two at a time, started
/// and waited for until both of the first two are in flight.
fn two_in_flight(
    tmp: &Path,
    gw: &Gateway,
    model: &str,
    repeat: &str,
    extra: &[&str],
) -> (Child, PathBuf) {
    let suite = suite_file(
        tmp,
        "slow1.yaml",
        &format!(
            "name: slow1\nmodels: [{model}]\ncases:\n  - id: a\n    prompt: Take your time.\n"
        ),
    );
    let run_dir = tmp.join("run");
    let mut args = vec!["--repeat", repeat, "--concurrency", "2"];
    args.extend_from_slice(extra);
    let child = spawn(tmp, &run_args(gw, &suite, &run_dir, &args));
    wait_until("two requests in flight", Duration::from_secs(30), || {
        gw.sim.stats().in_flight == 2
    });
    (child, run_dir)
}

/// A suite of `cases` cases on one slow-ish sim model (~250 ms a request).
fn slow_suite(dir: &Path, cases: usize) -> PathBuf {
    let mut yaml =
        String::from("name: slow\nmodels: [sim/ttft-150-itl-10-tok-10-jitter-0]\ncases:\n");
    for i in 0..cases {
        yaml.push_str(&format!("  - id: c{i}\n    prompt: Question number {i}?\n"));
    }
    suite_file(dir, "slow.yaml", &yaml)
}

type Key = (String, String, u32);

fn keys(rows: &[RequestRow]) -> BTreeSet<Key> {
    rows.iter()
        .map(|r| (r.case_id.clone(), r.model.clone(), r.repeat))
        .collect()
}

fn file_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect()
}

/// After a resume: every planned job once, all ok, journal without duplicates.
fn assert_complete(run_dir: &Path, expected: &BTreeSet<Key>) {
    let rows = rows(run_dir);
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    assert_eq!(&keys(&rows), expected, "same (case, model, repeat) set");
    assert!(rows.iter().all(|r| r.status == Status::Ok), "{rows:#?}");
    let recs = records(run_dir);
    let jobs: BTreeSet<u64> = recs.iter().map(|r| r.row.job).collect();
    assert_eq!(recs.len(), expected.len(), "journal has no duplicates");
    assert_eq!(jobs.len(), expected.len());
    let s = summary(run_dir);
    assert_eq!(s.models[0].requests as usize, expected.len());
    assert_eq!(s.models[0].ok as usize, expected.len());
    assert_eq!(s.run.stopped_by, None);
}

#[test]
fn ctrl_c_then_resume_gives_the_same_rows_as_a_clean_run() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    let suite = slow_suite(tmp.path(), 5);
    let extra = ["--repeat", "4", "--concurrency", "2"];

    let clean = tmp.path().join("clean");
    let res = run(tmp.path(), &run_args(&gw, &suite, &clean, &extra));
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let expected = keys(&rows(&clean));
    assert_eq!(expected.len(), 20);

    let run_dir = tmp.path().join("run");
    let child = spawn(tmp.path(), &run_args(&gw, &suite, &run_dir, &extra));
    wait_until("two journaled rows", Duration::from_secs(30), || {
        journal_lines(&run_dir) >= 2
    });
    signal(&child, libc::SIGINT);
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130), "{}", text(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("--resume"), "says how to finish: {stdout}");

    // Every job has a row: what finished is ok, the rest is cancelled.
    let partial = rows(&run_dir);
    assert_eq!(partial.len(), 20);
    assert_eq!(keys(&partial), expected);
    let ok = partial.iter().filter(|r| r.status == Status::Ok).count();
    let skipped: Vec<_> = partial
        .iter()
        .filter(|r| r.status == Status::Skipped)
        .collect();
    assert!(ok >= 2 && !skipped.is_empty(), "{partial:#?}");
    assert_eq!(ok + skipped.len(), 20, "no failed rows: {partial:#?}");
    assert!(skipped
        .iter()
        .all(|r| r.error_kind == Some(ErrorKind::Cancelled) && r.attempts == 0));
    assert_eq!(
        records(&run_dir).len(),
        ok,
        "only finished rows are journaled"
    );
    let s = summary(&run_dir);
    assert_eq!(s.run.stopped_by.as_deref(), Some("interrupted"));
    assert_eq!(s.models[0].ok as usize, ok);

    let before = gw.sim.stats().requests;
    let res = resume(tmp.path(), &run_dir);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(
        (gw.sim.stats().requests - before) as usize,
        20 - ok,
        "resume sends only the jobs that had not finished"
    );
    assert_complete(&run_dir, &expected);
    assert_eq!(file_names(&run_dir), file_names(&clean), "same files");
}

#[test]
fn kill_9_leaves_a_journal_that_resume_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    let suite = slow_suite(tmp.path(), 5);
    let run_dir = tmp.path().join("run");
    let mut child = spawn(
        tmp.path(),
        &run_args(
            &gw,
            &suite,
            &run_dir,
            &[
                "--repeat",
                "4",
                "--concurrency",
                "2",
                "--retry-budget",
                "7",
                "--warmup",
            ],
        ),
    );
    wait_until("three journaled rows", Duration::from_secs(30), || {
        journal_lines(&run_dir) >= 3
    });
    signal(&child, libc::SIGKILL);
    // The options --resume takes back include the retry budget and warmup.
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["options"]["retry_budget"], 7);
    assert_eq!(meta["options"]["warmup"], true);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    assert!(run_dir.join("run.json").is_file());
    let done = records(&run_dir).len();
    assert!((3..20).contains(&done), "{done} rows before the kill");
    // A crash in the middle of a write leaves a torn last line.
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(run_dir.join("responses.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut journal, br#"{"job":7,"suite":"slow","case_id":"c"#).unwrap();
    drop(journal);

    let res = resume(tmp.path(), &run_dir);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let expected: BTreeSet<Key> = (0..5)
        .flat_map(|c| {
            (0..4).map(move |r| {
                (
                    format!("c{c}"),
                    "sim/ttft-150-itl-10-tok-10-jitter-0".to_string(),
                    r,
                )
            })
        })
        .collect();
    assert_complete(&run_dir, &expected);
    // Each job sent once, plus those lost by the kill: at most two in flight
    // and two finished whose journal line was not yet written.
    let sent = gw.sim.stats().requests;
    assert!((20..=24).contains(&sent), "{sent} requests for 20 jobs");
}

#[test]
fn a_changed_suite_refuses_resume_and_sends_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    let suite = slow_suite(tmp.path(), 2);
    let run_dir = tmp.path().join("run");
    let res = run(tmp.path(), &run_args(&gw, &suite, &run_dir, &[]));
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let csv_before = std::fs::read(run_dir.join("requests.csv")).unwrap();

    let yaml = std::fs::read_to_string(&suite).unwrap();
    std::fs::write(&suite, yaml + "  - id: added\n    prompt: A new case.\n").unwrap();
    let sent = gw.sim.stats().requests;
    let res = resume(tmp.path(), &run_dir);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("changed since this run started") && err.contains("new run"),
        "{err}"
    );
    assert_eq!(gw.sim.stats().requests, sent, "nothing sent");
    assert_eq!(
        std::fs::read(run_dir.join("requests.csv")).unwrap(),
        csv_before,
        "the run directory is left as it was"
    );

    // A directory that is not a run at all.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let res = resume(tmp.path(), &empty);
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stderr).contains("run.json"));
}

/// Forward the child's stderr lines to a channel (and keep draining it).
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_journals_them() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    let model = "sim/ttft-1000-itl-10-tok-5-jitter-0";
    let (child, run_dir) = two_in_flight(tmp.path(), &gw, model, "8", &[]);
    let (res, _) = sigterm_and_wait(child);
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("waiting for those in flight"), "{err}");
    let rows = rows(&run_dir);
    assert_eq!(rows.len(), 8);
    let ok = rows.iter().filter(|r| r.status == Status::Ok).count();
    // The two in flight when the signal came finished inside the grace period.
    assert!((2..8).contains(&ok), "{rows:#?}");
    assert_eq!(records(&run_dir).len(), ok, "and were journaled");
    assert!(rows.iter().all(|r| r.status == Status::Ok
        || (r.status == Status::Skipped && r.error_kind == Some(ErrorKind::Cancelled))));
}

#[test]
fn a_second_ctrl_c_abandons_in_flight_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    // Answers take 4 s: inside the 5 s grace period unless abandoned.
    let suite = suite_file(
        tmp.path(),
        "abandon.yaml",
        "name: abandon\nmodels: [sim/ttft-4000-itl-10-tok-3-jitter-0]\ncases:\n  - id: a\n    prompt: Take your time.\n",
    );
    let run_dir = tmp.path().join("run");
    let mut child = spawn(
        tmp.path(),
        &run_args(
            &gw,
            &suite,
            &run_dir,
            &["--repeat", "4", "--concurrency", "2"],
        ),
    );
    let lines = stderr_lines(&mut child);
    wait_until("two requests in flight", Duration::from_secs(30), || {
        gw.sim.stats().in_flight == 2
    });
    signal(&child, libc::SIGINT);
    let Ok(note) = lines.recv_timeout(Duration::from_secs(10)) else {
        let res = child.wait_with_output().unwrap();
        panic!("no note after the first Ctrl-C: {}", text(&res));
    };
    assert!(note.contains("Ctrl-C again"), "{note}");
    signal(&child, libc::SIGINT);
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130), "{}", text(&res));
    let rows = rows(&run_dir);
    assert_eq!(rows.len(), 4);
    let abandoned: Vec<_> = rows.iter().filter(|r| r.status == Status::Error).collect();
    assert_eq!(abandoned.len(), 2, "{rows:#?}");
    assert!(abandoned
        .iter()
        .all(|r| r.error_kind == Some(ErrorKind::Cancelled)));
    assert_eq!(
        rows.iter().filter(|r| r.status == Status::Skipped).count(),
        2
    );
    assert!(records(&run_dir).is_empty(), "nothing finished");
}

#[test]
fn grace_sets_how_long_in_flight_requests_may_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    // Answers take 4 s; a 300 ms grace period abandons them.
    let model = "sim/ttft-4000-itl-10-tok-3-jitter-0";
    let (child, run_dir) = two_in_flight(tmp.path(), &gw, model, "4", &["--grace", "300ms"]);
    let (_, took) = sigterm_and_wait(child);
    // Well before the answers (≥ 3 s away) would have come.
    assert!(took < Duration::from_secs(3), "{took:?}");
    let rows = rows(&run_dir);
    assert_eq!(rows.len(), 4);
    let abandoned = rows
        .iter()
        .filter(|r| r.status == Status::Error && r.error_kind == Some(ErrorKind::Cancelled))
        .count();
    assert_eq!(abandoned, 2, "{rows:#?}");
}

#[test]
fn sigterm_during_a_long_ramp_up_stops_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = Gateway::start();
    let suite = slow_suite(tmp.path(), 1);
    let run_dir = tmp.path().join("run");
    // Starts due at 0, 15, 30 and 45 s.
    let args = ["--repeat", "4", "--concurrency", "4", "--ramp-up", "60s"];
    let child = spawn(tmp.path(), &run_args(&gw, &suite, &run_dir, &args));
    wait_until("the first request", Duration::from_secs(30), || {
        gw.sim.stats().requests >= 1
    });
    let (_, took) = sigterm_and_wait(child);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let rows = rows(&run_dir);
    assert_eq!(rows.len(), 4);
    assert_eq!(
        gw.sim.stats().requests,
        1,
        "nothing started after the signal"
    );
    let cancelled = rows
        .iter()
        .filter(|r| r.status == Status::Skipped && r.error_kind == Some(ErrorKind::Cancelled))
        .count();
    assert_eq!(cancelled, 3, "{rows:#?}");
}

#[test]
fn a_sim_run_interrupted_after_a_while_resumes_on_its_own_sim() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = slow_suite(tmp.path(), 3);
    let run_dir = tmp.path().join("run");
    let args: Vec<String> = [
        "run",
        suite.to_str().unwrap(),
        "--sim",
        "--no-progress",
        "--repeat",
        "2",
        "--concurrency",
        "2",
        "--out",
        run_dir.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let child = spawn(tmp.path(), &args);
    wait_until("two journaled rows", Duration::from_secs(30), || {
        journal_lines(&run_dir) >= 2
    });
    signal(&child, libc::SIGINT);
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130), "{}", text(&res));
    let partial = rows(&run_dir);
    assert_eq!(partial.len(), 6);
    assert!(partial.iter().any(|r| r.status == Status::Skipped));

    // No suite, model or gateway argument: all of it comes from run.json.
    let res = resume(tmp.path(), &run_dir);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let expected: BTreeSet<Key> = partial
        .iter()
        .map(|r| (r.case_id.clone(), r.model.clone(), r.repeat))
        .collect();
    assert_complete(&run_dir, &expected);
    assert!(summary(&run_dir).run.simulated);
}

/// Every option a run started with survives `--resume` with no other
/// argument: the resumed half runs on a sim with the same `--sim-ttft-scale`
/// (its TTFTs are 3× the model's 150 ms like the first half's), with
/// `--no-history` neither half writes the history store, and it waits for
/// generation records no longer than the `--lookup-wait` given (0.3 s, less
/// than the sim's records take to appear: none is found).
#[test]
fn resume_keeps_sim_ttft_scale_and_no_history() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = slow_suite(tmp.path(), 3);
    let run_dir = tmp.path().join("run");
    let args: Vec<String> = [
        "run",
        suite.to_str().unwrap(),
        "--sim",
        "--sim-ttft-scale",
        "3",
        "--no-history",
        "--no-progress",
        "--lookup-wait",
        "300ms",
        "--repeat",
        "2",
        "--concurrency",
        "1",
        "--out",
        run_dir.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let child = spawn(tmp.path(), &args);
    wait_until("one journaled row", Duration::from_secs(30), || {
        journal_lines(&run_dir) >= 1
    });
    signal(&child, libc::SIGINT);
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130), "{}", text(&res));
    let first: BTreeSet<u64> = records(&run_dir).iter().map(|r| r.row.job).collect();
    assert!(first.len() < 6, "interrupted before the end");

    let res = resume(tmp.path(), &run_dir);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let recs = records(&run_dir);
    assert_eq!(recs.len(), 6);
    let resumed: Vec<_> = recs
        .iter()
        .filter(|r| !first.contains(&r.row.job))
        .collect();
    assert!(!resumed.is_empty());
    for r in &resumed {
        let ttft = r.row.ttft_ms.expect("an ok row has a TTFT");
        assert!(
            ttft >= 400.0,
            "TTFT {ttft} ms: the resumed sim lost --sim-ttft-scale 3"
        );
    }
    assert!(
        !tmp.path().join("results/history.sqlite").exists(),
        "--no-history was forgotten on resume"
    );
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(!out.contains("history:"));
    assert!(
        out.contains("GET /generation answered 404 for 0.3 s"),
        "{out}"
    );
}
