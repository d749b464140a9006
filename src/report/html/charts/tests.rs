//! Unit tests of `report::html::charts`.

use super::*;

#[test]
fn cdf_is_a_staircase_ending_at_one() {
    let mut h = Histogram::<u64>::new(3).unwrap();
    for v in [100_000, 200_000, 200_000, 400_000] {
        h.record(v).unwrap();
    }
    let pts = cdf(&h, 1000.0);
    assert_eq!(
        pts,
        vec![
            (100.0, 0.0),
            (100.0, 0.25),
            (200.0, 0.25),
            (200.0, 0.75),
            (400.0, 0.75),
            (400.0, 1.0)
        ]
    );
    let mut many = Histogram::<u64>::new(3).unwrap();
    for v in 1..5000u64 {
        many.record(v * 7).unwrap();
    }
    let pts = cdf(&many, 1.0);
    assert_eq!(pts.len(), 201);
    assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
}
