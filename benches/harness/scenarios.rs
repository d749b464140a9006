//! The scenarios: TTFT accuracy and in-flight peaks at 1/100/1,000 streams,
//! closed-loop wall time, CPU against the bare client (with and without
//! progress lines), memory from 10k to 1M requests, and the sim's own speed
//! and pacing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::time::Duration;

use crate::procs::{self, Sim, Usage};
use crate::{Opts, Row};

const KEY_ENV: &str = "EVALGATE_BENCH_KEY";

pub fn all(o: &Opts, rows: &mut Vec<Row>) {
    type Scenario = fn(&Opts, &mut Vec<Row>);
    let scenarios: [(&str, Scenario); 5] = [
        ("ttft", ttft_and_inflight),
        ("wall", wall_time),
        ("cpu", cpu),
        ("memory", memory),
        ("sim", sim_speed),
    ];
    for (name, scenario) in scenarios {
        if o.only.is_empty() || o.only.iter().any(|n| n == name) {
            scenario(o, rows);
        }
    }
}

fn row(rows: &mut Vec<Row>, name: &str, target: &str, measured: String, pass: bool) {
    println!(
        "  {name}: {measured} (target {target}) → {}",
        if pass { "pass" } else { "FAIL" }
    );
    rows.push(Row {
        name: name.into(),
        target: target.into(),
        measured,
        pass: Some(pass),
    });
}

/// A figure shown for comparison, not a target.
fn info(rows: &mut Vec<Row>, name: &str, measured: String) {
    println!("  {name}: {measured}");
    rows.push(Row {
        name: name.into(),
        target: "—".into(),
        measured,
        pass: None,
    });
}

fn suite(o: &Opts, model: &str) -> PathBuf {
    let path = o.out.join(format!("{}.yaml", model.replace('/', "_")));
    let yaml = format!("name: bench\nmodels: [{model}]\ncases:\n  - id: a\n    prompt: hello\n");
    std::fs::write(&path, yaml).expect("write suite");
    path
}

/// Every run records its history (the default) into a file of its own: the
/// cost of recording a run must not depend on what earlier runs left in
/// `results/history.sqlite`.
fn fresh_history(o: &Opts, tag: &str) -> PathBuf {
    let path = o.out.join(format!("{tag}.history.sqlite"));
    let _ = std::fs::remove_file(&path);
    path
}

/// `evalgate run` against the separate sim (into a fresh `--out` under the
/// bench directory); returns its cost, its run dir, and what it had used when
/// `requests.csv` appeared (the end of the request phase).
fn run_harness(
    o: &Opts,
    sim: &Sim,
    model: &str,
    c: usize,
    n: u64,
    tag: &str,
    extra: &[&str],
) -> (Usage, PathBuf, procs::AtMarker) {
    let dir = o.out.join(tag);
    let mut cmd = Command::new(&o.bin);
    cmd.arg("run")
        .arg(suite(o, model))
        .args([
            "--gateway",
            &sim.base_url(),
            "--key-env",
            KEY_ENV,
            "--no-catalog",
        ])
        .args([
            "-c",
            &c.to_string(),
            "--repeat",
            &n.to_string(),
            "--force",
            "--out",
        ])
        .arg(&dir)
        .arg("--history")
        .arg(fresh_history(o, tag))
        .args(extra)
        .args(&o.run_args)
        .env(KEY_ENV, "bench-dummy-key");
    let (u, at) = procs::run_measured_until(
        cmd,
        &o.out.join(format!("{tag}.log")),
        &dir.join("requests.csv"),
    );
    assert_eq!(
        u.exit_code,
        0,
        "harness run {tag} failed: see {}/{tag}.log",
        o.out.display()
    );
    (u, dir, at)
}

/// `evalgate run` against the separate sim; returns its cost and run dir.
fn harness(
    o: &Opts,
    sim: &Sim,
    model: &str,
    c: usize,
    n: u64,
    tag: &str,
    extra: &[&str],
) -> (Usage, PathBuf) {
    let (u, dir, _) = run_harness(o, sim, model, c, n, tag, extra);
    (u, dir)
}

/// Like [`harness`], also returning the CPU used by the request phase.
fn harness_phases(
    o: &Opts,
    sim: &Sim,
    model: &str,
    c: usize,
    n: u64,
    tag: &str,
    extra: &[&str],
) -> (Usage, Duration) {
    let (u, _, at) = run_harness(o, sim, model, c, n, tag, extra);
    (u, at.cpu)
}

