//! `evalgate compare` and the `run --baseline` / history hooks of `run`:
//! find the baseline (a directory or the history's `last` / `last-green`),
//! compare, print, and turn the verdicts into the exit code.

use std::path::Path;

use crate::cli::CompareArgs;
use crate::cmd::run_config::RunConfig;
use crate::compare::render::{self, RenderInput};
use crate::compare::{self, RunData, Thresholds};
use crate::exit;
use crate::history::{Entry, History, HistoryError, HistoryTarget};
use crate::report::RunSummary;
use crate::usage;

/// Exit codes: 1 when a metric regressed, 0 otherwise, 2 for bad input.
pub async fn run(args: &CompareArgs) -> anyhow::Result<i32> {
    let thresholds = Thresholds::parse(args.threshold.as_deref()).map_err(crate::exit::usage)?;
    let current = RunData::load(&args.current).map_err(crate::exit::usage)?;
    let baseline = match HistoryRef::parse(&args.baseline) {
        Some(which) => {
            let target = HistoryTarget::from_flag(args.history.url.as_deref());
            let history = open_for_reading(&target).await?;
            let suite = &current.summary.run.suite;
            let before = Some(current.summary.run.started_at.as_str());
            let id = history
                .latest(suite, which.green_only(), before)
                .await?
                .ok_or_else(|| {
                    usage!(
                        "no earlier {} of suite `{suite}` in the history {}; pass a run directory as the baseline",
                        which.describe(),
                        history.location()
                    )
                })?;
            let run = history.load(&id).await?;
            RunData {
                label: run.label,
                summary: run.summary,
                rows: run.rows,
            }
        }
        None => RunData::load(Path::new(&args.baseline)).map_err(crate::exit::usage)?,
    };
    let cmp = compare::compare(&baseline, &current, &thresholds);
    let format = render::by_name(&args.format).ok_or_else(|| {
        usage!(
            "unknown --format `{}`; choose one of {}",
            args.format,
            render::names().join(", ")
        )
    })?;
    let text = (format.render)(&RenderInput {
        cmp: &cmp,
        baseline: &baseline.summary,
        current: &current.summary,
        wide: args.wide,
        width: crate::term::width(),
    })?;
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            usage!(
                "cannot write {}: {e}; choose a writable --out",
                path.display()
            )
        })?,
        None => print!("{text}"),
    }
    Ok(cmp.exit_code())
}

/// `last` or `last-green`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HistoryRef {
    Last,
    LastGreen,
}

impl HistoryRef {
    fn parse(s: &str) -> Option<HistoryRef> {
        match s {
            "last" => Some(HistoryRef::Last),
            "last-green" => Some(HistoryRef::LastGreen),
            _ => None,
        }
    }

    fn green_only(self) -> bool {
        self == HistoryRef::LastGreen
    }

    fn describe(self) -> &'static str {
        match self {
            HistoryRef::Last => "run",
            HistoryRef::LastGreen => "green run (exit code 0)",
        }
    }
}

async fn open_for_reading(target: &HistoryTarget) -> anyhow::Result<History> {
    if let HistoryTarget::Sqlite(path) = target {
        if !path.is_file() {
            return Err(usage!(
                "no history at {}: runs are recorded there by `evalgate run` (unless --no-history); pass --history to read another store",
                path.display()
            ));
        }
    }
    History::open(target)
        .await
        .map_err(|e| usage!("{e}; check --history / EVALGATE_HISTORY_URL"))
}

/// What `run --baseline` compares with, resolved before anything is sent.
pub enum Baseline {
    /// A run directory, already read.
    Run(Box<RunData>),
    /// A run in the history store, by id.
    Stored(String),
    /// `last` / `last-green` found nothing: the run is not compared.
    Missing,
}

/// Everything `run` needs for its baseline, checked up front so bad input
/// stops the run before it spends anything.
pub struct RunGate {
    baseline: Option<Baseline>,
    thresholds: Thresholds,
}

