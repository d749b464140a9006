//! The evalgate benchmark: the optimised binary against `evalgate sim` in a
//! separate process on loopback, each target measured within one run and
//! printed as a table (target, measured, pass/fail). See BENCHMARKS.md.
//!
//! `cargo bench --bench harness -- [--bin PATH] [--out DIR] [--quick]
//! [--big N] [--only ttft,wall,cpu,memory,sim] [--run-args "FLAGS"]` (`bench/run.sh` builds the `profiling` binary and runs this).

mod baseline;
mod procs;
mod scenarios;

use std::path::PathBuf;

/// Options of one benchmark run.
pub struct Opts {
    pub bin: PathBuf,
    pub out: PathBuf,
    pub quick: bool,
    /// Requests of the large memory run.
    pub big: u64,
    /// Scenarios to run (`--only ttft,cpu`); empty: all.
    pub only: Vec<String>,
    /// Extra flags for every `evalgate run` (`--run-args "--no-lookup"`).
    pub run_args: Vec<String>,
}

/// One line of the result table.
pub struct Row {
    pub name: String,
    pub target: String,
    pub measured: String,
    /// `None`: shown for comparison only.
    pub pass: Option<bool>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("baseline") {
        return baseline::main(&args[1..]);
    }
    let mut opts = Opts {
        bin: PathBuf::from("target/profiling/evalgate"),
        out: PathBuf::from("target/bench"),
        quick: false,
        big: 1_000_000,
        only: Vec::new(),
        run_args: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bin" => opts.bin = PathBuf::from(it.next().expect("--bin PATH")),
            "--out" => opts.out = PathBuf::from(it.next().expect("--out DIR")),
            "--quick" => opts.quick = true,
            "--big" => opts.big = it.next().and_then(|n| n.parse().ok()).expect("--big N"),
            "--only" => {
                let names = it.next().expect("--only ttft,wall,cpu,memory,sim");
                opts.only = names.split(',').map(str::to_string).collect();
            }
            "--run-args" => {
                let flags = it.next().expect("--run-args \"--no-lookup\"");
                opts.run_args = flags.split_whitespace().map(str::to_string).collect();
            }
            // cargo bench passes --bench; anything else is a mistake.
            "--bench" => {}
            other => panic!("unknown argument {other}; see benches/harness/main.rs"),
        }
    }
    assert!(
        opts.bin.is_file(),
        "{} is missing: run `cargo build --profile profiling` first (bench/run.sh does)",
        opts.bin.display()
    );
    let _ = std::fs::remove_dir_all(&opts.out);
    std::fs::create_dir_all(&opts.out).expect("create the output directory");
    raise_fd_limit();
    let mut rows = Vec::new();
    scenarios::all(&opts, &mut rows);
    let table = render(&rows);
    println!("\n{table}");
    std::fs::write(opts.out.join("table.md"), &table).expect("write table.md");
    println!("written: {}", opts.out.join("table.md").display());
    if rows.iter().any(|r| r.pass == Some(false)) {
        std::process::exit(1);
    }
}

fn render(rows: &[Row]) -> String {
    let mut s = String::from("| target | required | measured | result |\n|---|---|---|---|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.name,
            r.target,
            r.measured,
            match r.pass {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "info",
            }
        ));
    }
    s
}

/// Children (the sim with 1,000 sockets) inherit the raised limit.
fn raise_fd_limit() {
    // SAFETY: plain syscalls on an owned struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
