//! Run history: every run lands in SQLite by default (or a REAL PostgreSQL
//! started by the test), reads back exactly, feeds `trend` with the same
//! figures as the run directories, and gives `--baseline last|last-green`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use evalgate::history::{Entry, History, HistoryError, HistoryRows, HistoryTarget};
use evalgate::report::RequestsCsv;

use crate::common::*;
use crate::compare::{ok_run, sim_run};

fn stdout(args: &[&str], dir: &Path) -> String {
    let res = evalgate(args, dir);
    assert_eq!(res.status.code(), Some(0), "{args:?}: {}", text(&res));
    String::from_utf8(res.stdout).unwrap()
}

/// The store holds exactly what the run directories hold.
async fn assert_round_trip(target: &HistoryTarget, runs: &[PathBuf]) {
    let h = History::open(target).await.expect("history opens");
    assert_eq!(h.schema_versions().await.unwrap(), vec![1]);
    let stored = h.runs("cmp").await.unwrap();
    assert_eq!(stored.len(), runs.len());
    for (s, dir) in stored.iter().zip(runs) {
        assert_eq!(s.summary, summary(dir), "{}", dir.display());
        let back = h.load(&s.id).await.unwrap();
        assert_eq!(back.rows, rows(dir));
        assert_eq!(back.summary, summary(dir));
    }
}

/// A run of more rows than one write batch reads back whole; a
/// `requests.csv` that breaks after several batches fails the append and
/// leaves the earlier entry of that run exactly as it was.
async fn assert_batched_and_atomic(d: &Path, target: &HistoryTarget, run: &Path) {
    let one = rows(run);
    let many: Vec<_> = one.iter().cycle().take(2500).cloned().collect();
    let csv = d.join("big-requests.csv");
    let mut w = RequestsCsv::create(&csv).unwrap();
    for r in &many {
        w.write(r).unwrap();
    }
    w.finish().unwrap();
    let mut big = summary(run);
    big.run.suite = "cmp-big".into();
    let entry = Entry {
        summary: &big,
        exit_code: 0,
        run_dir: Some(run),
        rows: HistoryRows::All,
    };
    let mut h = History::open(target).await.unwrap();
    let rows = || evalgate::report::stream_requests(&csv).unwrap();
    let id = h
        .append(&entry, rows())
        .await
        .expect("append streams the rows");
    assert_eq!(h.load(&id).await.unwrap().rows, many);

    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("not,a,request,row\n");
    std::fs::write(&csv, text).unwrap();
    let err = h
        .append(&entry, rows())
        .await
        .expect_err("a broken csv fails");
    assert!(matches!(err, HistoryError::Requests(_)), "{err}");
    let runs = h.runs("cmp-big").await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, id);
    assert_eq!(h.load(&id).await.unwrap().rows, many, "rolled back whole");
}

