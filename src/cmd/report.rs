//! `evalgate report <RUN>`: render a finished run's reports again from its
//! `summary.json`, `requests.csv` and journal.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;

use crate::cli::ReportArgs;
use crate::journal::JournalReader;
use crate::record::ResponseRecord;
use crate::report;
use crate::usage;

/// Every row of the run: the journal's records, and `requests.csv` rows the
/// journal lacks (jobs never run) as empty-answer records.
pub fn run_records(dir: &Path) -> anyhow::Result<Vec<ResponseRecord>> {
    let mut journal: HashMap<u64, ResponseRecord> = HashMap::new();
    if let Some(reader) = JournalReader::open(dir)? {
        for rec in reader.flatten() {
            journal.insert(rec.row.job, rec);
        }
    }
    let rows = report::csv::read_requests(&dir.join("requests.csv"))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            journal
                .remove(&row.job)
                .unwrap_or_else(|| ResponseRecord::from_row(row))
        })
        .collect())
}

pub fn run(args: &ReportArgs) -> anyhow::Result<i32> {
    let summary_path = args.run.join("summary.json");
    let summary = report::json::read_summary(&summary_path)
        .map_err(|e| usage!("{e}; `evalgate report` needs a finished run directory"))?;
    let records = run_records(&args.run)?;
    let format = report::formats::by_name(&args.format)
        .ok_or_else(|| usage!("unknown --format {}", args.format))?;
    let writer: &dyn report::Exporter = match format.name {
        Some("table") if args.wide => &report::formats::Table { wide: true },
        _ => format.writer,
    };
    let mut bytes = writer.render(&summary, &mut records.into_iter())?;
    // Every format ends its last line, as text on a terminal should.
    if bytes.last().is_some_and(|b| *b != b'\n') {
        bytes.push(b'\n');
    }
    match &args.out {
        Some(path) => std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(crate::exit::OK)
}
