//! `evalgate merge`: shards or repeated runs into one run directory, then
//! the merged table; the merged run is appended to the history like a run.

use crate::cli::MergeArgs;
use crate::history::{Entry, HistoryTarget};
use crate::merge::{self, MergeError};
use crate::report::table;
use crate::usage;

/// 0 when merged; 2 for inputs that cannot be merged.
pub async fn run(args: &MergeArgs) -> anyhow::Result<i32> {
    let summary = merge::merge(&args.runs, &args.out, args.force, args.allow_partial).map_err(
        |e| match e {
            MergeError::Report(_) | MergeError::Journal(_) | MergeError::Metrics(_) => {
                anyhow::Error::new(e)
            }
            other => usage!("{other}"),
        },
    )?;
    println!(
        "{}",
        table::comparison_table(
            &summary,
            table::View::Compact {
                width: crate::term::width()
            }
        )
    );
    let n = args.runs.len();
    println!(
        "merged {n} run{} into {}/ ({})",
        if n == 1 { "" } else { "s" },
        args.out.display(),
        crate::report::formats::run_dir_files()
    );
    if let Some(why) = &summary.run.stopped_by {
        println!("the merged run is marked {why}");
    }
    if !args.no_history {
        // The merged run's own verdict, as `run` would give it.
        let code = if summary.run.stopped_by.is_some() {
            crate::exit::FAILED
        } else {
            crate::cmd::run::exit_code(&summary, summary.run.options.min_pass_rate, None, false)
        };
        let requests_csv = args.out.join("requests.csv");
        let target = HistoryTarget::from_flag(args.history.url.as_deref());
        let entry = Entry {
            summary: &summary,
            exit_code: code,
            run_dir: Some(&args.out),
            rows: args.history_rows,
        };
        match crate::cmd::compare::append(&target, &entry, &requests_csv).await {
            Ok(id) => println!("history: {} ({id})", target.display()),
            Err(e) => eprintln!(
                "warning: the merged run was not recorded in the history: {e}; pass --no-history to skip it"
            ),
        }
    }
    Ok(crate::exit::OK)
}