/// Two runs, trend from the directories and from the store, then the
/// baselines `last` and `last-green`. `history` is the `--history` value.
async fn exercise(d: &Path, history: &[&str], target: &HistoryTarget) {
    let with =
        |extra: &[&'static str]| -> Vec<&str> { extra.iter().chain(history).copied().collect() };
    let r1 = ok_run(d, "results/cmp/r1", &with(&["-n", "10", "--seed", "1"]));
    let r2 = ok_run(d, "results/cmp/r2", &with(&["-n", "10", "--seed", "2"]));
    assert_round_trip(target, &[r1.clone(), r2.clone()]).await;
    assert_batched_and_atomic(d, target, &r1).await;

    let from_dirs = stdout(&["trend", "results/cmp", "--csv"], d);
    let mut trend = vec!["trend", "--suite", "cmp", "--csv"];
    trend.extend_from_slice(history);
    let from_store = stdout(&trend, d);
    assert_eq!(from_dirs, from_store);
    assert_eq!(from_dirs.lines().count(), 1 + 2 * 2, "{from_dirs}");
    let p50 = summary(&r2).models[0].ttft_p50_ms.unwrap();
    assert!(from_store.contains(&format!(",{p50},")), "{from_store}");
    let table = stdout(&["trend", "results/cmp"], d);
    assert!(table.contains("r1") && table.contains("r2"), "{table}");

    // `compare last <run>` picks the run before it.
    let mut cmp = vec![
        "compare",
        "last",
        "results/cmp/r2",
        "--threshold",
        "ttft=60%,duration=60%",
    ];
    cmp.extend_from_slice(history);
    let out = stdout(&cmp, d);
    // Named by its directory, not by its history id.
    assert!(out.contains("baseline: results/cmp/r1"), "{out}");

    // A much slower run against `last` fails and is stored as not green
    // (the effect is large: these runs follow each other on a busy machine,
    // and what is tested here is the wiring, not the statistics)...
    let res = sim_run(
        d,
        "results/cmp/r3",
        &with(&[
            "-n",
            "10",
            "--seed",
            "3",
            "--sim-ttft-scale",
            "2",
            "--baseline",
            "last",
        ]),
    );
    assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("baseline: results/cmp/r2"), "{out}");
    // ...so `last-green` skips it and compares with r2.
    let res = sim_run(
        d,
        "results/cmp/r4",
        &with(&[
            "-n",
            "10",
            "--seed",
            "4",
            "--baseline",
            "last-green",
            "--threshold",
            "ttft=60%,duration=60%",
        ]),
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let out = String::from_utf8_lossy(&res.stdout);
    assert!(out.contains("baseline: results/cmp/r2"), "{out}");
    let h = History::open(target).await.unwrap();
    let runs = h.runs("cmp").await.unwrap();
    let codes: Vec<i64> = runs.iter().map(|r| r.exit_code).collect();
    assert_eq!(codes, vec![0, 0, 1, 0]);

    // --no-history leaves the store alone.
    ok_run(d, "results/cmp/r5", &with(&["--no-history"]));
    assert_eq!(h.runs("cmp").await.unwrap().len(), 4);
    prune_and_rows(d, history, target).await;
}

/// One passing and one failing case: every run exits 1.
const TINY: &str = r#"
name: tiny
models: [sim/ttft-5-itl-1-tok-4]
cases:
  - {id: pass, prompt: "hello", assert: [{type: max_ttft_ms, value: 60000}]}
  - {id: fail, prompt: "hello there", assert: [{type: contains, value: "never-in-an-answer"}]}
"#;

/// `--history-rows failed|none` store only failing rows / none (summaries
/// always); `history list` shows the runs; `history prune --keep-last 1`
/// after five runs leaves one, deletes its rows and (SQLite) shrinks the file.
async fn prune_and_rows(d: &Path, history: &[&str], target: &HistoryTarget) {
    let suite = suite_file(d, "tiny.yaml", TINY);
    let run = |out: &str, rows: &str| {
        let mut extra = vec!["-n", "20", "--history-rows", rows];
        extra.extend_from_slice(history);
        let res = run_sim(d, &suite, Path::new(out), &extra);
        assert_eq!(res.status.code(), Some(1), "{}", text(&res));
    };
    run("results/tiny/1", "failed");
    run("results/tiny/2", "none");
    for i in 3..=5 {
        run(&format!("results/tiny/{i}"), "all");
    }
    let h = History::open(target).await.unwrap();
    let runs = h.runs("tiny").await.unwrap();
    assert_eq!(runs.len(), 5);
    let failed_only = h.load(&runs[0].id).await.unwrap();
    assert_eq!(failed_only.rows.len(), 20, "only the failing case's rows");
    assert!(failed_only.rows.iter().all(|r| r.case_id == "fail"));
    assert_eq!(failed_only.summary.models[0].requests, 40, "summary whole");
    assert!(h.load(&runs[1].id).await.unwrap().rows.is_empty());
    assert_eq!(h.load(&runs[4].id).await.unwrap().rows.len(), 40);

    let mut list = vec!["history", "list", "--suite", "tiny"];
    list.extend_from_slice(history);
    let out = stdout(&list, d);
    assert!(out.contains("5 runs, 140 rows"), "{out}");
    assert!(out.contains(&runs[0].id) && !out.contains("cmp"), "{out}");

    let before = h.size().await.unwrap();
    let mut prune = vec!["history", "prune", "--keep-last", "1", "--suite", "tiny"];
    prune.extend_from_slice(history);
    let out = stdout(&prune, d);
    assert!(out.contains("pruned 4 runs and 100 rows"), "{out}");
    let h = History::open(target).await.unwrap();
    let left = h.runs("tiny").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, runs[4].id, "the newest stays");
    assert_eq!(h.load(&left[0].id).await.unwrap().rows.len(), 40);
    assert_eq!(
        h.runs("cmp").await.unwrap().len(),
        4,
        "other suites untouched"
    );
    if let HistoryTarget::Sqlite(path) = target {
        let after = std::fs::metadata(path).unwrap().len();
        assert!(
            after < before,
            "VACUUM shrinks the file: {before} -> {after}"
        );
    }
    let mut bad = vec!["history", "prune", "--suite", "tiny"];
    bad.extend_from_slice(history);
    assert_eq!(evalgate(&bad, d).status.code(), Some(2), "needs a rule");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_history_round_trips_and_feeds_trend_and_baselines() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let target = HistoryTarget::Sqlite(d.join("results/history.sqlite"));
    exercise(d, &[], &target).await;
    assert!(d.join("results/history.sqlite").is_file());
}

