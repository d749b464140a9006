//! The bare client the harness is compared with: one reqwest client, C tasks
//! that each POST the same streaming request, read the body as it arrives,
//! stamp the first content chunk and count `data:` events. No journal, no
//! parsing beyond that, no aggregates: the floor a harness could reach.
//!
//! Run as `harness baseline URL MODEL CONCURRENCY REQUESTS` (a child process,
//! so its CPU is measured exactly like the harness's).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

/// Entry point of the `baseline` subcommand; prints one JSON line.
pub fn main(args: &[String]) {
    let [url, model, conc, reqs] = args else {
        panic!("usage: harness baseline URL MODEL CONCURRENCY REQUESTS");
    };
    let conc: usize = conc.parse().expect("concurrency");
    let reqs: u64 = reqs.parse().expect("requests");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(url.clone(), model.clone(), conc, reqs));
}

async fn run(url: String, model: String, conc: usize, reqs: u64) {
    let client = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(conc)
        .build()
        .expect("client");
    let body = bytes::Bytes::from(
        serde_json::to_vec(&serde_json::json!({
            "model": model,
            "messages": [{"role": "user", "content": "hello"}],
            "stream": true,
            "stream_options": {"include_usage": true},
        }))
        .expect("body"),
    );
    let url = format!("{url}/chat/completions");
    let left = Arc::new(AtomicU64::new(reqs));
    let chunks = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let ttft_sum_us = Arc::new(AtomicU64::new(0));
    let max_dur_us = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (client, body, url) = (client.clone(), body.clone(), url.clone());
        let (left, chunks, errors, ttft_sum_us, max_dur_us) = (
            left.clone(),
            chunks.clone(),
            errors.clone(),
            ttft_sum_us.clone(),
            max_dur_us.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                let t0 = Instant::now();
                let resp = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("authorization", "Bearer bench")
                    .body(body.clone())
                    .send()
                    .await;
                let Ok(resp) = resp else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let mut stream = resp.bytes_stream();
                let mut first = None;
                let mut n = 0u64;
                while let Some(Ok(b)) = stream.next().await {
                    n += memchr::memmem::find_iter(&b, b"data: ").count() as u64;
                    if first.is_none() && has_content(&b) {
                        first = Some(t0.elapsed());
                    }
                }
                chunks.fetch_add(n, Ordering::Relaxed);
                if let Some(f) = first {
                    ttft_sum_us.fetch_add(f.as_micros() as u64, Ordering::Relaxed);
                }
                max_dur_us.fetch_max(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let wall = start.elapsed();
    println!(
        "{}",
        serde_json::json!({
            "requests": reqs,
            "chunks": chunks.load(Ordering::Relaxed),
            "errors": errors.load(Ordering::Relaxed),
            "wall_s": wall.as_secs_f64(),
            "ttft_mean_us": ttft_sum_us.load(Ordering::Relaxed) / reqs.max(1),
            "max_duration_us": max_dur_us.load(Ordering::Relaxed),
        })
    );
}

/// Whether a read holds a non-empty `"content":"…"` (the first token).
fn has_content(b: &[u8]) -> bool {
    const KEY: &[u8] = b"\"content\":\"";
    memchr::memmem::find_iter(b, KEY).any(|i| b.get(i + KEY.len()).is_some_and(|c| *c != b'"'))
}
