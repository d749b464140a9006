//! The first round of a run. `run --warmup`: the connection pool is opened
//! with `HEAD /models` before the first timed request, so every chat request
//! runs on a warm connection (a counting TCP proxy between the harness and
//! the sim sees each connection's first request line). `run --ramp-up`: the
//! first round's starts are spread over the given time.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use evalgate::sim::SimConfig;

use crate::common::*;

/// Forward every connection to `upstream`; returns the proxy's port and the
/// first line each accepted connection sent.
fn proxy(upstream: std::net::SocketAddr) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().unwrap().port();
    let firsts = Arc::new(Mutex::new(Vec::new()));
    let seen = firsts.clone();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let seen = seen.clone();
            thread::spawn(move || {
                let server = TcpStream::connect(upstream).expect("connect to the sim");
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut s_read, mut c_write) = (server, client);
                thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(Shutdown::Write);
                });
                let mut buf = vec![0u8; 16 * 1024];
                let mut first = true;
                loop {
                    let n = match c_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if first {
                        let line = String::from_utf8_lossy(&buf[..n]);
                        seen.lock()
                            .unwrap()
                            .push(line.lines().next().unwrap_or("").to_string());
                        first = false;
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(Shutdown::Write);
            });
        }
    });
    (port, firsts)
}

fn run_through_proxy(warmup: bool) -> (Vec<String>, usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig::default()));
    let (port, firsts) = proxy(sim.addr());
    let tmp = tempfile::tempdir().unwrap();
    let s = suite_file(
        tmp.path(),
        "w.yaml",
        "name: w\nmodels: [sim/ttft-20-itl-2-tok-4-jitter-0]\ncases:\n  - id: a\n    prompt: hello\n",
    );
    let out = tmp.path().join("run");
    let gateway = format!("http://127.0.0.1:{port}/v1");
    let mut args = vec![
        "run",
        s.to_str().unwrap(),
        "--gateway",
        &gateway,
        "--key-env",
        "WARMUP_TEST_KEY",
        "--no-progress",
        "--no-catalog",
        // Generation lookups use a pool of their own; this test counts the
        // connections of the timed requests only.
        "--no-lookup",
        "-c",
        "4",
        "--repeat",
        "12",
        "--out",
        out.to_str().unwrap(),
    ];
    if warmup {
        args.push("--warmup");
    }
    let res = bin()
        .args(&args)
        .env("WARMUP_TEST_KEY", "dummy")
        .current_dir(tmp.path())
        .output()
        .expect("evalgate runs");
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let n = rows(&out).len();
    let firsts = firsts.lock().unwrap().clone();
    drop(sim);
    (firsts, n)
}

#[test]
fn warmup_opens_the_pool_before_the_first_chat_request() {
    let (firsts, rows) = run_through_proxy(true);
    assert_eq!(rows, 12, "warm-up requests are not rows");
    // The warm-up runs before the timed run: the first connection opened
    // carries a catalog request, and the warm-up opens connections
    // concurrently rather than one at a time.
    assert!(firsts[0].starts_with("HEAD /v1/models "), "{firsts:?}");
    let warm = firsts
        .iter()
        .filter(|l| l.starts_with("HEAD /v1/models "))
        .count();
    assert!((2..=4).contains(&warm), "{firsts:?}");
    // Usually every slot's connection is warm (all 4 start with the GET);
    // hyper hands a small response's connection back to the pool before the
    // caller reads the body, and on a loaded machine a warm-up request can
    // reuse it while the connection dialled for it is still opening, so
    // that one's first request may be a chat request. Connections are
    // reused either way: far fewer than the 12 requests.
    assert!(firsts.len() <= 6, "{firsts:?}");
    // Without the flag the same run connects on its first chat requests.
    let (firsts, rows) = run_through_proxy(false);
    assert_eq!(rows, 12);
    assert!(
        firsts
            .iter()
            .all(|l| l.starts_with("POST /v1/chat/completions ")),
        "{firsts:?}"
    );
}

#[test]
fn ramp_up_spreads_the_first_round_and_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    // One case, one model: job k is the k-th start. Requests take ~600 ms,
    // longer than the ramp, so the whole first round is in flight at once.
    let s = suite_file(
        tmp.path(),
        "r.yaml",
        "name: r\nmodels: [sim/ttft-600-itl-2-tok-4-jitter-0]\ncases:\n  - id: a\n    prompt: hello\n",
    );
    let out = tmp.path().join("run");
    let res = run_sim(
        tmp.path(),
        &s,
        &out,
        &["-c", "10", "--repeat", "20", "--ramp-up", "500ms"],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let mut rows = rows(&out);
    assert_eq!(rows.len(), 20);
    rows.sort_by_key(|r| r.job);
    // Start k of the first 10 waits until 50·k ms after the run began (a
    // timer never fires early). The model's jobs are started one after the
    // other, each queued from the previous start, so their queue times add
    // up to the start time (less a few µs per job; 25 ms allows for a
    // descheduled thread). The wait is queue time, not TTFT.
    let mut started = 0.0;
    for r in &rows[..10] {
        started += r.queue_ms.expect("queue_ms");
        let due = 50.0 * r.job as f64;
        assert!(
            started >= due - 25.0,
            "job {} started at {started} ms",
            r.job
        );
        let ttft = r.ttft_ms.expect("ttft");
        assert!((595.0..1500.0).contains(&ttft), "job {} ttft {ttft}", r.job);
    }
    assert!(rows[0].queue_ms.unwrap() < 100.0, "{:?}", rows[0].queue_ms);
    // The second round starts as first-round requests finish: no ramp.
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["options"]["ramp_up_ms"], 500, "{meta}");

    // An open-loop schedule has its own send times.
    let res = run_sim(
        tmp.path(),
        &s,
        &tmp.path().join("rate"),
        &["--rate", "5", "--ramp-up", "1s"],
    );
    assert_eq!(res.status.code(), Some(2), "{}", text(&res));
}
