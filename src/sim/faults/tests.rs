//! Unit tests of `sim::faults`.

use super::*;

fn rules(s: &str) -> Vec<FaultRule> {
    s.split('+').map(|r| r.parse().unwrap()).collect()
}

#[test]
fn flaky_limits_suffix_faults_to_the_first_requests() {
    let r = rules("429+flaky-2");
    assert_eq!(decide(1, "m", 0, &r, &[]).http, Some(429));
    assert_eq!(decide(1, "m", 1, &r, &[]).http, Some(429));
    assert_eq!(decide(1, "m", 2, &r, &[]), Decided::default());
}

#[test]
fn rates_are_deterministic_and_roughly_right() {
    let r = rules("503@0.3");
    let hits = |seed| {
        (0..2000)
            .filter(|c| decide(seed, "sim/fast", *c, &r, &[]).http.is_some())
            .count()
    };
    assert_eq!(hits(5), hits(5));
    let n = hits(5);
    assert!((450..750).contains(&n), "{n} hits of 2000 at rate 0.3");
    let global = rules("stall-ttft-100@0");
    assert_eq!(decide(5, "x", 0, &[], &global).stall_ttft_ms, 0);
    let global = rules("no-usage+retry-after-7");
    let d = decide(5, "x", 0, &[], &global);
    assert!(d.no_usage);
    assert_eq!(d.retry_after, Some(7));
}
