//! Faults end to end: every fault the sim can inject (model-id suffixes and
//! `evalgate sim --fault`) becomes a row with the right `error_kind`,
//! `attempts` and whatever data arrived before the failure; retries,
//! `--retry-budget`, `--retry-midstream` and each timeout flag (and the
//! suite's `timeouts:`) map to the documented kinds. Every run keeps
//! `rows == jobs`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use evalgate::record::{CostSource, ErrorKind, RequestRow, ResponseRecord, Status};

use crate::common::*;

/// Rows and journal records by model; asserts every planned job has one row.
fn by_model(
    out: &Path,
    jobs: usize,
) -> (HashMap<String, RequestRow>, HashMap<String, ResponseRecord>) {
    let rows = rows(out);
    assert_eq!(rows.len(), jobs, "rows == jobs: {rows:#?}");
    let recs = records(out);
    assert_eq!(recs.len(), jobs, "one journal line per job");
    (
        rows.into_iter().map(|r| (r.model.clone(), r)).collect(),
        recs.into_iter().map(|r| (r.row.model.clone(), r)).collect(),
    )
}

fn assert_error(row: &RequestRow, kind: ErrorKind, attempts: u32) {
    assert_eq!(row.status, Status::Error, "{row:?}");
    assert_eq!(row.error_kind, Some(kind), "{row:?}");
    assert_eq!(row.attempts, attempts, "{row:?}");
    let msg = row.error_message.as_deref().unwrap_or_default();
    assert!(!msg.is_empty(), "the gateway's message is kept: {row:?}");
    assert!(msg.chars().count() <= 301, "message trimmed: {msg}");
}

/// An error before any data: nothing partial to keep.
fn assert_nothing_arrived(row: &RequestRow, rec: &ResponseRecord) {
    assert_eq!(row.ttft_ms, None, "{row:?}");
    assert_eq!(row.duration_ms, None, "{row:?}");
    assert_eq!(row.output_tokens, None, "{row:?}");
    assert_eq!(row.cost_source, CostSource::Unknown, "{row:?}");
    assert!(rec.text.is_empty(), "{rec:?}");
}

/// A failure mid-answer: TTFT and the partial text are kept, the tokens and
/// cost are unknown (the usage chunk never came), there is no duration.
fn assert_partial(row: &RequestRow, rec: &ResponseRecord) {
    assert!(row.ttft_ms.unwrap() > 0.0, "{row:?}");
    assert_eq!(row.duration_ms, None, "{row:?}");
    assert_eq!(row.output_tokens, None, "{row:?}");
    assert_eq!(row.cost_usd, None, "{row:?}");
    assert_eq!(row.cost_source, CostSource::Unknown, "{row:?}");
    assert!(
        rec.text.split_whitespace().count() >= 3,
        "partial text kept in responses.jsonl: {rec:?}"
    );
}

