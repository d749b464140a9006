//! Data files behind `cases_from:`: a CSV file with a header row, or a
//! JSONL file with one JSON object per line. Each row becomes the variables
//! of one case. Files are size-limited and every problem names the file and
//! its line.

use std::path::Path;

use serde_json::Value;

use super::template::Vars;

/// Largest data file read.
pub(crate) const MAX_DATA_FILE: u64 = 64 * 1024 * 1024;

/// One row of a data file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// 1-based data row (the CSV header is not a row).
    pub number: usize,
    /// 1-based line in the file.
    pub line: usize,
    pub values: Vars,
}

/// Read the rows of `path` (shown as `shown` in messages).
pub(crate) fn read_rows(path: &Path, shown: &str) -> Result<Vec<Row>, String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!("cannot read data file {shown}: {e} (paths are relative to the suite file)")
    })?;
    if meta.len() > MAX_DATA_FILE {
        return Err(format!(
            "data file {shown} is {} bytes, over the {} MB limit: split it into several files",
            meta.len(),
            MAX_DATA_FILE / (1024 * 1024)
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read data file {shown}: {e}"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let rows = match ext.as_str() {
        "csv" => csv_rows(&text, shown)?,
        "jsonl" | "ndjson" => jsonl_rows(&text, shown)?,
        _ => {
            return Err(format!(
                "data file {shown} is neither .csv nor .jsonl: use a CSV file with a header row or a JSONL file with one object per line"
            ))
        }
    };
    if rows.is_empty() {
        return Err(format!("data file {shown} has no rows: add at least one"));
    }
    Ok(rows)
}

fn csv_rows(text: &str, shown: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("data file {shown}: cannot read the header row: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("data file {shown} line {line}: {e}")
        })?;
        let line = record.position().map_or(n + 2, |p| p.line() as usize);
        let values = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
            .collect();
        rows.push(Row {
            number: n + 1,
            line,
            values,
        });
    }
    Ok(rows)
}

fn jsonl_rows(text: &str, shown: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let values = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => map.into_iter().collect(),
            Ok(_) => {
                return Err(format!(
                    "data file {shown} line {}: each line must be a JSON object such as {{\"question\": \"...\"}}",
                    i + 1
                ))
            }
            Err(e) => return Err(format!("data file {shown} line {}: {e}", i + 1)),
        };
        rows.push(Row {
            number: rows.len() + 1,
            line: i + 1,
            values,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;
