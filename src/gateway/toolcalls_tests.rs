//! Tool-call assembly: recorded streams with parallel calls interleaved,
//! fed to the SSE parser split at every byte and at random places, must
//! give exactly the same calls; over a loopback socket, a tool-call delta
//! is the first token and `finish_reason: tool_calls` a success; the
//! request body carries tools, tool_choice, response_format and every
//! parameter.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;

use super::sse::tests::split_at_cuts;
use super::sse::{parse_chunk, Payload, SseParser};
use super::testserver::{Reply, TestServer};
use super::toolcalls::ToolCallAssembler;
use super::{ChatRequest, Gateway, GatewayConfig};
use crate::record::{Message, Params, ResponseFormat, Tool, ToolCall, ToolChoice};

/// Two calls whose arguments interleave by index, ids and names once,
/// an escaped quote and a multi-byte character inside the arguments, and a
/// third call whose arguments are not valid JSON.
const PARALLEL: &str = concat!(
    "data: {\"id\":\"gen_t\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"search_flights\",\"arguments\":\"{\\\"or\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]}}]}\n\n",
    ": keep-alive\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"igin\\\":\\\"Zürich\\\"\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\":\\\"Ber\"}},{\"index\":1,\"function\":{\"arguments\":\",\\\"n\\\":2}\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"lin \\\\\\\"Mitte\\\\\\\"\\\"}\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":2,\"id\":\"call_c\",\"function\":{\"name\":\"broken\",\"arguments\":\"{\\\"x\\\":\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":12}}\n\n",
    "data: [DONE]\n\n",
);

fn expected() -> Vec<ToolCall> {
    vec![
        ToolCall {
            id: "call_a".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Berlin \"Mitte\""}),
            error: None,
        },
        ToolCall {
            id: "call_b".into(),
            name: "search_flights".into(),
            arguments: json!({"origin": "Zürich", "n": 2}),
            error: None,
        },
        ToolCall::from_raw("call_c".into(), "broken".into(), "{\"x\":".into()),
    ]
}

/// Feed `parts` to the parser and assemble the calls; also the finish reason.
fn assemble(parts: &[&[u8]]) -> (Vec<ToolCall>, Option<String>) {
    let mut parser = SseParser::new();
    let mut asm = ToolCallAssembler::default();
    let mut finish = None;
    let mut sink = |ev: Payload<'_>| {
        if let Payload::Data(d) = ev {
            let chunk = parse_chunk(d).expect("valid chunk");
            for (i, delta) in chunk.tool_calls.iter().enumerate() {
                asm.add(i, delta);
            }
            if let Some(f) = chunk.finish_reason {
                finish = Some(f.into_owned());
            }
        }
    };
    for p in parts {
        parser.feed(p, &mut sink);
    }
    parser.finish(&mut sink);
    (asm.finish(), finish)
}

#[test]
fn one_byte_fragments_assemble_exactly() {
    let bytes = PARALLEL.as_bytes();
    let whole = assemble(&[bytes]);
    assert_eq!(whole.0, expected());
    assert_eq!(whole.1.as_deref(), Some("tool_calls"));
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(assemble(&singles), whole);
    let crlf = PARALLEL.replace('\n', "\r\n");
    let singles: Vec<&[u8]> = crlf.as_bytes().chunks(1).collect();
    assert_eq!(assemble(&singles), whole);
}

#[test]
fn the_third_call_keeps_its_raw_arguments_and_an_error() {
    let (calls, _) = assemble(&[PARALLEL.as_bytes()]);
    assert_eq!(calls[2].arguments, json!("{\"x\":"));
    assert!(calls[2]
        .error
        .as_deref()
        .unwrap()
        .contains("not valid JSON"));
}

#[test]
fn repeated_ids_and_names_do_not_grow_and_missing_index_uses_position() {
    let stream = concat!(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\":1}\"}}]}}]}\n\n",
    );
    let (calls, _) = assemble(&[stream.as_bytes()]);
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].id.as_str(), calls[0].name.as_str()), ("c1", "f"));
    assert_eq!(calls[0].arguments, json!({"a": 1}));
}