/// The bare client (this program's `baseline` subcommand) in its own process.
fn baseline(
    o: &Opts,
    sim: &Sim,
    model: &str,
    c: usize,
    n: u64,
    tag: &str,
    cpu: Option<u32>,
) -> Usage {
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = match cpu {
        Some(cpu) => {
            let mut t = Command::new("taskset");
            t.args(["-c", &cpu.to_string()]).arg(exe);
            t
        }
        None => Command::new(exe),
    };
    cmd.args([
        "baseline",
        &sim.base_url(),
        model,
        &c.to_string(),
        &n.to_string(),
    ]);
    let u = procs::run_measured(cmd, &o.out.join(format!("{tag}.log")));
    assert_eq!(u.exit_code, 0, "baseline {tag} failed");
    u
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Harness TTFT − sim TTFT per generation id, ms, sorted: all requests, and
/// those after the first `c` jobs (on warm connections: the first round also
/// pays for opening `c` connections at once).
fn ttft_overheads(sim: &Sim, run: &Path, c: usize) -> (Vec<f64>, Vec<f64>) {
    let stats = sim.get("/stats/requests").expect("GET /stats/requests");
    let server: HashMap<String, f64> = stats
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| {
            Some((
                r["id"].as_str()?.to_string(),
                r["server_ttft_us"].as_f64()? / 1e3,
            ))
        })
        .collect();
    let mut rdr = csv::Reader::from_path(run.join("requests.csv")).expect("requests.csv");
    let h = rdr.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect("column");
    let (gid, ttft, job) = (col("generation_id"), col("ttft_ms"), col("job"));
    let both: Vec<(u64, f64)> = rdr
        .records()
        .filter_map(|r| {
            let r = r.ok()?;
            let s = server.get(&r[gid])?;
            Some((r[job].parse().ok()?, r[ttft].parse::<f64>().ok()? - s))
        })
        .collect();
    let mut all: Vec<f64> = both.iter().map(|(_, d)| *d).collect();
    let mut warm: Vec<f64> = both
        .iter()
        .filter(|(j, _)| *j >= c as u64)
        .map(|(_, d)| *d)
        .collect();
    all.sort_by(f64::total_cmp);
    warm.sort_by(f64::total_cmp);
    (all, warm)
}

fn stat(sim: &Sim, key: &str) -> u64 {
    sim.get("/stats").expect("GET /stats")[key]
        .as_u64()
        .expect("counter")
}

/// The first round as a user measuring latency runs it: the pool opened
/// before the timed run (`--warmup`) and the first C starts spread over
/// C × 0.2 ms (`--ramp-up`: 20 ms at 100 streams, 200 ms at 1,000).
fn first_round_flags(c: usize) -> Vec<String> {
    let ramp_ms = c as f64 * 0.2;
    vec![
        "--warmup".into(),
        "--ramp-up".into(),
        format!("{ramp_ms}ms"),
    ]
}

/// One TTFT run: overheads (all requests, and jobs ≥ C), peak in flight and
/// the harness's peak RSS.
struct TtftRun {
    all: Vec<f64>,
    warm: Vec<f64>,
    peak: u64,
    rss_kib: u64,
}

fn ttft_run(
    o: &Opts,
    sim: &Sim,
    model: &str,
    c: usize,
    n: u64,
    tag: &str,
    flags: &[String],
) -> TtftRun {
    sim.reset();
    let mut extra = vec!["--no-progress"];
    extra.extend(flags.iter().map(String::as_str));
    let (u, dir) = harness(o, sim, model, c, n, tag, &extra);
    let (all, warm) = ttft_overheads(sim, &dir, c);
    assert_eq!(
        all.len() as u64,
        n,
        "every request matched to the sim's record"
    );
    let run = TtftRun {
        all,
        warm,
        peak: stat(sim, "peak_in_flight"),
        rss_kib: u.max_rss_kib,
    };
    println!(
        "  {tag} {}: n={n} overhead p50 {:.3} ms p99 {:.3} ms max {:.3} ms (jobs ≥ C: p99 {:.3}), peak in flight {}, maxrss {} KiB",
        flags.join(" "),
        percentile(&run.all, 0.5),
        percentile(&run.all, 0.99),
        run.all[run.all.len() - 1],
        percentile(&run.warm, 0.99),
        run.peak,
        run.rss_kib
    );
    run
}