/// Resolve `--baseline` and `--threshold` for a run of `suite`.
pub async fn prepare_run(cfg: &RunConfig, suite: &str) -> anyhow::Result<RunGate> {
    let thresholds = Thresholds::parse(cfg.threshold.as_deref()).map_err(crate::exit::usage)?;
    let baseline = match cfg.baseline.as_deref() {
        None => None,
        Some(b) => Some(match HistoryRef::parse(b) {
            None => Baseline::Run(Box::new(
                RunData::load(Path::new(b)).map_err(|e| usage!("--baseline: {e}"))?,
            )),
            Some(which) => {
                let target = cfg.history.clone();
                let found = match &target {
                    HistoryTarget::Sqlite(p) if !p.is_file() => None,
                    _ => {
                        let h = History::open(&target)
                            .await
                            .map_err(|e| usage!("--baseline {b}: {e}"))?;
                        h.latest(suite, which.green_only(), None).await?
                    }
                };
                match found {
                    Some(id) => Baseline::Stored(id),
                    None => {
                        eprintln!(
                            "note: no earlier {} of suite `{suite}` in the history {}; this run will not be compared",
                            which.describe(),
                            target.display()
                        );
                        Baseline::Missing
                    }
                }
            }
        }),
    };
    Ok(RunGate {
        baseline,
        thresholds,
    })
}

/// After a run: compare with the baseline (printing the comparison), then
/// append the run to the history with its final exit code. Returns the
/// worse of the run's own code and the comparison's.
pub async fn finish_run(
    cfg: &RunConfig,
    gate: RunGate,
    summary: &RunSummary,
    dir: &Path,
    code: i32,
) -> i32 {
    let want_history = !cfg.no_history;
    if gate.baseline.is_none() && !want_history {
        return code;
    }
    let target = cfg.history.clone();
    let requests_csv = dir.join("requests.csv");
    let mut final_code = code;
    let baseline = match gate.baseline {
        Some(Baseline::Run(b)) => Some(*b),
        Some(Baseline::Stored(id)) => match load_stored(&target, &id).await {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("error: cannot load the baseline {id} from the history: {e:#}");
                final_code = exit::worse(final_code, exit::RUN_FAILED);
                None
            }
        },
        Some(Baseline::Missing) | None => None,
    };
    if let Some(base) = baseline {
        // Only a comparison needs the rows in memory; the history streams them.
        let rows = match crate::report::read_requests(&requests_csv) {
            Ok(rows) => rows,
            Err(e) => return cannot_read_back(dir, &e, code),
        };
        let current = RunData {
            label: dir.display().to_string(),
            summary: summary.clone(),
            rows,
        };
        let cmp = compare::compare(&base, &current, &gate.thresholds);
        let table = if cfg.wide {
            render::table(&cmp)
        } else {
            render::compact_table(&cmp, crate::term::width())
        };
        println!("\n{table}");
        final_code = exit::worse(final_code, cmp.exit_code());
    }
    if want_history {
        let entry = Entry {
            summary,
            exit_code: final_code,
            run_dir: Some(dir),
            rows: cfg.history_rows,
        };
        match append(&target, &entry, &requests_csv).await {
            Ok(id) => {
                let line = format!("history: {} ({id})", target.display());
                if crate::term::columns(&line) <= crate::term::width() {
                    println!("{line}");
                } else {
                    println!("history: {}\n  run {id}", target.display());
                }
            }
            Err(HistoryError::Requests(e)) => return cannot_read_back(dir, &e, code),
            Err(e) => eprintln!(
                "warning: the run was not recorded in the history: {e:#}; pass --no-history to skip it"
            ),
        }
    }
    final_code
}

/// `requests.csv` of the finished run is unreadable: the run failed.
fn cannot_read_back(dir: &Path, e: &dyn std::fmt::Display, code: i32) -> i32 {
    eprintln!("error: cannot read back {}: {e}", dir.display());
    exit::worse(code, exit::RUN_FAILED)
}

async fn load_stored(target: &HistoryTarget, id: &str) -> anyhow::Result<RunData> {
    let run = History::open(target).await?.load(id).await?;
    Ok(RunData {
        label: run.label,
        summary: run.summary,
        rows: run.rows,
    })
}

/// Append a finished run, its rows streamed from its `requests.csv`.
pub async fn append(
    target: &HistoryTarget,
    entry: &Entry<'_>,
    requests_csv: &Path,
) -> Result<String, HistoryError> {
    let mut history = History::open(target).await?;
    let rows = crate::report::stream_requests(requests_csv)
        .map_err(|e| HistoryError::Requests(e.to_string()))?;
    history.append(entry, rows).await
}
