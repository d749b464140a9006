//! Unit tests of `sim::generation`.

use super::*;

fn msgs(parts: &[(&str, &str)]) -> Vec<Message> {
    serde_json::from_value(Value::Array(
        parts
            .iter()
            .map(|(role, text)| json!({"role": role, "content": text}))
            .collect(),
    ))
    .unwrap()
}

#[test]
fn a_repeated_long_prefix_is_read_and_a_short_one_never_cached() {
    let tokens = |m: &[Message]| super::super::chat::prompt_tokens(m);
    let long = "x".repeat(8000);
    let mut p = Prefixes::default();
    let first = msgs(&[("system", &long), ("user", "one")]);
    let c = p.lookup("m", &first, tokens);
    assert_eq!(c.read, 0);
    assert_eq!(c.written, tokens(&first));
    let second = msgs(&[("system", &long), ("user", "two")]);
    let c = p.lookup("m", &second, tokens);
    assert_eq!(c.read, tokens(&second[..1]), "the system prefix is read");
    assert_eq!(c.written, tokens(&second) - c.read);
    assert_eq!(p.lookup("other", &second, tokens).read, 0, "per model");
    let short = msgs(&[("user", "hi")]);
    p.lookup("m", &short, tokens);
    assert_eq!(p.lookup("m", &short, tokens), CacheUse::default());
}

#[test]
fn records_appear_after_their_ready_time_and_stay_bounded() {
    let now = Instant::now();
    let mut r = Records::default();
    let facts = |id: &str| Facts {
        id: id.into(),
        model: "m".into(),
        provider: PRIMARY.into(),
        prompt: 1,
        completion: 2,
        reasoning: 0,
        cached: 0,
        cost: Some(0.5),
        latency_ms: 10,
        generation_ms: 20,
        finish_reason: "stop",
        streamed: true,
    };
    r.insert(now + Duration::from_secs(1), &facts("a"));
    assert!(r.get("a", now).is_none());
    let rec = r.get("a", now + Duration::from_secs(1)).unwrap();
    assert_eq!(rec["total_cost"], 0.5);
    assert_eq!(rec["latency"], 10);
    for i in 0..RECORD_CAPACITY {
        r.insert(now, &facts(&i.to_string()));
    }
    assert!(
        r.get("a", now + Duration::from_secs(1)).is_none(),
        "evicted"
    );
    assert!(r.by_id.len() <= RECORD_CAPACITY);
}

#[test]
fn the_order_picks_the_first_provider_the_sim_has() {
    let order = |o: Value| json!({"gateway": {"order": o}});
    let route = |o: Option<Value>, fallback| Route::of(o.as_ref(), fallback);
    let plain = Route {
        first: PRIMARY,
        served: PRIMARY,
    };
    assert_eq!(route(None, false), plain);
    assert_eq!(
        route(Some(order(json!(["bedrock", "vertex"]))), false),
        plain
    );
    assert_eq!(
        route(Some(order(json!(["bedrock", "backupcloud"]))), false),
        Route {
            first: BACKUP,
            served: BACKUP
        }
    );
    // A `-fallback` model: the first provider fails, the other serves.
    assert_eq!(
        route(None, true),
        Route {
            first: PRIMARY,
            served: BACKUP
        }
    );
    let backup_first = route(Some(order(json!(["backupcloud"]))), true);
    assert_eq!(backup_first.served, PRIMARY);
    let r = backup_first.routing("sim/fast-fallback");
    assert_eq!(r["attempts"][0]["provider"], BACKUP);
    assert_eq!(r["finalProvider"], PRIMARY);
    // Skipped providers leave no trace in the stream's routing.
    let r = plain.routing("sim/fast");
    assert_eq!(r["resolvedProvider"], r["finalProvider"]);
    assert!(r.get("attempts").is_none());
}