#[test]
fn every_fault_kind_is_a_row_with_its_kind_attempts_and_partial_data() {
    let tmp = tempfile::tempdir().unwrap();
    let models = [
        "sim/fast+429+retry-after-0",
        "sim/fast+500",
        "sim/fast+502",
        "sim/fast+503",
        "sim/fast+401",
        "sim/fast+404",
        "sim/fast+400",
        "sim/fast+stall-ttft-5000",
        "sim/fast+stall-mid-5000",
        "sim/fast+cut-mid",
        "sim/fast+error-event",
        "sim/fast+malformed",
        "sim/fast+no-usage",
        "sim/fast+429+flaky-1+retry-after-0",
        "sim/fast+503+flaky-2+retry-after-0",
    ];
    let suite = one_case_suite(tmp.path(), "faults", &models);
    let out = tmp.path().join("run");
    // Generous timeouts: sim/fast answers in ~50 ms; the stalls are 5 s.
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &["--ttft-timeout", "1500ms", "--idle-timeout", "1500ms"],
    );
    // Some rows are ok, so the run itself is not a failure.
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let (rows, recs) = by_model(&out, models.len());
    let row = |m: &str| &rows[m];
    let rec = |m: &str| &recs[m];

    // Retried before the first token: 1 + --max-retries (default 3) attempts.
    for (m, kind) in [
        ("sim/fast+429+retry-after-0", ErrorKind::RateLimited),
        ("sim/fast+500", ErrorKind::ServerError),
        ("sim/fast+502", ErrorKind::ServerError),
        ("sim/fast+503", ErrorKind::ServerError),
    ] {
        assert_error(row(m), kind, 4);
        assert_nothing_arrived(row(m), rec(m));
    }
    // Never retried.
    for (m, kind) in [
        ("sim/fast+401", ErrorKind::Auth),
        ("sim/fast+404", ErrorKind::ModelNotFound),
        ("sim/fast+400", ErrorKind::BadRequest),
        ("sim/fast+stall-ttft-5000", ErrorKind::TimeoutTtft),
    ] {
        assert_error(row(m), kind, 1);
        assert_nothing_arrived(row(m), rec(m));
    }
    assert!(row("sim/fast+401")
        .error_message
        .as_deref()
        .unwrap()
        .contains("Invalid API key"));
    assert!(row("sim/fast+404")
        .error_message
        .as_deref()
        .unwrap()
        .contains("not found"));
    // Mid-stream failures: not retried by default; the row keeps what arrived.
    for (m, kind) in [
        ("sim/fast+stall-mid-5000", ErrorKind::TimeoutIdle),
        ("sim/fast+cut-mid", ErrorKind::StreamInterrupted),
        ("sim/fast+error-event", ErrorKind::StreamError),
        ("sim/fast+malformed", ErrorKind::MalformedStream),
    ] {
        assert_error(row(m), kind, 1);
        assert_partial(row(m), rec(m));
        assert!(!rec(m).itl_us.is_empty(), "{m}: gaps of the partial answer");
    }
    assert!(row("sim/fast+error-event")
        .error_message
        .as_deref()
        .unwrap()
        .contains("Upstream provider error"));
    // No usage: an answer, but tokens and cost are unknown, never estimated.
    let nu = row("sim/fast+no-usage");
    assert_eq!(nu.status, Status::Ok, "{nu:?}");
    assert_eq!(nu.attempts, 1);
    assert!(nu.ttft_ms.is_some() && nu.duration_ms.is_some(), "{nu:?}");
    assert_eq!((nu.input_tokens, nu.output_tokens), (None, None), "{nu:?}");
    // The cost is the gateway's generation record's, looked up after the answer.
    assert_eq!(nu.cost_source, CostSource::Generation);
    assert!(!rec("sim/fast+no-usage").text.is_empty());
    // Flaky: the retry succeeds, and the row says how many attempts it took.
    let f = row("sim/fast+429+flaky-1+retry-after-0");
    assert_eq!((f.status, f.attempts), (Status::Ok, 2), "{f:?}");
    assert_eq!(f.error_kind, None);
    assert!(f.output_tokens.unwrap() > 0 && f.cost_source == CostSource::Generation);
    let f = row("sim/fast+503+flaky-2+retry-after-0");
    assert_eq!((f.status, f.attempts), (Status::Ok, 3), "{f:?}");

    // The terminal shows errors by kind per model, with the fix hint.
    let stdout = String::from_utf8_lossy(&res.stdout);
    for (m, kind) in [
        ("sim/fast+429+retry-after-0", "rate_limited"),
        ("sim/fast+500", "server_error"),
        ("sim/fast+401", "auth"),
        ("sim/fast+404", "model_not_found"),
        ("sim/fast+400", "bad_request"),
        ("sim/fast+stall-ttft-5000", "timeout_ttft"),
        ("sim/fast+stall-mid-5000", "timeout_idle"),
        ("sim/fast+cut-mid", "stream_interrupted"),
        ("sim/fast+error-event", "stream_error"),
        ("sim/fast+malformed", "malformed_stream"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains(&format!(" {m} ")) && l.contains(&format!(" {kind} "))),
            "errors table has a `{m}` / `{kind}` line:\n{stdout}"
        );
    }
    for hint in [
        "lower --concurrency",
        "AI_GATEWAY_API_KEY",
        "evalgate models",
        "--retry-midstream",
        "--idle-timeout",
        "--ttft-timeout",
    ] {
        assert!(stdout.contains(hint), "hint `{hint}` shown:\n{stdout}");
    }
    // The summary counts the same errors by kind.
    let summary = summary(&out);
    let m = summary
        .models
        .iter()
        .find(|m| m.model == "sim/fast+cut-mid")
        .unwrap();
    assert_eq!(m.errors, 1);
    assert_eq!(m.errors_by_kind.get("stream_interrupted"), Some(&1));
}

