//! Unit tests of `cache`.

use super::*;

#[test]
fn keys_differ_by_host_model_body_repeat_and_probe_and_entries_round_trip() {
    let at = |repeat| SendId {
        repeat,
        probe: false,
    };
    let dir = tempfile::tempdir().unwrap();
    let c = ResponseCache::open(dir.path(), CacheMode::Record, "sim").unwrap();
    let k = c.key("m", b"{}", at(0));
    assert_eq!(k.len(), 64);
    assert_ne!(k, c.key("m", b"{}", at(1)));
    assert_ne!(k, c.key("n", b"{}", at(0)));
    assert_ne!(k, c.key("m", b"{ }", at(0)));
    assert_ne!(
        k,
        c.key(
            "m",
            b"{}",
            SendId {
                repeat: 0,
                probe: true
            }
        )
    );
    let other = ResponseCache::open(dir.path(), CacheMode::Record, "gw.example").unwrap();
    assert_ne!(k, other.key("m", b"{}", at(0)));
    let o = Outcome {
        attempts: 2,
        ttft: Some(Duration::from_millis(40)),
        text: "hello".into(),
        gateway_cost: Some(0.5),
        ..Outcome::default()
    };
    c.write(&k, &o);
    let back = c.read(&k).unwrap().into_outcome();
    assert_eq!(back.text, "hello");
    assert_eq!(back.ttft, o.ttft);
    assert_eq!(back.attempts, 1);
    // An oversized entry is neither stored nor read.
    let big = Outcome {
        text: "x".repeat(MAX_ENTRY as usize + 1),
        ..Outcome::default()
    };
    let k2 = c.key("m", b"big", at(0));
    c.write(&k2, &big);
    assert!(c.read(&k2).is_none());
}

#[test]
fn a_replayed_answer_stays_truncated_with_its_unknown_usage_counts() {
    let dir = tempfile::tempdir().unwrap();
    let c = ResponseCache::open(dir.path(), CacheMode::Record, "sim").unwrap();
    let k = c.key(
        "m",
        b"{}",
        SendId {
            repeat: 0,
            probe: false,
        },
    );
    let o = Outcome {
        text: "cut here".into(),
        truncated: true,
        usage_rejected: vec!["output_tokens", "cached_tokens"],
        ..Outcome::default()
    };
    c.write(&k, &o);
    let back = c.read(&k).unwrap().into_outcome();
    assert!(back.truncated);
    assert_eq!(back.usage_rejected, ["output_tokens", "cached_tokens"]);
}
