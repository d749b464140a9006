//! The scenarios: TTFT accuracy and in-flight peaks at 1/100/1,000 streams,
//! closed-loop wall time, CPU against the bare client (with and without
//! progress lines), memory from 10k to 1M requests, and the sim's own speed
//! and pacing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::procs::{self, Sim, Usage};
use crate::{Opts, Row};

const KEY_ENV: &str = "EVALGATE_BENCH_KEY";

pub fn all(o: &Opts, rows: &mut Vec<Row>) {
    ttft_and_inflight(o, rows);
    wall_time(o, rows);
    cpu(o, rows);
    memory(o, rows);
    sim_speed(o, rows);
}

fn row(rows: &mut Vec<Row>, name: &str, target: &str, measured: String, pass: bool) {
    println!("  {name}: {measured} (target {target}) → {}", if pass { "pass" } else { "FAIL" });
    rows.push(Row {
        name: name.into(),
        target: target.into(),
        measured,
        pass,
    });
}

fn suite(o: &Opts, model: &str) -> PathBuf {
    let path = o.out.join(format!("{}.yaml", model.replace('/', "_")));
    let yaml = format!("name: bench\nmodels: [{model}]\ncases:\n  - id: a\n    prompt: hello\n");
    std::fs::write(&path, yaml).expect("write suite");
    path
}

/// `evalgate run` against the separate sim; returns its cost and run dir.
fn harness(o: &Opts, sim: &Sim, model: &str, c: usize, n: u64, tag: &str, extra: &[&str]) -> (Usage, PathBuf) {
    let dir = o.out.join(tag);
    let mut cmd = Command::new(&o.bin);
    cmd.arg("run")
        .arg(suite(o, model))
        .args(["--gateway", &sim.base_url(), "--key-env", KEY_ENV, "--no-catalog"])
        .args(["-c", &c.to_string(), "--repeat", &n.to_string(), "--force", "--out"])
        .arg(&dir)
        .args(extra)
        .env(KEY_ENV, "bench-dummy-key");
    let u = procs::run_measured(cmd, &o.out.join(format!("{tag}.log")));
    assert_eq!(u.exit_code, 0, "harness run {tag} failed: see {}/{tag}.log", o.out.display());
    (u, dir)
}

/// The bare client (this program's `baseline` subcommand) in its own process.
fn baseline(o: &Opts, sim: &Sim, model: &str, c: usize, n: u64, tag: &str, cpu: Option<u32>) -> Usage {
    let exe = std::env::current_exe().expect("own path");
    let mut cmd = match cpu {
        Some(cpu) => {
            let mut t = Command::new("taskset");
            t.args(["-c", &cpu.to_string()]).arg(exe);
            t
        }
        None => Command::new(exe),
    };
    cmd.args(["baseline", &sim.base_url(), model, &c.to_string(), &n.to_string()]);
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

/// Harness TTFT − sim TTFT per generation id, ms, sorted.
fn ttft_overheads(sim: &Sim, run: &Path) -> Vec<f64> {
    let stats = sim.get("/stats/requests").expect("GET /stats/requests");
    let server: HashMap<String, f64> = stats
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| Some((r["id"].as_str()?.to_string(), r["server_ttft_us"].as_f64()? / 1e3)))
        .collect();
    let mut rdr = csv::Reader::from_path(run.join("requests.csv")).expect("requests.csv");
    let h = rdr.headers().expect("header").clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect("column");
    let (gid, ttft) = (col("generation_id"), col("ttft_ms"));
    let mut out: Vec<f64> = rdr
        .records()
        .filter_map(|r| {
            let r = r.ok()?;
            let s = server.get(&r[gid])?;
            Some(r[ttft].parse::<f64>().ok()? - s)
        })
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

fn stat(sim: &Sim, key: &str) -> u64 {
    sim.get("/stats").expect("GET /stats")[key].as_u64().expect("counter")
}

fn ttft_and_inflight(o: &Opts, rows: &mut Vec<Row>) {
    println!("== TTFT accuracy and in-flight peaks (sim in its own process)");
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-ttft.log"));
    let model = "sim/ttft-100-itl-10-tok-8-jitter-0";
    let levels: [(usize, u64); 3] = if o.quick {
        [(1, 30), (100, 1000), (1000, 3000)]
    } else {
        [(1, 60), (100, 2000), (1000, 5000)]
    };
    let mut res = HashMap::new();
    for (c, n) in levels {
        sim.reset();
        let (u, dir) = harness(o, &sim, model, c, n, &format!("ttft-c{c}"), &["--no-progress"]);
        let d = ttft_overheads(&sim, &dir);
        assert_eq!(d.len() as u64, n, "every request matched to the sim's record");
        let peak = stat(&sim, "peak_in_flight");
        let (p50, p99) = (percentile(&d, 0.5), percentile(&d, 0.99));
        println!("  c={c}: n={n} overhead p50 {p50:.3} ms p99 {p99:.3} ms, peak in flight {peak}, maxrss {} KiB", u.max_rss_kib);
        res.insert(c, (p50, p99, peak, u.max_rss_kib));
    }
    let (p50, p99, _, _) = res[&100];
    row(rows, "TTFT overhead p50 @100 streams", "≤ 0.5 ms", format!("{p50:.3} ms"), p50 <= 0.5);
    row(rows, "TTFT overhead p99 @100 streams", "≤ 2 ms", format!("{p99:.3} ms"), p99 <= 2.0);
    let (r1, r1000) = (res[&1].1, res[&1000].1);
    let ratio = r1000 / r1.max(1e-3);
    row(
        rows,
        "TTFT overhead p99 @1000 ÷ p99 @1",
        "≤ 2×",
        format!("{ratio:.2}× ({r1000:.3} / {r1:.3} ms)"),
        ratio <= 2.0,
    );
    for c in [1usize, 100, 1000] {
        let peak = res[&c].2;
        row(rows, &format!("sim peak_in_flight @ -c {c}"), &format!("= {c}"), peak.to_string(), peak == c as u64);
    }
    let per = (res[&1000].3 as f64 - res[&1].3 as f64) / 999.0;
    row(
        rows,
        "peak RSS per in-flight stream (c 1000 vs 1)",
        "≤ 64 KiB",
        format!("{per:.1} KiB ({} → {} KiB)", res[&1].3, res[&1000].3),
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
    let (_, dir) = harness(o, &sim, "sim/ttft-200-itl-0-tok-1-jitter-0", c, n, "wall", &["--no-progress"]);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).expect("run.json")).expect("json");
    let start = rfc3339(meta["started_at"].as_str().expect("started_at"));
    let end = rfc3339(meta["ended_at"].as_str().expect("ended_at"));
    let ms = (end - start).num_microseconds().expect("span") as f64 / 1e3;
    let bound = 1.02 * n.div_ceil(c as u64) as f64 * s_ms + 50.0;
    row(
        rows,
        &format!("run phase, N={n} C={c} S={s_ms} ms"),
        &format!("≤ {bound:.0} ms"),
        format!("{ms:.0} ms (ideal {:.0})", n.div_ceil(c as u64) as f64 * s_ms),
        ms <= bound,
    );
}

