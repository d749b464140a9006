//! Unit tests of `sim::config`.

use super::*;

#[test]
fn parses_every_fault_name() {
    let cases = [
        ("429", Fault::Http(429), 1.0),
        ("500@0.2", Fault::Http(500), 0.2),
        ("stall-ttft-2000@0.1", Fault::StallTtft(2000), 0.1),
        ("stall-mid-300", Fault::StallMid(300), 1.0),
        ("cut-mid", Fault::CutMid, 1.0),
        ("error-event", Fault::ErrorEvent, 1.0),
        ("malformed@1", Fault::Malformed, 1.0),
        ("no-usage", Fault::NoUsage, 1.0),
        ("retry-after-3", Fault::RetryAfter(3), 1.0),
        ("flaky-2", Fault::Flaky(2), 1.0),
    ];
    for (text, fault, rate) in cases {
        let rule: FaultRule = text.parse().unwrap();
        assert_eq!(rule, FaultRule { fault, rate }, "{text}");
        let again: FaultRule = rule.to_string().parse().unwrap();
        assert_eq!(again, rule, "display round trip of {text}");
    }
}

#[test]
fn rejects_bad_specs_with_a_hint() {
    assert!(matches!(
        "418".parse::<FaultRule>(),
        Err(FaultParseError::Unknown(_))
    ));
    assert!(matches!(
        "slow".parse::<FaultRule>(),
        Err(FaultParseError::Unknown(_))
    ));
    assert!(matches!(
        "stall-ttft-x".parse::<FaultRule>(),
        Err(FaultParseError::BadNumber(_))
    ));
    assert!(matches!(
        "500@1.5".parse::<FaultRule>(),
        Err(FaultParseError::BadRate(_))
    ));
    let msg = "oops".parse::<FaultRule>().unwrap_err().to_string();
    assert!(msg.contains("stall-ttft-<ms>"), "{msg}");
}

#[test]
fn splits_model_suffixes() {
    let (base, rules) = split_model_id("sim/fast+429+flaky-2").unwrap();
    assert_eq!(base, "sim/fast");
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1].fault, Fault::Flaky(2));
    let (base, rules) = split_model_id("openai/gpt-5").unwrap();
    assert_eq!(base, "openai/gpt-5");
    assert!(rules.is_empty());
    assert!(split_model_id("sim/fast+bogus").is_err());
}
