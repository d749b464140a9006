//! `summary.csv` (one row per model) and `requests.csv` (one row per request,
//! streamed to disk as rows complete, so memory stays flat).

use std::borrow::Cow;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Exporter, Records, ReportError, RunSummary};
use crate::cells::{csv_cell, csv_uncell};
use crate::metrics::ModelStats;
use crate::record::{CostSource, ErrorKind, RequestRow, Status};

/// Writes `summary.csv`: one row per model, columns in [`ModelSummary`] order,
/// maps such as `errors_by_kind` flattened as `kind=n;kind=n`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn write<'r>(
        &self,
        summary: &RunSummary,
        _records: &Records<'r>,
        out: &mut dyn std::io::Write,
    ) -> Result<(), ReportError> {
        let bytes = self.bytes(summary)?;
        out.write_all(&bytes)
            .map_err(super::write_err("summary.csv"))
    }
}

impl SummaryCsv {
    fn bytes(&self, summary: &RunSummary) -> Result<Vec<u8>, ReportError> {
        let err = |source| ReportError::Csv {
            context: "cannot write summary.csv".into(),
            source,
        };
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let header = ordered_fields(&ModelStats::new("").summary())?;
        w.write_record(header.iter().map(|(k, _)| k.as_str()))
            .map_err(err)?;
        for model in &summary.models {
            let cells = ordered_fields(model)?;
            w.write_record(cells.iter().map(|(_, v)| safe(cell(v))))
                .map_err(err)?;
        }
        w.into_inner().map_err(|e| err(e.into_error().into()))
    }
}

/// A cell no spreadsheet runs as a formula ([`csv_cell`]).
fn safe(text: String) -> String {
    match csv_cell(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(quoted) => quoted,
    }
}

/// Any list of records (structs whose fields are plain values) as CSV, a
/// header from the field names, every cell spreadsheet-safe: for the small
/// derived tables (`trend`, `sweep.csv`).
pub fn safe_csv<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, ReportError> {
    let err = |source| ReportError::Csv {
        context: "cannot write CSV".into(),
        source,
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let cells = ordered_fields(row)?;
        if i == 0 {
            w.write_record(cells.iter().map(|(k, _)| k.as_str()))
                .map_err(err)?;
        }
        w.write_record(cells.iter().map(|(_, v)| safe(cell(v))))
            .map_err(err)?;
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
}

/// A struct's fields in declaration order, read back from its JSON (a
/// `serde_json::Value` map would sort them).
struct OrderedFields(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for OrderedFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedFields, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(OrderedFields(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn ordered_fields<T: Serialize>(
    value: &T,
) -> Result<Vec<(String, serde_json::Value)>, ReportError> {
    let json_err = |source| ReportError::Json {
        context: "cannot flatten a summary row".into(),
        source,
    };
    let text = serde_json::to_string(value).map_err(json_err)?;
    let fields: OrderedFields = serde_json::from_str(&text).map_err(json_err)?;
    Ok(fields.0)
}

/// One CSV cell: empty for null, `k=v;k=v` for a map.
fn cell(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(";"),
        Value::Number(n) if n.is_f64() => {
            n.as_f64().map(|f| Sig12(f).to_string()).unwrap_or_default()
        }
        other => other.to_string(),
    }
}

/// A float as the shortest decimal that reads back as it, after rounding to
/// 12 significant digits: sums and products of prices carry binary noise in
/// their last digits (`0.0004191000000000001`), which 12 digits drop while
/// keeping every figure a price can hold (catalog prices are decimals with
/// at most 12 places, token counts are integers).
struct Sig12(f64);

impl std::fmt::Display for Sig12 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        // `{:.11e}` rounds to 12 significant digits; parsing it back gives
        // the f64 nearest that decimal, which `{}` prints shortest.
        let rounded: f64 = format!("{v:.11e}").parse().unwrap_or(v);
        if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
            // Whole numbers keep their `.0`, as serde wrote them before.
            write!(f, "{rounded:.1}")
        } else {
            write!(f, "{rounded}")
        }
    }
}

