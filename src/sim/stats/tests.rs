//! Unit tests of `sim::stats`.

use super::*;

#[test]
fn guards_track_in_flight_and_peak() {
    let stats = Arc::new(Stats::default());
    let mut a = stats.begin("gen_a".into(), "m".into(), Instant::now());
    let b = stats.begin("gen_b".into(), "m".into(), Instant::now());
    a.first_token();
    assert_eq!(stats.snapshot().in_flight, 2);
    drop(a);
    drop(b);
    let s = stats.snapshot();
    assert_eq!(
        (s.requests, s.in_flight, s.peak_in_flight, s.completed),
        (2, 0, 2, 2)
    );
    assert_eq!(s.ttft.count, 1);
    let reqs = stats.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[0].server_ttft_us.is_some() && reqs[1].server_ttft_us.is_none());
    stats.reset();
    let s = stats.snapshot();
    assert_eq!((s.requests, s.peak_in_flight, s.ttft.count), (0, 0, 0));
    assert!(stats.requests().is_empty());
}
