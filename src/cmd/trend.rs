//! `evalgate trend`: a suite's runs over time from `results/<suite>/` or
//! from the history store, as a table or CSV.

use crate::cli::TrendArgs;
use crate::history::{History, HistoryTarget};
use crate::trend::{self, TrendPoint};
use crate::usage;

/// Print the trend; 0 on success, 2 when there is nothing to show.
pub async fn run(args: &TrendArgs) -> anyhow::Result<i32> {
    let points: Vec<TrendPoint> = match (&args.dir, &args.suite) {
        (Some(dir), _) => trend::from_dir(dir).map_err(crate::exit::usage)?,
        (None, Some(suite)) => {
            let target = HistoryTarget::from_flag(args.history.url.as_deref());
            if let HistoryTarget::Sqlite(p) = &target {
                if !p.is_file() {
                    return Err(usage!(
                        "no history at {}; runs are recorded there by `evalgate run`, or pass --history / a results directory",
                        p.display()
                    ));
                }
            }
            let history = History::open(&target).await.map_err(crate::exit::usage)?;
            let runs = history.runs(suite).await?;
            if runs.is_empty() {
                return Err(usage!(
                    "no runs of suite `{suite}` in the history {}",
                    history.location()
                ));
            }
            runs.iter()
                .flat_map(|r| {
                    let name = r
                        .run_dir
                        .as_deref()
                        .map_or_else(|| r.id.clone(), trend::run_name);
                    trend::points(&name, &r.summary)
                })
                .collect()
        }
        (None, None) => return Err(usage!("give a results directory or --suite NAME")),
    };
    if args.csv {
        print!("{}", trend::csv(&points)?);
    } else {
        println!("{}", trend::table(&points));
    }
    Ok(crate::exit::OK)
}