impl Serialize for Sig12 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `requests.csv` columns: [`RequestRow`]'s fields, in order.
pub const REQUEST_COLUMNS: [&str; 44] = [
    "job",
    "suite",
    "case_id",
    "model",
    "repeat",
    "status",
    "error_kind",
    "error_message",
    "attempts",
    "queue_ms",
    "ttft_ms",
    "duration_ms",
    "tpot_ms",
    "tokens_per_s",
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "cache_write_tokens",
    "cost_usd",
    "cost_source",
    "generation_id",
    "provider",
    "finish_reason",
    "passed",
    "score",
    "failed_checks",
    "send_lag_ms",
    "slo_met",
    "tool_calls",
    "truncated",
    "gateway_cost_usd",
    "gateway_latency_ms",
    "gateway_generation_ms",
    "client_overhead_ms",
    "served_by",
    "is_byok",
    "fallback",
    "fallback_chain",
    "cost_mismatch",
    "cached",
    "carried",
    "cache_saved_usd",
    "cache_probe",
];

/// A float written with exactly 3 decimals (milliseconds, tokens/s).
struct Fixed3(f64);

impl Serialize for Fixed3 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.3}", self.0))
    }
}

/// How one [`RequestRow`] is written: same fields, times at 3 decimals,
/// text cells spreadsheet-safe ([`csv_cell`]).
#[derive(Serialize)]
struct CsvRow<'a> {
    job: u64,
    suite: Cow<'a, str>,
    case_id: Cow<'a, str>,
    model: Cow<'a, str>,
    repeat: u32,
    status: Status,
    error_kind: Option<ErrorKind>,
    error_message: Option<Cow<'a, str>>,
    attempts: u32,
    queue_ms: Option<Fixed3>,
    ttft_ms: Option<Fixed3>,
    duration_ms: Option<Fixed3>,
    tpot_ms: Option<Fixed3>,
    tokens_per_s: Option<Fixed3>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
    cost_usd: Option<Sig12>,
    cost_source: CostSource,
    generation_id: Option<Cow<'a, str>>,
    provider: Option<Cow<'a, str>>,
    finish_reason: Option<Cow<'a, str>>,
    passed: Option<bool>,
    score: Option<Sig12>,
    failed_checks: Option<Cow<'a, str>>,
    send_lag_ms: Option<Fixed3>,
    slo_met: Option<bool>,
    tool_calls: Option<u32>,
    truncated: bool,
    gateway_cost_usd: Option<Sig12>,
    gateway_latency_ms: Option<Fixed3>,
    gateway_generation_ms: Option<Fixed3>,
    client_overhead_ms: Option<Fixed3>,
    served_by: Option<Cow<'a, str>>,
    is_byok: Option<bool>,
    fallback: bool,
    fallback_chain: Option<Cow<'a, str>>,
    cost_mismatch: bool,
    cached: bool,
    carried: bool,
    cache_saved_usd: Option<Sig12>,
    cache_probe: Option<crate::record::CacheProbe>,
}

impl<'a> From<&'a RequestRow> for CsvRow<'a> {
    fn from(r: &'a RequestRow) -> Self {
        let opt = |v: &'a Option<String>| v.as_deref().map(csv_cell);
        CsvRow {
            job: r.job,
            suite: csv_cell(&r.suite),
            case_id: csv_cell(&r.case_id),
            model: csv_cell(&r.model),
            repeat: r.repeat,
            status: r.status,
            error_kind: r.error_kind,
            error_message: opt(&r.error_message),
            attempts: r.attempts,
            queue_ms: r.queue_ms.map(Fixed3),
            ttft_ms: r.ttft_ms.map(Fixed3),
            duration_ms: r.duration_ms.map(Fixed3),
            tpot_ms: r.tpot_ms.map(Fixed3),
            tokens_per_s: r.tokens_per_s.map(Fixed3),
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            reasoning_tokens: r.reasoning_tokens,
            cached_tokens: r.cached_tokens,
            cache_write_tokens: r.cache_write_tokens,
            cost_usd: r.cost_usd.map(Sig12),
            cost_source: r.cost_source,
            generation_id: opt(&r.generation_id),
            provider: opt(&r.provider),
            finish_reason: opt(&r.finish_reason),
            passed: r.passed,
            score: r.score.map(Sig12),
            failed_checks: opt(&r.failed_checks),
            send_lag_ms: r.send_lag_ms.map(Fixed3),
            slo_met: r.slo_met,
            tool_calls: r.tool_calls,
            truncated: r.truncated,
            gateway_cost_usd: r.gateway_cost_usd.map(Sig12),
            gateway_latency_ms: r.gateway_latency_ms.map(Fixed3),
            gateway_generation_ms: r.gateway_generation_ms.map(Fixed3),
            client_overhead_ms: r.client_overhead_ms.map(Fixed3),
            served_by: opt(&r.served_by),
            is_byok: r.is_byok,
            fallback: r.fallback,
            fallback_chain: opt(&r.fallback_chain),
            cost_mismatch: r.cost_mismatch,
            cached: r.cached,
            carried: r.carried,
            cache_saved_usd: r.cache_saved_usd.map(Sig12),
            cache_probe: r.cache_probe,
        }
    }
}