#[test]
fn fault_rates_hit_some_requests_and_rows_still_equal_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "rates", &["sim/fast+401@0.5"]);
    let out = tmp.path().join("run");
    let res = run_sim(tmp.path(), &suite, &out, &["--repeat", "16"]);
    assert!(matches!(res.status.code(), Some(0 | 3)), "{}", text(&res));
    let rows = rows(&out);
    assert_eq!(rows.len(), 16);
    let auth = rows
        .iter()
        .filter(|r| r.error_kind == Some(ErrorKind::Auth))
        .count();
    let ok = rows.iter().filter(|r| r.status == Status::Ok).count();
    assert_eq!(auth + ok, 16, "{rows:#?}");
    assert!(
        auth > 0 && ok > 0,
        "a 0.5 rate hits some, not all: {auth} auth"
    );
    assert!(rows.iter().all(|r| r.attempts == 1), "401 is never retried");
}

#[test]
fn retry_budget_and_max_retries_bound_the_attempts() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "budget", &["sim/fast+503+retry-after-0"]);
    // One at a time, so the first job spends the whole run-wide budget.
    let out = tmp.path().join("budget");
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &["--repeat", "4", "--concurrency", "1", "--retry-budget", "2"],
    );
    assert_eq!(
        res.status.code(),
        Some(3),
        "nothing succeeded: {}",
        text(&res)
    );
    let first = rows(&out);
    assert_eq!(first.len(), 4);
    let mut attempts: Vec<u32> = first.iter().map(|r| r.attempts).collect();
    attempts.sort();
    assert_eq!(attempts, [1, 1, 1, 3], "budget of 2 retries: {first:#?}");
    assert!(first
        .iter()
        .all(|r| r.error_kind == Some(ErrorKind::ServerError)));

    let out = tmp.path().join("noretry");
    let res = run_sim(
        tmp.path(),
        &suite,
        &out,
        &["--repeat", "3", "--max-retries", "0"],
    );
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    assert!(rows(&out).iter().all(|r| r.attempts == 1));

    let out = tmp.path().join("two");
    let res = run_sim(tmp.path(), &suite, &out, &["--max-retries", "2"]);
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    assert_eq!(rows(&out)[0].attempts, 3);
}

