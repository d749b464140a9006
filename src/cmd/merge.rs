//! `evalgate merge`: shards or repeated runs into one run directory, then
//! the merged table.

use crate::cli::MergeArgs;
use crate::merge::{self, MergeError};
use crate::report::table;
use crate::usage;

/// 0 when merged; 2 for inputs that cannot be merged.
pub fn run(args: &MergeArgs) -> anyhow::Result<i32> {
    let summary = merge::merge(&args.runs, &args.out, args.force).map_err(|e| match e {
        MergeError::Report(_) | MergeError::Journal(_) | MergeError::Metrics(_) => {
            anyhow::Error::new(e)
        }
        other => usage!("{other}"),
    })?;
    println!("{}", table::comparison_table(&summary));
    println!(
        "merged {} runs into {}/ (requests.csv, summary.csv, summary.json, responses.jsonl, report.md, junit.xml)",
        args.runs.len(),
        args.out.display()
    );
    Ok(crate::exit::OK)
}