#[test]
fn chunks_without_tool_calls_allocate_no_list() {
    let c = parse_chunk(r#"{"choices":[{"delta":{"content":"hi"}}]}"#).unwrap();
    assert!(c.tool_calls.is_empty());
    assert_eq!(c.tool_calls.capacity(), 0);
}

proptest! {
    #[test]
    fn random_splits_assemble_the_same_calls(
        cuts in proptest::collection::vec(0usize..4000, 0..60),
    ) {
        let parts = split_at_cuts(PARALLEL.as_bytes(), cuts);
        prop_assert_eq!(assemble(&parts).0, expected());
    }
}

fn gateway(base: &str) -> Gateway {
    let mut cfg = GatewayConfig::new(base, None);
    cfg.timeouts.total = Some(Duration::from_secs(20));
    Gateway::new(cfg).expect("gateway")
}

#[tokio::test]
async fn a_tool_call_delta_is_the_first_token_and_tool_calls_is_a_success() {
    let mut reply = Reply::stream();
    let mut events = PARALLEL.split_inclusive("\n\n");
    reply = reply.sse(events.next().unwrap()).pause_ms(150);
    for ev in events {
        reply = reply.sse(ev).pause_ms(5);
    }
    let server = TestServer::start(vec![reply.end()]).await;
    let req = ChatRequest::new(
        "openai/gpt-5",
        vec![Message::text("user", "weather?")],
        Params::default(),
    );
    let out = gateway(&server.base).chat(&req).await;
    assert_eq!(out.error, None);
    assert_eq!(out.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(out.tool_calls, expected());
    assert_eq!(out.text, "");
    let ttft = out
        .ttft
        .expect("a tool-call delta counts as the first token");
    assert!(ttft >= Duration::from_millis(150), "{ttft:?}");
    assert_eq!(out.chunks, 7);
}

#[tokio::test]
async fn the_body_carries_tools_formats_and_every_parameter() {
    let finish = r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#;
    let server = TestServer::start(vec![Reply::stream().data(finish).done()]).await;
    let params: Params = serde_json::from_value(json!({
        "temperature": 0.3, "top_p": 0.9, "max_tokens": 64, "seed": 7, "stop": ["END"],
        "presence_penalty": 0.5, "frequency_penalty": -0.5, "reasoning_effort": "low",
        "extra_body": {"user": "u-1", "top_p": 0.8}
    }))
    .unwrap();
    let req = ChatRequest {
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Weather".into()),
            parameters: Some(json!({"type": "object"})),
            strict: None,
        }],
        tool_choice: Some(ToolChoice::Function("get_weather".into())),
        parallel_tool_calls: Some(false),
        response_format: Some(ResponseFormat::JsonObject),
        ..ChatRequest::new("openai/gpt-5", vec![Message::text("user", "hi")], params)
    };
    let out = gateway(&server.base).chat(&req).await;
    assert_eq!(out.error, None);
    let body: serde_json::Value = serde_json::from_slice(&server.received()[0].body).unwrap();
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}}])
    );
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "get_weather"}})
    );
    assert_eq!(body["parallel_tool_calls"], json!(false));
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    for (k, v) in [
        ("temperature", json!(0.3)),
        ("max_tokens", json!(64)),
        ("seed", json!(7)),
        ("stop", json!(["END"])),
        ("presence_penalty", json!(0.5)),
        ("frequency_penalty", json!(-0.5)),
        ("reasoning_effort", json!("low")),
        ("user", json!("u-1")),
        // extra_body wins over the typed parameter.
        ("top_p", json!(0.8)),
    ] {
        assert_eq!(body[k], v, "{k}");
    }
    assert_eq!(body["stream"], json!(true));
}

/// A gateway streaming call after call, or one endless argument or name,
/// cannot grow memory past the answer limit: every call shares it.
#[test]
fn all_calls_together_stay_within_the_answer_limit() {
    let limit = 1000;
    let mut asm = ToolCallAssembler::new(limit);
    let fragment = format!(r#""{}""#, "a".repeat(98));
    for i in 0..300u32 {
        for _ in 0..3 {
            let chunk = format!(
                r#"{{"choices":[{{"delta":{{"tool_calls":[{{"index":{i},"id":"call_{i}","function":{{"name":"f","arguments":{}}}}}]}}}}]}}"#,
                serde_json::to_string(&fragment).unwrap()
            );
            let c = parse_chunk(&chunk).expect("valid chunk");
            for (n, d) in c.tool_calls.iter().enumerate() {
                asm.add(n, d);
            }
        }
    }
    assert!(asm.truncated());
    let calls = asm.finish();
    let held: usize = calls
        .iter()
        .map(|c| c.id.len() + c.name.len() + c.arguments.to_string().len())
        .sum();
    // Arguments that were cut are kept as their raw text (a JSON string).
    assert!(held <= limit + 4 * calls.len(), "{held} bytes held");
    assert!(calls.len() <= 128);
    let cut = |c: &ToolCall| {
        c.error
            .as_deref()
            .is_some_and(|e| e.contains("answer limit"))
    };
    assert!(cut(calls.last().unwrap()));
    assert!(!cut(&calls[0]), "{:?}", calls[0]);

    let mut asm = ToolCallAssembler::new(1 << 20);
    let long = format!(
        r#"{{"choices":[{{"delta":{{"tool_calls":[{{"index":0,"id":"x","function":{{"name":"{}"}}}}]}}}}]}}"#,
        "n".repeat(100_000)
    );
    asm.add(0, &parse_chunk(&long).unwrap().tool_calls[0]);
    let calls = asm.finish();
    assert_eq!(calls[0].name.len(), 256);
    assert!(cut(&calls[0]));
}