/// A throwaway PostgreSQL server in a temp dir, stopped on drop.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    user: Option<String>,
    port: u16,
    _dir: tempfile::TempDir,
}

fn pg_bin() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .max();
    found.expect("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: install PostgreSQL: apt-get install postgresql")
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        match &self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        }
    }

    fn start() -> Postgres {
        let bin = pg_bin();
        let dir = tempfile::Builder::new()
            .prefix("pg")
            .tempdir_in("/tmp")
            .unwrap();
        // PostgreSQL refuses to run as root: use its own account (or nobody).
        let user = (unsafe { libc::geteuid() } == 0).then(|| {
            let has_postgres = Command::new("id")
                .arg("postgres")
                .output()
                .is_ok_and(|o| o.status.success());
            if has_postgres { "postgres" } else { "nobody" }.to_string()
        });
        if let Some(u) = &user {
            let st = Command::new("chown")
                .arg("-R")
                .arg(u)
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success(), "chown {u} {}", dir.path().display());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            bin,
            data: dir.path().join("data"),
            user,
            port,
            _dir: dir,
        };
        let out = pg
            .command("initdb")
            .arg("-D")
            .arg(&pg.data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sock = pg._dir.path().display().to_string();
        let out = pg
            .command("pg_ctl")
            .arg("-D")
            .arg(&pg.data)
            .arg("-l")
            .arg(pg._dir.path().join("log"))
            .arg("-o")
            .arg(format!(
                "-k {sock} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
            ))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(pg._dir.path().join("log")).unwrap_or_default()
        );
        pg
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_history_round_trips_and_feeds_trend_and_baselines() {
    let pg = Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let url = pg.url();
    let target = HistoryTarget::Postgres(url.clone());
    exercise(d, &["--history", &url], &target).await;
    assert!(
        !d.join("results/history.sqlite").exists(),
        "PostgreSQL replaces SQLite"
    );
    // Opening again applies no migration twice.
    let h = History::open(&target).await.unwrap();
    assert_eq!(h.schema_versions().await.unwrap(), vec![1]);
    // EVALGATE_HISTORY_URL works like --history.
    let suite = d.join("cmp.yaml");
    let res = bin()
        .args([
            "run",
            suite.to_str().unwrap(),
            "--sim",
            "--no-progress",
            "--out",
            "results/cmp/env",
        ])
        .env("EVALGATE_HISTORY_URL", &url)
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(h.runs("cmp").await.unwrap().len(), 5);
}
