//! Unit tests of `sim::tools`.

use super::*;

fn tool(name: &str, desc: &str, params: Value) -> SimTool {
    serde_json::from_value(json!({"type": "function", "function": {"name": name, "description": desc, "parameters": params}})).unwrap()
}

#[test]
fn arguments_are_valid_against_the_schema_and_use_the_prompt() {
    let schema = json!({"type": "object", "required": ["city", "days", "unit"],
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "unit": {"enum": ["celsius", "fahrenheit"]}, "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "when": {"type": "string", "format": "date"}, "ok": {"type": ["boolean", "null"]}}});
    let hints = Hints::new("What is the weather in Berlin for 3 days in fahrenheit?");
    let v = generate(&schema, &hints, &mut 0, 0);
    assert!(jsonschema::is_valid(&schema, &v), "{v}");
    assert_eq!(v["city"], "Berlin");
    assert_eq!(v["days"], 3);
    assert_eq!(v["unit"], "fahrenheit");
}

#[test]
fn tools_are_chosen_by_the_prompt_or_forced() {
    let tools = vec![
        tool(
            "get_weather",
            "Current weather for a city",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        ),
        tool(
            "search_flights",
            "Find flights between two airports",
            json!({"type": "object"}),
        ),
    ];
    let h = Hints::new("What's the weather in Paris?");
    let calls = plan_calls(&tools, None, None, false, &h, 1);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "get_weather");
    assert_eq!(calls[0].arguments, r#"{"city":"Paris"}"#);
    let forced = json!({"type": "function", "function": {"name": "search_flights"}});
    assert_eq!(
        plan_calls(&tools, Some(&forced), None, false, &h, 1)[0].name,
        "search_flights"
    );
    assert!(plan_calls(&tools, Some(&json!("none")), None, false, &h, 1).is_empty());
    assert!(plan_calls(&tools, None, None, true, &h, 1).is_empty());
    let both = Hints::new("Check the weather and find flights to Rome");
    assert_eq!(plan_calls(&tools, None, None, false, &both, 1).len(), 2);
    assert_eq!(
        plan_calls(&tools, None, Some(false), false, &both, 1).len(),
        1
    );
    let none = Hints::new("Tell me a joke");
    assert!(plan_calls(&tools, None, None, false, &none, 1).is_empty());
    assert_eq!(
        plan_calls(&tools, Some(&json!("required")), None, false, &none, 1).len(),
        1
    );
}

#[test]
fn fragments_rebuild_the_text() {
    let text = "{\"city\":\"Zürich\"}";
    let parts = fragments(text, 9);
    assert!(parts.len() > 4);
    assert!(parts.iter().all(|p| !p.is_empty() && p.len() <= 4 + 3));
    assert_eq!(parts.concat(), text);
}
