//! `evalgate models` and `evalgate credits`: what the gateway offers and
//! what is left to spend.

use std::net::SocketAddr;

use tabled::{settings::Style, Table, Tabled};

use crate::cli::{CreditsArgs, ModelsArgs};
use crate::cmd::common;
use crate::gateway::catalog::{self, CacheOptions, CatalogSource, ModelInfo};
use crate::pricing::Tiered;

#[derive(Tabled)]
struct ModelRow {
    id: String,
    #[tabled(rename = "type")]
    kind: String,
    context: String,
    #[tabled(rename = "max out")]
    max_out: String,
    #[tabled(rename = "in $/M")]
    input: String,
    #[tabled(rename = "out $/M")]
    output: String,
    #[tabled(rename = "cache read $/M")]
    cache_read: String,
    #[tabled(rename = "cache write $/M")]
    cache_write: String,
    tags: String,
}

fn per_million(p: Option<&Tiered>) -> String {
    match p {
        None => "-".into(),
        Some(t) => {
            let base = format!("{:.4}", t.base * 1e6);
            let base = base.trim_end_matches('0').trim_end_matches('.').to_string();
            if t.tiers.len() > 1 {
                format!("{base} (tiered)")
            } else {
                base
            }
        }
    }
}

fn row(m: &ModelInfo) -> ModelRow {
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let p = m.pricing.as_ref();
    ModelRow {
        id: m.id.clone(),
        kind: m.kind.clone().unwrap_or_else(|| "-".into()),
        context: opt(m.context_window),
        max_out: opt(m.max_tokens),
        input: per_million(p.and_then(|p| p.input.as_ref())),
        output: per_million(p.and_then(|p| p.output.as_ref())),
        cache_read: per_million(p.and_then(|p| p.cache_read.as_ref())),
        cache_write: per_million(p.and_then(|p| p.cache_write.as_ref())),
        tags: m.tags.join(","),
    }
}

/// Id, context and prices, ids shortened in the middle to fit `width`
/// (`--wide` shows every column).
fn compact(rows: &[ModelRow], width: usize) -> String {
    let cells = |r: &ModelRow| {
        [
            r.id.clone(),
            r.context.clone(),
            r.input.clone(),
            r.output.clone(),
        ]
    };
    let headers = ["id", "context", "in $/M", "out $/M"];
    let others: usize = (1..4)
        .map(|i| {
            rows.iter()
                .map(|r| crate::term::columns(&cells(r)[i]))
                .chain([headers[i].len()])
                .max()
                .unwrap_or(0)
                + 3
        })
        .sum();
    let id_max = width.saturating_sub(others + 4).max(12);
    let mut b = tabled::builder::Builder::default();
    b.push_record(headers);
    for r in rows {
        let mut c = cells(r);
        c[0] = crate::term::shorten_middle(&c[0], id_max);
        b.push_record(c);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    table.to_string()
}

fn matches(m: &ModelInfo, args: &ModelsArgs) -> bool {
    let creator_ok = args.creator.as_deref().is_none_or(|c| {
        m.id.split('/')
            .next()
            .is_some_and(|p| p.eq_ignore_ascii_case(c))
    });
    let tag_ok = args
        .tag
        .as_deref()
        .is_none_or(|t| m.tags.iter().any(|x| x.eq_ignore_ascii_case(t)));
    let text_ok = args.search.as_deref().is_none_or(|q| {
        let q = q.to_lowercase();
        m.id.to_lowercase().contains(&q)
            || m.name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(&q))
    });
    creator_ok && tag_ok && text_ok
}

pub async fn models(args: &ModelsArgs) -> anyhow::Result<i32> {
    let mut gw_args = args.gateway.clone();
    let sim = if args.sim {
        let server = crate::sim::start(
            crate::sim::SimConfig::default(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await?;
        gw_args.gateway = Some(server.base_url());
        Some(server)
    } else {
        None
    };
    // The catalog needs no key; send one only when it is set.
    let key = common::resolve_key(gw_args.key_env.as_deref(), true)
        .ok()
        .map(|(k, _)| k);
    let gateway = common::simple_gateway(&gw_args, key, args.timeout)?;
    if let Some(model) = &args.endpoints {
        let history = crate::history::HistoryTarget::from_flag(args.history.url.as_deref());
        return crate::cmd::endpoints::show(&gateway, model, &history).await;
    }
    let opts = CacheOptions {
        refresh: args.refresh || sim.is_some(),
        ..CacheOptions::default()
    };
    let opts = if sim.is_some() {
        CacheOptions {
            dir: Some(std::env::temp_dir().join("evalgate-sim-catalog")),
            ..opts
        }
    } else {
        opts
    };
    let (catalog, source) = catalog::load(&gateway, &opts).await.map_err(|e| match e {
        crate::gateway::GatewayError::MissingV1 { .. } => crate::usage!("{e}"),
        e => e.into(),
    })?;
    if let CatalogSource::StaleCache { error } = &source {
        eprintln!("warning: the gateway's catalog could not be fetched ({error}); showing a stale cached copy");
    }
    let selected: Vec<&ModelInfo> = catalog.models.iter().filter(|m| matches(m, args)).collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&selected)?);
    } else {
        let rows: Vec<ModelRow> = selected.iter().map(|m| row(m)).collect();
        if args.wide {
            let mut table = Table::new(rows);
            table.with(Style::rounded());
            println!("{table}");
        } else {
            println!("{}", compact(&rows, crate::term::width()));
        }
        println!(
            "{} of {} models from {}",
            selected.len(),
            catalog.models.len(),
            gateway.base_url()
        );
    }
    Ok(crate::exit::OK)
}

pub async fn credits(args: &CreditsArgs) -> anyhow::Result<i32> {
    let (key, _) = common::resolve_key(args.gateway.key_env.as_deref(), false)?;
    let gateway = common::simple_gateway(&args.gateway, Some(key), args.timeout)?;
    match gateway.credits().await? {
        Some(c) => {
            println!("balance:    ${:.2}", c.balance);
            println!("total used: ${:.2}", c.total_used);
        }
        None => println!(
            "{} has no /credits endpoint; nothing to show",
            gateway.base_url()
        ),
    }
    Ok(crate::exit::OK)
}