fn ttft_and_inflight(o: &Opts, rows: &mut Vec<Row>) {
    println!("== TTFT accuracy and in-flight peaks (sim in its own process)");
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-ttft.log"));
    // ~0.85 s per request with jitter (σ 0.2), as real streams have.
    let model = "sim/ttft-500-itl-50-tok-8-jitter-0.2";
    let levels: [(usize, u64); 3] = if o.quick {
        [(1, 12), (100, 500), (1000, 3000)]
    } else {
        [(1, 30), (100, 1000), (1000, 6000)]
    };
    let mut ramped = HashMap::new();
    let mut burst = HashMap::new();
    for (c, n) in levels {
        let tag = format!("ttft-c{c}");
        ramped.insert(
            c,
            ttft_run(o, &sim, model, c, n, &tag, &first_round_flags(c)),
        );
        // The same without either flag: the first round dials C connections
        // and sends C requests in one instant on two shared cores.
        let tag = format!("ttft-burst-c{c}");
        burst.insert(c, ttft_run(o, &sim, model, c, n, &tag, &[]));
    }
    let p99 = |r: &TtftRun| percentile(&r.all, 0.99);
    row(
        rows,
        "TTFT overhead p50 @100 streams",
        "≤ 0.5 ms",
        format!("{:.3} ms", percentile(&ramped[&100].all, 0.5)),
        percentile(&ramped[&100].all, 0.5) <= 0.5,
    );
    let r100 = p99(&ramped[&100]);
    row(
        rows,
        "TTFT overhead p99 @100 streams (all requests)",
        "≤ 2 ms",
        format!("{r100:.3} ms"),
        r100 <= 2.0,
    );
    let (r1, r1000) = (p99(&ramped[&1]), p99(&ramped[&1000]));
    let ratio = r1000 / r1.max(1e-3);
    row(
        rows,
        "TTFT overhead p99 @1000 ÷ p99 @1 (all requests)",
        "≤ 2×",
        format!("{ratio:.2}× ({r1000:.3} / {r1:.3} ms)"),
        ratio <= 2.0,
    );
    let b100 = p99(&burst[&100]);
    let w100 = percentile(&burst[&100].warm, 0.99);
    info(
        rows,
        "… p99 @100 without --warmup/--ramp-up (all; jobs ≥ C)",
        format!("{b100:.3} ms; {w100:.3} ms"),
    );
    let (b1, b1000) = (p99(&burst[&1]), p99(&burst[&1000]));
    let (w1, w1000) = (
        percentile(&burst[&1].warm, 0.99),
        percentile(&burst[&1000].warm, 0.99),
    );
    info(
        rows,
        "… p99 @1000 ÷ @1 without them (all; jobs ≥ C)",
        format!(
            "{:.2}× ({b1000:.3} / {b1:.3} ms); {:.2}× ({w1000:.3} / {w1:.3} ms)",
            b1000 / b1.max(1e-3),
            w1000 / w1.max(1e-3)
        ),
    );
    for c in [1usize, 100, 1000] {
        let peak = ramped[&c].peak;
        row(
            rows,
            &format!("sim peak_in_flight @ -c {c}"),
            &format!("= {c}"),
            peak.to_string(),
            peak == c as u64,
        );
    }
    let (m1, m1000) = (ramped[&1].rss_kib, ramped[&1000].rss_kib);
    let per = (m1000 as f64 - m1 as f64) / 999.0;
    row(
        rows,
        "peak RSS per in-flight stream (c 1000 vs 1)",
        "≤ 64 KiB",
        format!("{per:.1} KiB ({m1} → {m1000} KiB)"),
        per <= 64.0,
    );
}

fn rfc3339(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).expect("rfc3339 time")
}

