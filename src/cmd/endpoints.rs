//! `evalgate models --endpoints MODEL`: the gateway's per-provider figures
//! for one model (`GET /models/{id}/endpoints`: prices, recent p50/p95 TTFT
//! and throughput) next to what evalgate measured for it in the latest run
//! of the history that ran it.

use tabled::builder::Builder;
use tabled::settings::Style;

use crate::gateway::generation::Endpoint;
use crate::gateway::Gateway;
use crate::history::{History, HistoryTarget};
use crate::metrics::ModelSummary;
use crate::usage;

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

fn per_million(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| {
        let s = format!("{:.4}", v * 1e6);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    })
}

/// The table of `endpoints` with a last row of evalgate's own figures.
pub fn table(
    model: &str,
    endpoints: &[Endpoint],
    measured: Option<(&str, &ModelSummary)>,
) -> String {
    let mut b = Builder::default();
    b.push_record([
        "provider",
        "in $/M",
        "out $/M",
        "TTFT p50 ms",
        "TTFT p95 ms",
        "tok/s p50",
    ]);
    for e in endpoints {
        b.push_record([
            e.provider.clone(),
            per_million(e.input_price),
            per_million(e.output_price),
            ms(e.ttft_p50_ms),
            ms(e.ttft_p95_ms),
            e.throughput_p50.map_or("-".into(), |t| format!("{t:.1}")),
        ]);
    }
    if let Some((run, m)) = measured {
        b.push_record([
            format!("evalgate (run {run})"),
            "-".into(),
            "-".into(),
            ms(m.ttft_p50_ms),
            ms(m.ttft_p95_ms),
            m.tokens_per_s_p50.map_or("-".into(), |t| format!("{t:.1}")),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded());
    format!("{model}\n{t}")
}

/// Print the endpoints of `model`; 2 when the gateway has none for it.
pub async fn show(gateway: &Gateway, model: &str, history: &HistoryTarget) -> anyhow::Result<i32> {
    let Some(endpoints) = gateway.endpoints(model).await? else {
        return Err(usage!(
            "{} has no endpoints page for `{model}`; check the id with `evalgate models`",
            gateway.base_url()
        ));
    };
    let measured = latest_measured(history, model).await;
    let m = measured.as_ref().map(|(run, s)| (run.as_str(), s));
    println!("{}", table(model, &endpoints, m));
    if m.is_none() {
        println!(
            "no run of {model} in the history {} yet: run a suite with it to compare",
            history.display()
        );
    }
    Ok(crate::exit::OK)
}

/// The newest stored run that ran `model`, and its figures (none when the
/// history is missing or unreadable: this is a view, not a gate).
async fn latest_measured(target: &HistoryTarget, model: &str) -> Option<(String, ModelSummary)> {
    if let HistoryTarget::Sqlite(p) = target {
        if !p.is_file() {
            return None;
        }
    }
    let history = History::open(target).await.ok()?;
    let (run, summary) = history.latest_with_model(model).await.ok()??;
    let m = summary.models.into_iter().find(|m| m.model == model)?;
    Some((run, m))
}
