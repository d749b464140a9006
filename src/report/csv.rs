//! `summary.csv` (one row per model) and `requests.csv` (one row per request,
//! streamed to disk as rows complete, so memory stays flat).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Exporter, Records, ReportError, RunSummary};
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
            w.write_record(cells.iter().map(|(_, v)| cell(v)))
                .map_err(err)?;
        }
        w.into_inner().map_err(|e| err(e.into_error().into()))
    }
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
        other => other.to_string(),
    }
}

/// `requests.csv` columns: [`RequestRow`]'s fields, in order.
pub const REQUEST_COLUMNS: [&str; 42] = [
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
];

/// A float written with exactly 3 decimals (milliseconds, tokens/s).
struct Fixed3(f64);

impl Serialize for Fixed3 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:.3}", self.0))
    }
}

/// How one [`RequestRow`] is written: same fields, times at 3 decimals.
#[derive(Serialize)]
struct CsvRow<'a> {
    job: u64,
    suite: &'a str,
    case_id: &'a str,
    model: &'a str,
    repeat: u32,
    status: Status,
    error_kind: Option<ErrorKind>,
    error_message: Option<&'a str>,
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
    cost_usd: Option<f64>,
    cost_source: CostSource,
    generation_id: Option<&'a str>,
    provider: Option<&'a str>,
    finish_reason: Option<&'a str>,
    passed: Option<bool>,
    score: Option<f64>,
    failed_checks: Option<&'a str>,
    send_lag_ms: Option<Fixed3>,
    slo_met: Option<bool>,
    tool_calls: Option<u32>,
    gateway_cost_usd: Option<f64>,
    gateway_latency_ms: Option<Fixed3>,
    gateway_generation_ms: Option<Fixed3>,
    client_overhead_ms: Option<Fixed3>,
    served_by: Option<&'a str>,
    is_byok: Option<bool>,
    fallback: bool,
    fallback_chain: Option<&'a str>,
    cost_mismatch: bool,
    cached: bool,
    carried: bool,
    cache_saved_usd: Option<f64>,
}

