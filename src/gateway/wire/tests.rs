//! Unit tests of `gateway::wire`.

use super::*;

#[test]
fn request_body_shape() {
    let messages = vec![Message::text("user", "hi")];
    let gw = serde_json::json!({"order": ["bedrock", "anthropic"]});
    let body = ChatBody {
        model: "openai/gpt-5",
        messages: &messages,
        stream: true,
        stream_options: Some(StreamOptions {
            include_usage: true,
        }),
        max_tokens: Some(400),
        temperature: None,
        top_p: None,
        seed: None,
        stop: None,
        presence_penalty: None,
        frequency_penalty: None,
        reasoning_effort: None,
        tools: &[],
        tool_choice: None,
        parallel_tool_calls: None,
        response_format: None,
        provider_options: Some(ProviderOptions { gateway: &gw }),
    };
    let v = serde_json::to_value(&body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "model": "openai/gpt-5",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 400,
            "providerOptions": {"gateway": {"order": ["bedrock", "anthropic"]}}
        })
    );
}

#[test]
fn error_messages() {
    assert_eq!(
        error_message(br#"{"error":{"message":"Invalid API key","type":"authentication_error","code":"invalid_key"}}"#),
        "Invalid API key (authentication_error, invalid_key)"
    );
    assert_eq!(
        error_message(br#"{"error":{"message":"slow down"}}"#),
        "slow down"
    );
    assert_eq!(error_message(br#"{"error":"nope"}"#), "nope");
    assert_eq!(error_message(b"  Bad Gateway\n"), "Bad Gateway");
}

#[test]
fn a_404_is_the_gateways_only_with_an_error_object() {
    assert!(is_error_object(
        br#"{"error":{"message":"Generation not found","code":404}}"#
    ));
    assert!(is_error_object(br#"{"error":{}}"#));
    for not_ours in [
        &br#"{"detail":"Not Found"}"#[..],
        br#"{"error":"Not Found"}"#,
        b"<html><body>404</body></html>",
        b"",
        b"404 page not found\n",
    ] {
        assert!(!is_error_object(not_ours), "{not_ours:?}");
    }
}
