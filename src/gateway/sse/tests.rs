//! Unit tests of `gateway::sse`.

use super::*;
use proptest::prelude::*;

/// A recorded stream in the shape Vercel AI Gateway sends (comments,
/// role-only first chunk, reasoning, multi-byte text, usage in the finish
/// chunk, provider metadata in a final chunk).
const RECORDED: &str = concat!(
    ": PROCESSING\n\n",
    "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    ": keep-alive\n\n",
    "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"Thinking \\u00e9\"}}]}\n\n",
    "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Grüße, \"}}]}\n\n",
    "data:{\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"日本 🦀\"}}]}\n\n",
    "data: {\"id\":\"gen_01\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],",
    "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"cost\":0.00042,",
    "\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n",
    "data: {\"id\":\"gen_01\",\"choices\":[],\"provider_metadata\":{\"gateway\":{\"cost\":\"0.00042\",",
    "\"routing\":{\"finalProvider\":\"bedrock\"}}}}\n\n",
    "data: [DONE]\n\n",
);

/// A [`Payload`] kept past the parser's next event.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SseEvent {
    Data(String),
    Done,
}

fn events_of(parts: &[&[u8]]) -> Vec<SseEvent> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    let mut keep = |ev: Payload<'_>| {
        out.push(match ev {
            Payload::Data(d) => SseEvent::Data(d.to_string()),
            Payload::Done => SseEvent::Done,
        })
    };
    for part in parts {
        p.feed(part, &mut keep);
    }
    p.finish(&mut keep);
    out
}

fn whole(s: &str) -> Vec<SseEvent> {
    events_of(&[s.as_bytes()])
}

#[test]
fn recorded_stream_yields_data_and_done() {
    let ev = whole(RECORDED);
    assert_eq!(ev.len(), 7, "{ev:?}");
    assert_eq!(ev[6], SseEvent::Done);
    assert!(matches!(&ev[3], SseEvent::Data(d) if d.contains("日本 🦀")));
    let texts: String = ev
        .iter()
        .filter_map(|e| match e {
            SseEvent::Data(d) => Some(parse_chunk(d).unwrap().content.into_owned()),
            SseEvent::Done => None,
        })
        .collect();
    assert_eq!(texts, "Grüße, 日本 🦀");
}

#[test]
fn every_two_way_split_gives_the_same_events() {
    let crlf = RECORDED.replace('\n', "\r\n");
    for stream in [RECORDED, crlf.as_str()] {
        let b = stream.as_bytes();
        let expected = whole(stream);
        for i in 0..=b.len() {
            assert_eq!(events_of(&[&b[..i], &b[i..]]), expected, "split at {i}");
        }
    }
}

proptest! {
    #[test]
    fn random_splits_give_the_same_events(
        cuts in proptest::collection::vec(0usize..2000, 0..40),
        crlf in any::<bool>(),
    ) {
        let stream = if crlf { RECORDED.replace('\n', "\r\n") } else { RECORDED.to_string() };
        let parts = split_at_cuts(stream.as_bytes(), cuts);
        prop_assert_eq!(events_of(&parts), whole(RECORDED));
    }
}

#[test]
fn invalid_utf8_is_replaced_and_the_buffer_is_reused_per_event() {
    let mut p = SseParser::new();
    let mut seen = Vec::new();
    p.feed(b"data: ok\xff\n\ndata: fine\n\ndata: [DONE]\n\n", |ev| {
        seen.push(match ev {
            Payload::Data(d) => d.to_string(),
            Payload::Done => "<done>".to_string(),
        })
    });
    assert_eq!(seen, ["ok\u{fffd}", "fine", "<done>"]);
}

#[test]
fn line_endings_comments_and_multiline_data() {
    let d = |s: &str| SseEvent::Data(s.to_string());
    assert_eq!(
        whole("data: a\r\n\r\ndata:b\r\rdata: c\n\n"),
        vec![d("a"), d("b"), d("c")]
    );
    assert_eq!(whole(": keep-alive\n\n: PROCESSING\r\n\r\n"), vec![]);
    assert_eq!(
        whole("event: x\nid: 3\ndata: one\ndata:  two\n\n"),
        vec![d("one\n two")]
    );
    // A final event without its blank line is still delivered at EOF.
    assert_eq!(whole("data: [DONE]\n"), vec![SseEvent::Done]);
    assert_eq!(whole("data: [DONE]"), vec![SseEvent::Done]);
    // A blank line alone dispatches nothing; `data` with no value is empty data.
    assert_eq!(whole("\n\ndata\n\n"), vec![d("")]);
}