fn cpu(o: &Opts, rows: &mut Vec<Row>) {
    println!("== CPU per request: harness vs bare reqwest client");
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-cpu.log"));
    let model = "sim/ttft-5-itl-2-tok-16-jitter-0";
    let (c, n) = (50usize, if o.quick { 3000 } else { 10_000 });
    let mut measure = |tag: &str, f: &mut dyn FnMut() -> Usage| {
        sim.reset();
        let u = f();
        let chunks = stat(&sim, "chunks");
        let per_req = u.cpu.as_secs_f64() * 1e6 / n as f64;
        let per_chunk = u.cpu.as_secs_f64() * 1e6 / chunks.max(1) as f64;
        println!("  {tag}: cpu {:.3} s wall {:.2} s → {per_req:.1} µs/request, {per_chunk:.2} µs/chunk ({chunks} chunks)", u.cpu.as_secs_f64(), u.wall.as_secs_f64());
        (per_req, per_chunk)
    };
    let base = measure("bare client", &mut || baseline(o, &sim, model, c, n, "cpu-baseline", None));
    let quiet = measure("harness --no-progress", &mut || harness(o, &sim, model, c, n, "cpu-harness", &["--no-progress"]).0);
    let lines = measure("harness with progress lines", &mut || harness(o, &sim, model, c, n, "cpu-progress", &[]).0);
    let ratio = quiet.0 / base.0;
    row(
        rows,
        "harness CPU ÷ bare client CPU",
        "≤ 1.5×",
        format!("{ratio:.2}× ({:.1} vs {:.1} µs/req; {:.2} vs {:.2} µs/chunk)", quiet.0, base.0, quiet.1, base.1),
        ratio <= 1.5,
    );
    let p = lines.0 / quiet.0;
    row(
        rows,
        "progress lines CPU ÷ --no-progress CPU",
        "≤ 1.05× (noise)",
        format!("{p:.3}× ({:.1} vs {:.1} µs/req)", lines.0, quiet.0),
        p <= 1.05,
    );
}

fn memory(o: &Opts, rows: &mut Vec<Row>) {
    println!("== peak RSS vs number of requests");
    let sim = Sim::start(&o.bin, None, &o.out.join("sim-mem.log"));
    let model = "sim/ttft-0-itl-0-tok-2-jitter-0";
    let big = if o.quick { 100_000 } else { o.big };
    let mut rss = Vec::new();
    for n in [10_000u64, big] {
        let t = Instant::now();
        let (u, dir) = harness(o, &sim, model, 256, n, &format!("mem-{n}"), &["--no-progress"]);
        println!("  n={n}: maxrss {} KiB, {:.1} s ({:.0} req/s incl. writing files)", u.max_rss_kib, t.elapsed().as_secs_f64(), n as f64 / t.elapsed().as_secs_f64());
        rss.push(u.max_rss_kib);
        // The big run's journal and CSV are large: keep the disk clean.
        let _ = std::fs::remove_dir_all(dir);
    }
    let (small, large) = (rss[0] as f64, rss[1] as f64);
    let allowed = (small * 0.05).max(5.0 * 1024.0);
    row(
        rows,
        &format!("peak RSS @{big} vs @10k requests"),
        "within 5% or 5 MiB",
        format!("{:.1} vs {:.1} MiB (Δ {:+.1} MiB)", large / 1024.0, small / 1024.0, (large - small) / 1024.0),
        (large - small).abs() <= allowed,
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
        format!("{per_cpu_s:.0} ({chunks} chunks, {:.2} s CPU; {per_wall_s:.0}/s wall)", cpu.as_secs_f64()),
        per_cpu_s >= 50_000.0,
    );
    // Pacing: 100 tokens at 5 ms after a 5 ms TTFT end at 500 ms, not later.
    sim.reset();
    baseline(o, &sim, "sim/ttft-5-itl-5-tok-100-jitter-0", 1, 3, "sim-pacing", Some(0));
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
        durs.iter().map(|d| format!("{d:.1}")).collect::<Vec<_>>().join(", ") + " ms",
        worst <= 3.0 && durs.len() == 3,
    );
    let _ = Duration::ZERO;
}