/// Streams `requests.csv`: the header on creation, one line per [`write`](Self::write).
pub struct RequestsCsv {
    path: PathBuf,
    writer: ::csv::Writer<BufWriter<File>>,
}

impl RequestsCsv {
    /// Create (or truncate) the file and write the header.
    pub fn create(path: &Path) -> Result<RequestsCsv, ReportError> {
        let file = File::create(path).map_err(|source| ReportError::Io {
            action: "create",
            path: path.to_path_buf(),
            source,
        })?;
        let mut out = RequestsCsv {
            path: path.to_path_buf(),
            writer: ::csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(BufWriter::new(file)),
        };
        let res = out.writer.write_record(REQUEST_COLUMNS);
        res.map_err(|e| out.err(e))?;
        Ok(out)
    }

    fn err(&self, source: ::csv::Error) -> ReportError {
        ReportError::Csv {
            context: format!("cannot write {}", self.path.display()),
            source,
        }
    }

    /// Append one row.
    pub fn write(&mut self, row: &RequestRow) -> Result<(), ReportError> {
        let res = self.writer.serialize(CsvRow::from(row));
        res.map_err(|e| self.err(e))
    }

    /// Flush everything to disk.
    pub fn finish(mut self) -> Result<(), ReportError> {
        let io = |source| ReportError::Io {
            action: "write",
            path: self.path.clone(),
            source,
        };
        self.writer.flush().map_err(io)?;
        let file = self.writer.into_inner().map_err(|e| ReportError::Io {
            action: "write",
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        file.into_inner()
            .map_err(|e| ReportError::Io {
                action: "write",
                path: self.path.clone(),
                source: e.into_error(),
            })?
            .sync_all()
            .map_err(|source| ReportError::Io {
                action: "sync",
                path: self.path.clone(),
                source,
            })
    }
}

/// Read a `requests.csv` back (for `compare` and tests).
pub fn read_requests(path: &Path) -> Result<Vec<RequestRow>, ReportError> {
    stream_requests(path)?.collect()
}

/// Stream a `requests.csv` row by row, holding one record at a time (for
/// the history, which must not load a million rows at once).
pub fn stream_requests(
    path: &Path,
) -> Result<impl Iterator<Item = Result<RequestRow, ReportError>>, ReportError> {
    let context = format!("cannot read {}", path.display());
    let err = move |source| ReportError::Csv {
        context: context.clone(),
        source,
    };
    let mut reader = ::csv::Reader::from_path(path).map_err(&err)?;
    let header = reader.headers().map_err(&err)?.clone();
    // Cells were written spreadsheet-safe; read back what was meant (only
    // a record with a cell starting with `'` needs copying).
    Ok(reader.into_records().map(move |r| {
        let raw = r.map_err(&err)?;
        let row = if raw.iter().any(|cell| cell.starts_with('\'')) {
            let plain: ::csv::StringRecord = raw.iter().map(csv_uncell).collect();
            plain.deserialize::<RequestRow>(Some(&header))
        } else {
            raw.deserialize::<RequestRow>(Some(&header))
        };
        row.map_err(&err)
    }))
}

#[cfg(test)]
mod tests;