#[test]
fn role_only_first_chunk_has_no_text() {
    let c = parse_chunk(
        r#"{"id":"gen_1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
    )
    .unwrap();
    assert!(!c.has_text());
    assert_eq!(c.id.as_deref(), Some("gen_1"));
    let c =
        parse_chunk(r#"{"choices":[{"delta":{"role":"assistant","content":null}}],"usage":null}"#)
            .unwrap();
    assert!(!c.has_text());
    assert_eq!(c.usage, None);
}

#[test]
fn usage_in_the_finish_chunk() {
    let ev = whole(RECORDED);
    let SseEvent::Data(d) = &ev[4] else { panic!() };
    let c = parse_chunk(d).unwrap();
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 7,
            reasoning_tokens: 3,
            cached_tokens: 4,
            cache_write_tokens: 0
        })
    );
    assert_eq!(c.usage_cost, Some(0.00042));
    let SseEvent::Data(d) = &ev[5] else { panic!() };
    let c = parse_chunk(d).unwrap();
    assert_eq!(c.metadata_cost, Some(0.00042));
    assert_eq!(c.provider.as_deref(), Some("bedrock"));
}

#[test]
fn usage_in_a_separate_final_chunk() {
    let c = parse_chunk(
        r#"{"id":"x","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,
        "cache_creation_input_tokens":50},"provider":"openai"}"#,
    )
    .unwrap();
    assert!(!c.has_text());
    let u = c.usage.unwrap();
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cache_write_tokens),
        (100, 20, 50)
    );
    assert_eq!(c.provider.as_deref(), Some("openai"));
    assert_eq!(c.finish_reason, None);
    let c = parse_chunk(
        r#"{"usage":{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cache_write_tokens":5}},
        "provider_metadata":{"gateway":{"cost":0.5}}}"#,
    )
    .unwrap();
    assert_eq!(c.usage.unwrap().cache_write_tokens, 5);
    assert_eq!(c.metadata_cost, Some(0.5));
    assert_eq!(c.usage_cost, None);
}

