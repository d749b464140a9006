//! `evalgate history list|prune`: what the run history holds, and keeping
//! it small.

use crate::cli::{HistoryArgs, HistoryCommand};
use crate::history::{History, HistoryTarget, Prune};
use crate::usage;

/// Exit 0, or 2 when there is no store to read.
pub async fn run(cmd: &HistoryCommand) -> anyhow::Result<i32> {
    match cmd {
        HistoryCommand::List(args) => {
            let history = open(&args.history).await?;
            let runs = history.list(args.suite.as_deref()).await?;
            let mut t = tabled::builder::Builder::default();
            t.push_record(["run", "suite", "started", "exit", "rows", "size"]);
            for r in &runs {
                t.push_record([
                    r.id.clone(),
                    r.suite.clone(),
                    // `2026-11-29T20:28:03.76…+00:00` → `2026-11-29 20:28:03`
                    r.started_at
                        .get(..19)
                        .unwrap_or(&r.started_at)
                        .replace('T', " "),
                    r.exit_code.to_string(),
                    r.rows.to_string(),
                    human_bytes(r.bytes),
                ]);
            }
            println!("{}", t.build().with(tabled::settings::Style::sharp()));
            let size = history.size().await?;
            println!(
                "{} runs, {} rows in {} ({})",
                runs.len(),
                runs.iter().map(|r| r.rows).sum::<u64>(),
                history.location(),
                human_bytes(size)
            );
        }
        HistoryCommand::Prune(args) => {
            let which = match (args.keep_last, args.older_than) {
                (Some(n), _) => Prune::KeepLast(n),
                (None, Some(age)) => {
                    let age = chrono::Duration::from_std(age)
                        .map_err(|_| usage!("--older-than is too large"))?;
                    Prune::OlderThan(chrono::Utc::now() - age)
                }
                (None, None) => return Err(usage!("give --keep-last N or --older-than AGE")),
            };
            let mut history = open(&args.history).await?;
            let r = history.prune(&which, args.suite.as_deref()).await?;
            println!(
                "pruned {} runs and {} rows from {}: {} → {}",
                r.runs,
                r.rows,
                history.location(),
                human_bytes(r.bytes_before),
                human_bytes(r.bytes_after)
            );
        }
    }
    Ok(crate::exit::OK)
}

async fn open(args: &HistoryArgs) -> anyhow::Result<History> {
    let target = HistoryTarget::from_flag(args.url.as_deref());
    if let HistoryTarget::Sqlite(p) = &target {
        if !p.is_file() {
            return Err(usage!(
                "no history at {}; runs are recorded there by `evalgate run`, or pass --history URL|PATH",
                p.display()
            ));
        }
    }
    History::open(&target)
        .await
        .map_err(|e| usage!("{e}; check --history / EVALGATE_HISTORY_URL"))
}

/// `812 B`, `14.2 KB`, `3.1 MB`.
fn human_bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}
