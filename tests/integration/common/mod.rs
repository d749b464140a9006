//! Helpers: start the sim on port 0, run the binary, read run directories.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use evalgate::record::{RequestRow, ResponseRecord};
use evalgate::report::RunSummary;
use evalgate::sim::{SimConfig, SimServer};

/// Start the simulated gateway on a free loopback port.
pub async fn sim(cfg: SimConfig) -> SimServer {
    evalgate::sim::start(cfg, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("sim starts on loopback")
}

/// The release or debug binary cargo built for these tests.
pub fn bin() -> Command {
    scrubbed(Command::new(env!("CARGO_BIN_EXE_evalgate")))
}

/// `bash -c LINE` in `dir` with the test binary first on `PATH` as
/// `evalgate`, in the same scrubbed environment as [`bin`]; `env` adds
/// variables. Runs README commands and GitHub Actions steps as written.
pub fn shell(line: &str, dir: &Path, env: &[(&str, &str)]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_evalgate")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut cmd = scrubbed(Command::new("bash"));
    cmd.arg("-c").arg(line).current_dir(dir).env("PATH", path);
    cmd.envs(env.iter().copied());
    cmd.output().expect("bash runs")
}

fn scrubbed(mut cmd: Command) -> Command {
    // Never let a developer's real environment leak into a test.
    for var in [
        "AI_GATEWAY_API_KEY",
        "VERCEL_OIDC_TOKEN",
        "AI_GATEWAY_BASE_URL",
        "EVALGATE_HISTORY_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("XDG_CACHE_HOME", test_cache_dir());
    // Tables fit the terminal: a fixed width, so neither the developer's
    // COLUMNS nor the CI's decides what the tests read. Tests of the
    // 80-column rule set their own.
    cmd.env("COLUMNS", "120");
    cmd
}

/// A catalog cache directory of its own for each invocation. The cache is
/// keyed by gateway URL, and test servers listen on random loopback ports: a
/// shared cache could answer for a port another server had earlier (in this
/// run or a previous one) and list other models. Kept under one directory
/// per test process, emptied on first use.
fn test_cache_dir() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let root = ROOT.get_or_init(|| {
        let dir = std::env::temp_dir()
            .join("evalgate-test-cache")
            .join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        dir
    });
    root.join(
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string(),
    )
}

/// Run `evalgate` with args; returns the output (stdout, stderr, status).
pub fn evalgate(args: &[&str], dir: &Path) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("evalgate runs")
}

/// `evalgate run <suite> --sim --no-progress --out <out> <extra>` in `dir`.
pub fn run_sim(dir: &Path, suite: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        suite.to_str().unwrap(),
        "--sim",
        "--no-progress",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    evalgate(&args, dir)
}

/// `evalgate run --gateway <url> --no-progress <args>` in `dir`, with `key`
/// in AI_GATEWAY_API_KEY.
pub fn run_gateway(dir: &Path, url: &str, key: &str, args: &[&str]) -> Output {
    bin()
        .args(["run", "--gateway", url, "--no-progress"])
        .args(args)
        .env("AI_GATEWAY_API_KEY", key)
        .current_dir(dir)
        .output()
        .expect("evalgate runs")
}

pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A temp dir holding a suite file written from `yaml`.
pub fn suite_file(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("write suite");
    path
}

/// A one-case suite `NAME.yaml` named NAME over `models`.
pub fn one_case_suite(dir: &Path, name: &str, models: &[&str]) -> PathBuf {
    let list = models
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    suite_file(
        dir,
        &format!("{name}.yaml"),
        &format!("name: {name}\nmodels: [{list}]\ncases:\n  - id: a\n    prompt: Say hello to the support team.\n"),
    )
}

/// Serve `app` on a free loopback port; returns its base URL (`…/v1`).
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A streamed answer "Hello" (3 prompt tokens, 1 completion token) whose
/// `usage.cost` is `cost`, written as given.
pub fn hello_answer(cost: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let content = r#"{"id":"gen_1","choices":[{"index":0,"delta":{"content":"Hello"}}]}"#;
    let finish = format!(
        r#"{{"id":"gen_1","choices":[{{"index":0,"delta":{{}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":1,"cost":{cost}}}}}"#
    );
    let sse = format!("data: {content}\n\ndata: {finish}\n\ndata: [DONE]\n\n");
    ([("content-type", "text/event-stream")], sse).into_response()
}

/// `evalgate run SUITE --gateway URL --no-progress --no-catalog
/// --no-history EXTRA --out run` in `dir` with `key`; the output and the
/// rows of `dir/run`.
pub fn run_no_catalog(
    dir: &Path,
    url: &str,
    key: &str,
    suite: &Path,
    extra: &[&str],
) -> (Output, Vec<RequestRow>) {
    let mut args = vec![suite.to_str().unwrap(), "--no-catalog", "--no-history"];
    args.extend_from_slice(extra);
    args.extend(["--out", "run"]);
    let out = run_gateway(dir, url, key, &args);
    let run = dir.join("run");
    assert!(run.join("requests.csv").exists(), "no rows: {}", text(&out));
    let rows = rows(&run);
    (out, rows)
}

pub fn rows(run: &Path) -> Vec<RequestRow> {
    evalgate::report::csv::read_requests(&run.join("requests.csv")).expect("requests.csv parses")
}

pub fn records(run: &Path) -> Vec<ResponseRecord> {
    evalgate::journal::read_all(run).expect("journal parses")
}

pub fn summary(run: &Path) -> RunSummary {
    evalgate::report::json::read_summary(&run.join("summary.json")).expect("summary.json parses")
}

/// The repository root (for shipped suites).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