#[test]
fn midstream_failures_are_retried_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "mid", &["sim/fast+cut-mid+flaky-1"]);
    let out = tmp.path().join("default");
    let res = run_sim(tmp.path(), &suite, &out, &[]);
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    let r = &rows(&out)[0];
    assert_error(r, ErrorKind::StreamInterrupted, 1);

    let out = tmp.path().join("retried");
    let res = run_sim(tmp.path(), &suite, &out, &["--retry-midstream"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let r = &rows(&out)[0];
    assert_eq!((r.status, r.attempts), (Status::Ok, 2), "{r:?}");
    assert!(r.output_tokens.unwrap() > 0);
}

#[test]
fn timeout_flags_and_suite_timeouts_map_to_their_kinds() {
    let tmp = tempfile::tempdir().unwrap();
    // --timeout: a whole request slower than the limit, cut mid-answer.
    let suite = one_case_suite(
        tmp.path(),
        "total",
        &["sim/ttft-20-itl-100-tok-40-jitter-0"],
    );
    let out = tmp.path().join("total");
    let res = run_sim(tmp.path(), &suite, &out, &["--timeout", "800ms"]);
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    let (by, recs) = by_model(&out, 1);
    let (row, rec) = (by.values().next().unwrap(), recs.values().next().unwrap());
    assert_error(row, ErrorKind::TimeoutTotal, 1);
    assert_partial(row, rec);
    assert!(row.error_message.as_deref().unwrap().contains("800ms"));

    // `timeouts:` in the suite, no flag: the suite's ttft and idle limits apply.
    let suite = suite_file(
        tmp.path(),
        "suite-timeouts.yaml",
        "name: st\nmodels: [sim/fast+stall-ttft-5000, sim/fast+stall-mid-5000, sim/fast]\ntimeouts: {ttft: 1500ms, idle: 1500ms}\ncases:\n  - id: a\n    prompt: Say hello.\n",
    );
    let out = tmp.path().join("suite");
    let res = run_sim(tmp.path(), &suite, &out, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let (by, _) = by_model(&out, 3);
    assert_error(&by["sim/fast+stall-ttft-5000"], ErrorKind::TimeoutTtft, 1);
    assert_error(&by["sim/fast+stall-mid-5000"], ErrorKind::TimeoutIdle, 1);
    assert_eq!(by["sim/fast"].status, Status::Ok);

    // The flag wins over the suite: a longer --ttft-timeout lets it finish.
    let suite = suite_file(
        tmp.path(),
        "flag-wins.yaml",
        "name: fw\nmodels: [sim/fast+stall-ttft-300]\ntimeouts: {ttft: 100ms}\ncases:\n  - id: a\n    prompt: Say hello.\n",
    );
    let out = tmp.path().join("flag");
    let res = run_sim(tmp.path(), &suite, &out, &["--ttft-timeout", "5s"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(rows(&out)[0].status, Status::Ok);
}

/// A loopback listener whose accept queue is full, so a new connection's
/// SYN is dropped and `connect` hangs until the client's connect timeout.
fn unconnectable_listener() -> (std::net::TcpListener, Vec<std::net::TcpStream>) {
    let sock = socket_listen_backlog_zero();
    let addr = sock.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(s) =
            std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
        {
            fillers.push(s);
        }
    }
    (sock, fillers)
}

fn socket_listen_backlog_zero() -> std::net::TcpListener {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a fresh descriptor we own; the
    // descriptor is handed to TcpListener, which closes it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket()");
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
            },
            sin_zero: [0; 8],
        };
        let rc = libc::bind(
            fd,
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "bind()");
        assert_eq!(libc::listen(fd, 0), 0, "listen()");
        std::net::TcpListener::from_raw_fd(fd)
    }
}

#[test]
fn connect_timeout_and_refused_connections_are_connect_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = one_case_suite(tmp.path(), "conn", &["openai/gpt-5"]);
    let (listener, _fillers) = unconnectable_listener();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let out = tmp.path().join("timeout");
    let started = std::time::Instant::now();
    let res = run_gateway(
        tmp.path(),
        &url,
        "k-test",
        &[
            suite.to_str().unwrap(),
            "--no-catalog",
            "--connect-timeout",
            "300ms",
            "--max-retries",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    let r = &rows(&out)[0];
    assert_error(r, ErrorKind::Connect, 1);
    let msg = r.error_message.as_deref().unwrap();
    assert!(
        msg.contains("deadline has elapsed") || msg.contains("timed out"),
        "a connect timeout, not a refusal: {msg}"
    );
    // The 10 s default would have been used without the flag.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "--connect-timeout 300ms took {:?}",
        started.elapsed()
    );
    drop(listener);

    // Nothing listening: connection refused, retried, then a connect row.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = tmp.path().join("refused");
    let res = run_gateway(
        tmp.path(),
        &format!("http://127.0.0.1:{port}/v1"),
        "k-test",
        &[
            suite.to_str().unwrap(),
            "--no-catalog",
            "--max-retries",
            "1",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    assert_error(&rows(&out)[0], ErrorKind::Connect, 2);
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("could not reach the gateway"), "{stdout}");
}

#[test]
fn sim_command_fault_flag_applies_to_every_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sim = bin()
        .args(["sim", "--addr", "127.0.0.1:0", "--fault", "cut-mid"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in `{line}`"))
        .to_string();
    let suite = one_case_suite(tmp.path(), "global", &["sim/fast", "sim/slow"]);
    let out = tmp.path().join("run");
    let res = run_gateway(
        tmp.path(),
        &url,
        "k-test",
        &[suite.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    sim.kill().unwrap();
    sim.wait().unwrap();
    assert_eq!(res.status.code(), Some(3), "{}", text(&res));
    let (rows, recs) = by_model(&out, 2);
    for m in ["sim/fast", "sim/slow"] {
        assert_error(&rows[m], ErrorKind::StreamInterrupted, 1);
        assert_partial(&rows[m], &recs[m]);
    }
}
