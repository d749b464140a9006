//! A full disk loses no paid answer: when the journal cannot be written the
//! run starts no new request, keeps the answers of those in flight in
//! memory and writes them once it can, exits 3 saying what to do, leaves no
//! temporary file, and `--resume` sends only what was never sent.
//!
//! The full disk is an `RLIMIT_FSIZE` on the child (with `SIGXFSZ` ignored,
//! writes past it fail with `EFBIG`, as on a full filesystem), raised with
//! `prlimit` once the child reports the failure: space freed while it waits.
//! It needs no mount, no root and no extra package.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use evalgate::record::Status;

use crate::common::*;

const KEY: &str = "disk-test-key";

fn set_fsize(pid: libc::pid_t, soft: u64) {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit on our own child's pid with a valid rlimit struct.
    let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &lim, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[test]
fn a_full_disk_keeps_the_answers_in_flight_and_resume_sends_nothing_twice() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(Default::default()));
    let tmp = tempfile::tempdir().unwrap();
    let suite = suite_file(
        tmp.path(),
        "disk.yaml",
        "name: disk\nmodels: [sim/ttft-100-itl-5-tok-20-jitter-0]\ncases:\n  - id: a\n    prompt: Tell me about disks.\n",
    );
    let run_dir = tmp.path().join("run");
    let jobs = 30;
    let mut cmd = bin();
    cmd.args(["run", suite.to_str().unwrap(), "--gateway", &sim.base_url()])
        .args(["--no-progress", "--no-catalog", "--no-history"])
        .args(["--repeat", &jobs.to_string(), "--concurrency", "4", "--out"])
        .arg(&run_dir)
        .env("AI_GATEWAY_API_KEY", KEY)
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 6 * 1024,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("evalgate starts");
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("no new requests; the answers of those in flight are kept") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let failed = rx.recv_timeout(Duration::from_secs(60)).is_ok();
    if failed {
        // Space is freed while the answers wait in memory.
        set_fsize(pid, libc::RLIM_INFINITY);
    }
    let out = child.wait_with_output().unwrap();
    let err = reader.join().unwrap();
    assert!(failed, "the journal write failed and was reported: {err}");
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("every answer received was written once the disk allowed"),
        "{err}"
    );
    assert!(
        err.contains("Free disk space, then finish with: evalgate run --resume"),
        "{err}"
    );
    assert!(!run_dir.join(".run.json.tmp").exists());

    // Every request sent has its answer in the journal.
    let sent = sim.stats().requests;
    let journaled = records(&run_dir);
    assert!(
        sent > 0 && (sent as usize) < jobs,
        "stopped early: {sent} sent"
    );
    assert_eq!(journaled.len() as u64, sent, "no answer lost");

    let res = bin()
        .args([
            "run",
            "--resume",
            run_dir.to_str().unwrap(),
            "--no-progress",
        ])
        .env("AI_GATEWAY_API_KEY", KEY)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(sim.stats().requests, jobs as u64, "no job sent twice");
    let rows = rows(&run_dir);
    assert_eq!(rows.len(), jobs);
    assert!(rows.iter().all(|r| r.status == Status::Ok), "{rows:#?}");
}
