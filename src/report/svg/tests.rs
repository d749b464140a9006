//! Unit tests of `report::svg`.

use super::*;

#[test]
fn escapes_markup_and_controls() {
    assert_eq!(
        esc("<script>a&b</script>\"'\u{1b}\n"),
        "&lt;script&gt;a&amp;b&lt;/script&gt;&quot;&#39;\u{FFFD}\n"
    );
}

#[test]
fn ticks_are_round() {
    let a = Axis::linear(0.0, 480.0, "ms", fmt_num);
    assert_eq!(a.ticks(), vec![0.0, 100.0, 200.0, 300.0, 400.0]);
    let l = Axis::auto(20.0, 3500.0, 20.0, "ms", fmt_num);
    assert!(l.log);
    assert_eq!((l.min, l.max), (10.0, 10_000.0));
    assert_eq!(l.ticks(), vec![10.0, 100.0, 1000.0, 10_000.0]);
    let n = Axis::auto(80.0, 470.0, 20.0, "ms", fmt_num);
    assert!(!n.log);
    assert_eq!(n.max, 500.0);
    assert_eq!(fmt_num(1500.0), "1,500");
    assert_eq!(fmt_num(0.00025), "0.00025");
    assert_eq!(fmt_num(2.5), "2.5");
}

#[test]
fn line_chart_draws_one_path_per_series() {
    let x = Axis::linear(0.0, 10.0, "x", fmt_num);
    let y = Axis::linear(0.0, 1.0, "y", fmt_pct);
    let s = |name: &str, color| Series {
        name: name.into(),
        color,
        points: vec![(1.0, 0.0), (5.0, 0.5), (9.0, 1.0)],
        dashed: color == 1,
    };
    let svg = line_chart("T <1>", "d", &x, &y, &[s("a", 0), s("<b>", 1)]);
    assert_eq!(svg.matches(r#"<path class="series"#).count(), 2);
    assert!(svg.contains(r#"class="series c1 dashed""#));
    assert!(svg.contains("<title>T &lt;1&gt;</title>"));
    assert!(!svg.contains("<b>"));
}
