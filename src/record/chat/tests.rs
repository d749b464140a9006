//! Unit tests of `record::chat`.

use super::*;
use serde_json::json;

#[test]
fn messages_serialize_to_the_wire_shapes() {
    let img = Image {
        url: Arc::from("data:image/png;base64,AAAA"),
        detail: Some("low".into()),
        file: Some(ImageFile {
            path: "data/cat.png".into(),
            sha256: "ab".into(),
            media_type: "image/png".into(),
            bytes: 3,
        }),
    };
    let m = Message {
        role: "user".into(),
        content: Content::Parts(vec![Part::Text("what is it?".into()), Part::Image(img)]),
        ..Message::default()
    };
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({"role": "user", "content": [
            {"type": "text", "text": "what is it?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
        ]})
    );
    assert!(!format!("{m:?}").contains("base64"), "{m:?}");
    let a = Message {
        role: "assistant".into(),
        tool_calls: vec![AssistantToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Berlin\"}".into(),
        }],
        ..Message::default()
    };
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Berlin\"}"}}
        ]})
    );
    let t = Message {
        role: "tool".into(),
        content: "18 C".into(),
        tool_call_id: Some("call_1".into()),
        ..Message::default()
    };
    assert_eq!(
        serde_json::to_value(&t).unwrap(),
        json!({"role": "tool", "content": "18 C", "tool_call_id": "call_1"})
    );
}

#[test]
fn params_merge_later_wins_and_extra_body_merges_by_key() {
    let base: Params = serde_json::from_value(
        json!({"temperature": 0.2, "seed": 7, "extra_body": {"a": 1, "b": 2}}),
    )
    .unwrap();
    let over: Params =
        serde_json::from_value(json!({"temperature": 0.9, "extra_body": {"b": 3}})).unwrap();
    let m = base.merged(&over);
    assert_eq!(m.temperature, Some(0.9));
    assert_eq!(m.seed, Some(7));
    assert_eq!(
        Value::Object(m.extra_body.unwrap()),
        json!({"a": 1, "b": 3})
    );
    assert!(serde_json::from_value::<Params>(json!({"temprature": 1})).is_err());
}

#[test]
fn tool_call_arguments_parse_or_keep_the_raw_text() {
    let ok = ToolCall::from_raw("c".into(), "f".into(), "{\"x\":1}".into());
    assert_eq!(ok.arguments, json!({"x": 1}));
    assert!(ok.error.is_none());
    let bad = ToolCall::from_raw("c".into(), "f".into(), "{\"x\":".into());
    assert_eq!(bad.arguments, json!("{\"x\":"));
    assert!(bad.error.is_some());
    assert_eq!(
        ToolCall::from_raw("c".into(), "f".into(), String::new()).arguments,
        json!({})
    );
}