impl<'a> From<&'a RequestRow> for CsvRow<'a> {
    fn from(r: &'a RequestRow) -> Self {
        CsvRow {
            job: r.job,
            suite: &r.suite,
            case_id: &r.case_id,
            model: &r.model,
            repeat: r.repeat,
            status: r.status,
            error_kind: r.error_kind,
            error_message: r.error_message.as_deref(),
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
            cost_usd: r.cost_usd,
            cost_source: r.cost_source,
            generation_id: r.generation_id.as_deref(),
            provider: r.provider.as_deref(),
            finish_reason: r.finish_reason.as_deref(),
            passed: r.passed,
            score: r.score,
            failed_checks: r.failed_checks.as_deref(),
            send_lag_ms: r.send_lag_ms.map(Fixed3),
            slo_met: r.slo_met,
            tool_calls: r.tool_calls,
            gateway_cost_usd: r.gateway_cost_usd,
            gateway_latency_ms: r.gateway_latency_ms.map(Fixed3),
            gateway_generation_ms: r.gateway_generation_ms.map(Fixed3),
            client_overhead_ms: r.client_overhead_ms.map(Fixed3),
            served_by: r.served_by.as_deref(),
            is_byok: r.is_byok,
            fallback: r.fallback,
            fallback_chain: r.fallback_chain.as_deref(),
            cost_mismatch: r.cost_mismatch,
            cached: r.cached,
            carried: r.carried,
            cache_saved_usd: r.cache_saved_usd,
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
    let reader = ::csv::Reader::from_path(path).map_err(|source| ReportError::Csv {
        context: context.clone(),
        source,
    })?;
    Ok(reader.into_deserialize::<RequestRow>().map(move |r| {
        r.map_err(|source| ReportError::Csv {
            context: context.clone(),
            source,
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_support::{records, summary};

    #[test]
    fn request_columns_follow_request_row() {
        let row = &records()[0].row;
        let names: Vec<String> = ordered_fields(row)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            // The journal says `tool_call_count` (its `tool_calls` lists the calls).
            .map(|k| {
                if k == "tool_call_count" {
                    "tool_calls".into()
                } else {
                    k
                }
            })
            .collect();
        assert_eq!(names, REQUEST_COLUMNS);
    }

    #[test]
    fn requests_csv_streams_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.csv");
        let mut w = RequestsCsv::create(&path).unwrap();
        let rows: Vec<RequestRow> = records().into_iter().map(|r| r.row).collect();
        for r in &rows {
            w.write(r).unwrap();
        }
        w.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "job,suite,case_id,model,repeat,status,error_kind,error_message,attempts,queue_ms,\
             ttft_ms,duration_ms,tpot_ms,tokens_per_s,input_tokens,output_tokens,\
             reasoning_tokens,cached_tokens,cache_write_tokens,cost_usd,cost_source,\
             generation_id,provider,finish_reason,passed,score,failed_checks,send_lag_ms,slo_met,tool_calls,\
             gateway_cost_usd,gateway_latency_ms,gateway_generation_ms,client_overhead_ms,\
             served_by,is_byok,fallback,fallback_chain,cost_mismatch,cached,carried,\
             cache_saved_usd"
        );
        assert_eq!(
            lines.next().unwrap(),
            "0,support,refund-window,openai/gpt-5,0,ok,,,1,0.500,412.000,1530.000,11.293,\
             89.445,1200,100,0,0,0,0.0015,gateway,gen_0,,stop,true,1.0,,,,,,,,,,,false,,false,false,false,"
        );
        assert_eq!(
            lines.nth(2).unwrap(),
            "3,support,order-json,anthropic/claude-sonnet-4,0,error,rate_limited,\
             Too many requests & <slow down>,3,0.500,,250.000,,,,,,,,,unknown,,,,,,,,,,,,,,,,false,,false,false,false,"
        );
        let back = read_requests(&path).unwrap();
        assert_eq!(back.len(), rows.len());
        for (got, want) in back.iter().zip(&rows) {
            // Times are rounded to the microsecond on disk; everything else is exact.
            assert_eq!(
                got.ttft_ms.map(|t| (t * 1000.0).round()),
                want.ttft_ms.map(|t| (t * 1000.0).round())
            );
            let strip = |r: &RequestRow| RequestRow {
                tpot_ms: None,
                tokens_per_s: None,
                ..r.clone()
            };
            assert_eq!(strip(got), strip(want));
        }
    }

    #[test]
    fn empty_run_still_has_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.csv");
        RequestsCsv::create(&path).unwrap().finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert!(read_requests(&path).unwrap().is_empty());
    }

    #[test]
    fn summary_csv_is_flat_in_summary_order() {
        let (sum, _) = summary(false);
        let bytes = SummaryCsv.render(&sum, &mut std::iter::empty()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with("model,requests,ok,errors,skipped,errors_by_kind,ttft_p50_ms,")
        );
        assert!(lines[0].ends_with(
            ",checked,passed,pass_rate,mean_score,grader_cost_usd,slo_checked,slo_met,\
             good_requests,goodput,cost_per_pass_usd,flaky_cases,pass_at_k,pass_all_k,\
             fallbacks,replayed,replay_saved_usd,cost_mismatches,cache_read_share,\
             cache_saved_usd"
        ));
        assert!(lines[2].starts_with(
            "anthropic/claude-sonnet-4,3,1,1,1,budget_exceeded=1;rate_limited=1,8.5,"
        ));
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let get = |name: &str| {
            row.get(header.iter().position(|h| h == name).unwrap())
                .unwrap()
        };
        assert_eq!(get("model"), "openai/gpt-5");
        assert_eq!(get("cost_usd"), "0.0033");
        assert_eq!(get("cost_sources"), "catalog=1;gateway=1");
        assert_eq!(get("pass_rate"), "0.5");
        assert_eq!(get("grader_cost_usd"), "");
    }
}