#[test]
fn reasoning_variants_are_taken_once() {
    let r = |json: &str| parse_chunk(json).unwrap().reasoning.into_owned();
    assert_eq!(
        r(r#"{"choices":[{"delta":{"reasoning_content":"a\"b"}}]}"#),
        "a\"b"
    );
    assert_eq!(
        r(
            r#"{"choices":[{"delta":{"reasoning_details":[{"type":"reasoning.text","text":"x"},{"type":"reasoning.encrypted","data":"zz"},{"text":"y"}]}}]}"#
        ),
        "xy"
    );
    // The same text in `reasoning` and `reasoning_details` is counted once.
    assert_eq!(
        r(r#"{"choices":[{"delta":{"reasoning":"t","reasoning_details":[{"text":"t"}]}}]}"#),
        "t"
    );
    assert!(parse_chunk(r#"{"choices":[{"delta":{"reasoning":"t"}}]}"#)
        .unwrap()
        .has_text());
}

#[test]
fn plain_text_is_borrowed_from_the_payload() {
    let c =
        parse_chunk(r#"{"id":"g","choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}]}"#)
            .unwrap();
    assert!(matches!(c.content, Cow::Borrowed("hi")));
    assert!(matches!(c.id, Some(Cow::Borrowed("g"))));
    assert!(matches!(c.finish_reason, Some(Cow::Borrowed("stop"))));
}

#[test]
fn every_choice_is_read_and_the_first_finish_reason_kept() {
    let c = parse_chunk(
        r#"{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null},
            {"index":1,"delta":{"content":"b","reasoning":"r"},"finish_reason":"length"},
            {"index":2,"message":{"content":"c"},"finish_reason":"stop"}],
            "provider":"openai"}"#,
    )
    .unwrap();
    assert_eq!(c.content, "abc");
    assert_eq!(c.reasoning, "r");
    assert_eq!(c.finish_reason.as_deref(), Some("length"));
    assert!(matches!(c.provider, Some(Cow::Borrowed("openai"))));
    let c = parse_chunk(r#"{"choices":null,"id":"g"}"#).unwrap();
    assert!(!c.has_text() && c.finish_reason.is_none());
}

#[test]
fn error_event_after_200() {
    let c = parse_chunk(
        r#"{"error":{"message":"upstream overloaded","type":"server_error","code":529}}"#,
    )
    .unwrap();
    let e = c.error.unwrap();
    assert_eq!(e.message, "upstream overloaded");
    assert_eq!(e.kind.as_deref(), Some("server_error"));
    assert_eq!(e.code.as_deref(), Some("529"));
    let c = parse_chunk(r#"{"error":"boom"}"#).unwrap();
    assert_eq!(c.error.unwrap().message, "boom");
}

#[test]
fn a_line_past_the_limit_stops_the_parser_wherever_it_is_split() {
    let long = format!("data: ok\n\ndata: {}\n\ndata: after\n\n", "a".repeat(100));
    let b = long.as_bytes();
    for split in [0, 5, 12, 40, 100, b.len()] {
        let mut p = SseParser::with_limit(64);
        let mut seen = Vec::new();
        let mut keep = |ev: Payload<'_>| seen.push(format!("{ev:?}"));
        p.feed(&b[..split], &mut keep);
        p.feed(&b[split..], &mut keep);
        p.finish(&mut keep);
        assert!(p.too_long(), "split at {split}");
        assert_eq!(seen, [r#"Data("ok")"#], "split at {split}");
    }
    // Many short lines make one long event: its data is bounded too.
    let mut p = SseParser::with_limit(64);
    p.feed("data: 0123456789\n".repeat(10).as_bytes(), |_| {});
    assert!(p.too_long());
}

#[test]
fn usage_counts_are_lenient_and_absurd_ones_are_rejected_per_field() {
    let c = parse_chunk(
        r#"{"usage":{"prompt_tokens":"12","completion_tokens":5.0,
        "completion_tokens_details":{"reasoning_tokens":-1},
        "prompt_tokens_details":{"cached_tokens":1e300,"cache_write_tokens":[1]},
        "cost":"-0.5"}}"#,
    )
    .unwrap();
    let u = c.usage.unwrap();
    assert_eq!(
        (
            u.input_tokens,
            u.output_tokens,
            u.reasoning_tokens,
            u.cached_tokens
        ),
        (12, 5, 0, 0)
    );
    assert_eq!(
        c.usage_rejected,
        ["reasoning_tokens", "cached_tokens", "cache_write_tokens"]
    );
    assert_eq!(
        c.usage_cost,
        Some(-0.5),
        "kept as sent, judged by the runner"
    );
    let c = parse_chunk(r#"{"usage":{"prompt_tokens":2.5,"completion_tokens":9007199254740993}}"#)
        .unwrap();
    assert_eq!(c.usage_rejected, ["input_tokens", "output_tokens"]);
    let c = parse_chunk(r#"{"usage":{"completion_tokens":3,"cost":"abc"}}"#).unwrap();
    assert!(c.usage_cost.unwrap().is_nan());
    assert_eq!(c.usage.unwrap().output_tokens, 3);
}

#[test]
fn malformed_json_is_an_error() {
    for bad in [
        r#"{"choices":[{"delta":{"content":"unterminated"#,
        "not json",
        "[1,2]",
        r#"{"choices":5}"#,
    ] {
        let e = parse_chunk(bad).unwrap_err();
        assert!(!e.message.is_empty(), "{bad}");
    }
}

/// `b` cut at each of `cuts` (taken modulo its length + 1, in any order):
/// the pieces a network might deliver it in.
pub(crate) fn split_at_cuts(b: &[u8], cuts: Vec<usize>) -> Vec<&[u8]> {
    let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (b.len() + 1)).collect();
    cuts.sort_unstable();
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut prev = 0;
    for c in cuts {
        parts.push(&b[prev..c]);
        prev = c;
    }
    parts.push(&b[prev..]);
    parts
}