fn wall_time(o: &Opts, rows: &mut Vec<Row>) {
    println!("== closed-loop wall time");
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-wall.log"));
    let (n, c, s_ms) = (2000u64, 100usize, 200.0);
    let (_, dir) = harness(
        o,
        &sim,
        "sim/ttft-200-itl-0-tok-1-jitter-0",
        c,
        n,
        "wall",
        &["--no-progress"],
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).expect("run.json"))
            .expect("json");
    let start = rfc3339(meta["started_at"].as_str().expect("started_at"));
    let end = rfc3339(meta["ended_at"].as_str().expect("ended_at"));
    let ms = (end - start).num_microseconds().expect("span") as f64 / 1e3;
    let bound = 1.02 * n.div_ceil(c as u64) as f64 * s_ms + 50.0;
    row(
        rows,
        &format!("run phase, N={n} C={c} S={s_ms} ms"),
        &format!("≤ {bound:.0} ms"),
        format!(
            "{ms:.0} ms (ideal {:.0})",
            n.div_ceil(c as u64) as f64 * s_ms
        ),
        ms <= bound,
    );
}

fn cpu(o: &Opts, rows: &mut Vec<Row>) {
    // The machine's speed drifts by ±15 % over a minute, so each harness run
    // is paired with a bare-client run right before it, and the ratios are
    // the median over the pairs.
    let pairs = if o.quick { 3 } else { 5 };
    println!(
        "== CPU per request: harness vs bare reqwest client (median of {pairs} back-to-back pairs)"
    );
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-cpu.log"));
    let model = "sim/ttft-5-itl-2-tok-16-jitter-0";
    // 10,000 requests even with --quick: a run's fixed costs (creating the
    // history file, the HTML report) would otherwise weigh on the
    // per-request figure (≈ 7 µs per request more at 3,000).
    let (c, n) = (50usize, 10_000);
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    // Like for like: the bare client sends the chat requests only, so the
    // ratios above compare `--no-lookup` runs; the default run's generation
    // lookups (one more GET per answer) are measured as a row of their own.
    let (mut base, mut quiet, mut phase, mut lines) = (vec![], vec![], vec![], vec![]);
    let (mut whole_ratio, mut phase_ratio, mut lines_ratio) = (vec![], vec![], vec![]);
    let (mut looked, mut lookup_ratio) = (vec![], vec![]);
    let mut chunks = 0;
    for i in 0..pairs {
        sim.reset();
        let b = us(baseline(o, &sim, model, c, n, &format!("cpu-baseline-{i}"), None).cpu);
        chunks = stat(&sim, "chunks");
        let tag = format!("cpu-harness-{i}");
        let quiet_flags = ["--no-progress", "--no-lookup"];
        let (u, run_cpu) = harness_phases(o, &sim, model, c, n, &tag, &quiet_flags);
        let (q, p) = (us(u.cpu), us(run_cpu));
        let tag = format!("cpu-progress-{i}");
        let (progress, _) = harness_phases(o, &sim, model, c, n, &tag, &["--no-lookup"]);
        let tag = format!("cpu-lookups-{i}");
        let (lookups, _) = harness_phases(o, &sim, model, c, n, &tag, &["--no-progress"]);
        let (l, k) = (us(progress.cpu), us(lookups.cpu));
        println!("  pair {i}: bare {b:.1}, harness {q:.1} (request phase {p:.1}), with progress lines {l:.1}, with lookups {k:.1} µs/request");
        whole_ratio.push(q / b);
        phase_ratio.push(p / b);
        lines_ratio.push(l / q);
        lookup_ratio.push(k / b);
        looked.push(k);
        base.push(b);
        quiet.push(q);
        phase.push(p);
        lines.push(l);
    }
    let per_chunk = chunks as f64 / n as f64;
    let (base, quiet, phase, lines) = (median(base), median(quiet), median(phase), median(lines));
    let ratio = median(whole_ratio);
    row(
        rows,
        "harness CPU ÷ bare client CPU (whole process, --no-lookup)",
        "≤ 1.5×",
        format!(
            "{ratio:.2}× (medians {quiet:.1} vs {base:.1} µs/req; {:.2} vs {:.2} µs/chunk)",
            quiet / per_chunk,
            base / per_chunk
        ),
        ratio <= 1.5,
    );
    let r2 = median(phase_ratio);
    row(
        rows,
        "… request phase only (before requests.csv is written)",
        "≤ 1.5×",
        format!(
            "{r2:.2}× ({phase:.1} vs {base:.1} µs/req; writing the run dir {:.1} µs/req)",
            quiet - phase
        ),
        r2 <= 1.5,
    );
    let p = median(lines_ratio);
    row(
        rows,
        "progress lines CPU ÷ --no-progress CPU",
        "≤ 1.05× (noise)",
        format!("{p:.3}× ({lines:.1} vs {quiet:.1} µs/req)"),
        p <= 1.05,
    );
    let (k, looked) = (median(lookup_ratio), median(looked));
    info(
        rows,
        "… with generation lookups (the default: one more GET per answer)",
        format!(
            "{k:.2}× ({looked:.1} vs {base:.1} µs/req; the lookups {:.1} µs/req)",
            looked - quiet
        ),
    );
}

