//! Unit tests of `sim::text`.

use super::*;

#[test]
fn escapes_json_specials() {
    let mut out = String::new();
    push_json_escaped(&mut out, "a\"b\\c\nd\u{1}é");
    assert_eq!(out, "a\\\"b\\\\c\\nd\\u0001é");
    let parsed: String = serde_json::from_str(&format!("\"{out}\"")).unwrap();
    assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
}

#[test]
fn word_stream_is_deterministic_and_readable() {
    let render = |seed| {
        let mut s = String::new();
        let mut w = WordStream::new(seed);
        for _ in 0..40 {
            w.push_next(&mut s);
        }
        s
    };
    assert_eq!(render(7), render(7));
    assert_ne!(render(7), render(8));
    let text = render(7);
    assert!(text.chars().next().unwrap().is_uppercase(), "{text}");
    assert!(text.contains('.'), "{text}");
    assert_eq!(text.split(' ').count(), 40);
}

#[test]
fn word_chunks_rebuild_the_text() {
    let text = "  Hello world,\n how  are you? ";
    let chunks = word_chunks(text);
    assert_eq!(chunks.concat(), text);
    assert_eq!(chunks[0], "  Hello");
    assert_eq!(chunks[1], " world,");
    assert!(word_chunks("").is_empty());
}

#[test]
fn decimals_are_exact() {
    assert_eq!(decimal(1_250_000, 12), "0.00000125");
    assert_eq!(decimal(0, 12), "0");
    assert_eq!(decimal(15_000_000, 12), "0.000015");
    assert_eq!(decimal(9550, 2), "95.5");
}
