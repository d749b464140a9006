//! `report.html` as a person sees it: the quickstart run rendered by headless
//! Chromium (screenshot + DOM after parsing), its charts checked for real
//! data, no console messages, and no API key anywhere in the page.
//!
//! Chromium is required: without it these tests fail with the install hint.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use evalgate::sim::SimConfig;

use crate::common::*;

/// `/usr/bin/chromium`, or `chromium` / `chromium-browser` on PATH.
fn chromium() -> PathBuf {
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return fixed;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("chromium not found: install chromium: apt-get install chromium");
}

/// Run headless Chromium on a local file with a fresh profile and no
/// network features; killed after a generous two minutes.
fn headless(page: &Path, profile: &Path, extra: &[&str]) -> Output {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts (install chromium: apt-get install chromium)");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait for chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("chromium output")
}

/// Console messages, uncaught errors and blocked loads Chromium logged.
fn page_problems(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Refused to")
                || l.contains("report.html")
        })
        .map(str::to_string)
        .collect()
}

/// Run the quickstart against the in-process sim into `<tmp>/run`.
fn quickstart(tmp: &Path) -> PathBuf {
    let out = tmp.join("run");
    let suite = repo().join("suites/quickstart.yaml");
    let res = run_sim(tmp, &suite, &out, &["--repeat", "4"]);
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert!(String::from_utf8_lossy(&res.stdout).contains("report.html"));
    out
}

/// The `<figure>` whose caption starts with `caption`, from a DOM dump.
fn figure<'a>(dom: &'a str, caption: &str) -> &'a str {
    let start = dom
        .find(&format!("<figcaption>{caption}"))
        .unwrap_or_else(|| panic!("no figure `{caption}` in the page"));
    let rest = &dom[start..];
    &rest[..rest.find("</figure>").expect("figure closes")]
}

/// `data-points` of every series path in a chart.
fn series_points(fig: &str) -> Vec<usize> {
    fig.split("<path class=\"series")
        .skip(1)
        .map(|p| {
            let v = p.split("data-points=\"").nth(1).expect("data-points");
            v[..v.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

#[test]
fn quickstart_report_renders_in_chromium_with_real_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let run = quickstart(tmp.path());
    let page = run.join("report.html");
    let models = summary(&run).models.len();
    assert_eq!(models, 4);

    let shot = tmp.path().join("shot.png");
    let res = headless(
        &page,
        &tmp.path().join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
        ],
    );
    assert!(res.status.success(), "chromium: {}", text(&res));
    assert_eq!(page_problems(&res.stderr), Vec::<String>::new());
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 20_000, "screenshot is only {} bytes", png.len());

    let res = headless(&page, &tmp.path().join("profile-dom"), &["--dump-dom"]);
    assert!(res.status.success(), "chromium: {}", text(&res));
    assert_eq!(page_problems(&res.stderr), Vec::<String>::new());
    let dom = String::from_utf8(res.stdout).unwrap();

    assert!(dom.contains("class=\"banner\""), "simulated banner missing");
    assert!(dom.contains("SIMULATED"));
    let table = dom.split("<h2>Models</h2>").nth(1).unwrap();
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr>").count(),
        1 + models,
        "header + one row per model"
    );
    // 20 answers per model: each CDF is a staircase with many steps.
    for caption in ["Time to first token (CDF)", "Duration (CDF)"] {
        let points = series_points(figure(&dom, caption));
        assert_eq!(points.len(), models, "{caption}: one line per model");
        assert!(points.iter().all(|&n| n >= 8), "{caption}: {points:?}");
    }
    let speed = figure(&dom, "Output speed");
    assert_eq!(speed.matches("<g class=\"box").count(), models);
    let scatter = figure(&dom, "Cost per request vs pass rate");
    assert_eq!(scatter.matches("<circle class=\"point").count(), models);
    for m in ["sim/fast", "sim/balanced", "sim/slow", "sim/reasoning"] {
        assert!(scatter.contains(&format!(">{m}</text>")), "{m} unlabelled");
    }
    // Every chart is described for screen readers.
    assert_eq!(
        dom.matches("<svg class=\"chart").count(),
        dom.matches("role=\"img\"").count()
    );
    assert!(dom.contains("No failed checks"));

    // `evalgate report --format html` renders the same page again.
    let again = tmp.path().join("again.html");
    let res = evalgate(
        &[
            "report",
            run.to_str().unwrap(),
            "--format",
            "html",
            "-o",
            again.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        std::fs::read_to_string(&page).unwrap()
    );
}

#[test]
fn report_html_never_contains_the_api_key() {
    const KEY: &str = "sk-evalgate-test-7f3a9c1e5b";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(sim(SimConfig {
        required_key: Some(KEY.into()),
        ..SimConfig::default()
    }));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let suite = repo().join("suites/quickstart.yaml");
    let res = run_gateway(
        tmp.path(),
        &sim.base_url(),
        KEY,
        &[suite.to_str().unwrap(), "--out", out.to_str().unwrap()],
    );
    assert_eq!(res.status.code(), Some(0), "{}", text(&res));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // The run really used the key: the sim answered every request.
    assert!(summary(&out).models.iter().all(|m| m.ok == m.requests));
    assert!(html.contains(&sim.base_url()));
    assert!(!html.contains(KEY), "the API key leaked into report.html");
    assert!(!html.contains("7f3a9c1e5b"));
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
        assert!(!found, "the API key leaked into {}", path.display());
    }
}