fn memory(o: &Opts, rows: &mut Vec<Row>) {
    println!("== peak RSS vs number of requests");
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-mem.log"));
    let model = "sim/ttft-0-itl-0-tok-2-jitter-0";
    let big = if o.quick { 100_000 } else { o.big };
    let mut rss = Vec::new();
    for n in [10_000u64, big] {
        let tag = format!("mem-{n}");
        let (u, dir, at) = run_harness(o, &sim, model, 256, n, &tag, &["--no-progress"]);
        let run_peak = at.max_rss_kib;
        println!(
            "  n={n}: request-phase peak {run_peak} KiB, process peak {} KiB, {:.1} s ({:.0} req/s incl. writing files)",
            u.max_rss_kib,
            u.wall.as_secs_f64(),
            n as f64 / u.wall.as_secs_f64()
        );
        rss.push((run_peak, u.max_rss_kib, u.wall));
        // The big run's journal and CSV are large: keep the disk clean.
        let _ = std::fs::remove_dir_all(dir);
    }
    let mib = |k: u64| k as f64 / 1024.0;
    let within =
        |a: u64, b: u64| (b as f64 - a as f64).abs() <= (a as f64 * 0.05).max(5.0 * 1024.0);
    row(
        rows,
        &format!("request-phase peak RSS @{big} vs @10k requests"),
        "within 5% or 5 MiB",
        format!("{:.1} vs {:.1} MiB", mib(rss[1].0), mib(rss[0].0)),
        within(rss[0].0, rss[1].0),
    );
    row(
        rows,
        &format!("whole-process peak RSS @{big} vs @10k (incl. reports)"),
        "within 5% or 5 MiB",
        format!(
            "{:.1} vs {:.1} MiB ({:.0} s for {big})",
            mib(rss[1].1),
            mib(rss[0].1),
            rss[1].2.as_secs_f64()
        ),
        within(rss[0].1, rss[1].1),
    );
}

fn sim_speed(o: &Opts, rows: &mut Vec<Row>) {
    println!("== sim speed on one core (sim pinned to CPU 1, client to CPU 0)");
    let sim = Sim::start(&o.bin, Some(1), &o.out.join("sim-speed.log"));
    let model = "sim/ttft-0-itl-1-tok-64-jitter-0";
    let (c, n) = (200usize, if o.quick { 1500 } else { 4000 });
    sim.reset();
    let cpu0 = procs::proc_cpu(sim.pid());
    let u = baseline(o, &sim, model, c, n, "sim-speed-client", Some(0));
    let cpu = procs::proc_cpu(sim.pid()) - cpu0;
    let chunks = stat(&sim, "chunks");
    let per_cpu_s = chunks as f64 / cpu.as_secs_f64().max(1e-3);
    let per_wall_s = chunks as f64 / u.wall.as_secs_f64();
    row(
        rows,
        "sim chunks per CPU-second (one core)",
        "≥ 50,000",
        format!(
            "{per_cpu_s:.0} ({chunks} chunks, {:.2} s CPU; {per_wall_s:.0}/s wall)",
            cpu.as_secs_f64()
        ),
        per_cpu_s >= 50_000.0,
    );
    // Pacing: 100 tokens at 5 ms after a 5 ms TTFT end at 500 ms, not later.
    sim.reset();
    baseline(
        o,
        &sim,
        "sim/ttft-5-itl-5-tok-100-jitter-0",
        1,
        3,
        "sim-pacing",
        Some(0),
    );
    let reqs = sim.get("/stats/requests").expect("GET /stats/requests");
    let durs: Vec<f64> = reqs
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["server_duration_us"].as_f64())
        .map(|us| us / 1e3)
        .collect();
    let worst = durs.iter().map(|d| (d - 500.0).abs()).fold(0.0, f64::max);
    row(
        rows,
        "sim pacing: 100 tokens @ 5 ms end at",
        "500 ± 3 ms",
        durs.iter()
            .map(|d| format!("{d:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
            + " ms",
        worst <= 3.0 && durs.len() == 3,
    );
}
