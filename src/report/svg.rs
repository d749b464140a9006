//! Small hand-written SVG charts for the HTML reports: line charts (CDFs),
//! labelled scatter plots, stacked horizontal bars and box plots.
//!
//! No plotting crate: the charts are simple, and writing the elements by hand
//! keeps the report self-contained, tiny and styleable from the page's CSS
//! (colours are CSS classes backed by variables, so dark mode needs no second
//! rendering). Every chart carries `role="img"`, a `<title>` and a `<desc>`;
//! every mark carries its own `<title>` (a hover tooltip with the numbers).

use std::fmt::Write as _;

/// Chart canvas size (the SVG scales to its container through `viewBox`).
const W: f64 = 560.0;
const H: f64 = 300.0;
/// Plot margins: left (y tick labels), right, top, bottom (x ticks + label).
const ML: f64 = 62.0;
const MR: f64 = 18.0;
const MT: f64 = 14.0;
const MB: f64 = 46.0;

/// Escape text for HTML and SVG content and attribute values; control
/// characters other than newline and tab become U+FFFD.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(ch),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One axis: its value range, scale and how ticks are written.
#[derive(Clone, Debug)]
pub struct Axis {
    /// Smallest value shown.
    pub min: f64,
    /// Largest value shown.
    pub max: f64,
    /// Logarithmic scale (`min` must be > 0).
    pub log: bool,
    /// Axis title, with its unit, e.g. `time to first token (ms)`.
    pub label: String,
    /// Formats a tick value.
    pub fmt: fn(f64) -> String,
}

impl Axis {
    /// A linear axis from `min` to `max` (widened when empty).
    pub fn linear(min: f64, max: f64, label: &str, fmt: fn(f64) -> String) -> Self {
        let max = if max > min { max } else { min + 1.0 };
        Axis {
            min,
            max,
            log: false,
            label: label.to_string(),
            fmt,
        }
    }

    /// An axis for positive values from `lo` to `hi`: logarithmic when they
    /// span more than `ratio`×, else linear from zero. Bounds are padded to
    /// tick-friendly numbers.
    pub fn auto(lo: f64, hi: f64, ratio: f64, label: &str, fmt: fn(f64) -> String) -> Self {
        let (lo, hi) = (lo.max(f64::MIN_POSITIVE), hi.max(lo));
        if hi / lo > ratio {
            Axis {
                min: 10f64.powf(lo.log10().floor()),
                max: 10f64.powf(hi.log10().ceil()),
                log: true,
                label: label.to_string(),
                fmt,
            }
        } else {
            let step = nice_step(hi * 1.05, 5);
            Axis::linear(0.0, (hi * 1.05 / step).ceil() * step, label, fmt)
        }
    }

    /// Fraction (0..=1) of the way from `min` to `max`, clamped.
    fn frac(&self, v: f64) -> f64 {
        let f = if self.log {
            let v = v.max(self.min);
            (v.ln() - self.min.ln()) / (self.max.ln() - self.min.ln())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        f.clamp(0.0, 1.0)
    }

    /// Tick values: 1-2-5 steps (linear) or 1-2-5 per decade (log).
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let decades = (self.max / self.min).log10().round().max(1.0);
            let mults: &[f64] = match decades as u32 {
                0..=2 => &[1.0, 2.0, 5.0],
                _ => &[1.0],
            };
            let mut out = Vec::new();
            let mut base = self.min;
            while base <= self.max * 1.000_001 {
                for m in mults {
                    let v = base * m;
                    if v <= self.max * 1.000_001 {
                        out.push(v);
                    }
                }
                base *= 10.0;
            }
            out
        } else {
            let step = nice_step(self.max - self.min, 5);
            let first = (self.min / step).ceil() as i64;
            let last = (self.max / step + 1e-9).floor() as i64;
            (first..=last).map(|i| i as f64 * step).collect()
        }
    }
}

/// A round step (1, 2 or 5 × 10ⁿ) giving about `target` intervals over `span`.
fn nice_step(span: f64, target: u32) -> f64 {
    if span <= 0.0 || !span.is_finite() {
        return 1.0;
    }
    let raw = span / f64::from(target);
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A plain number for tick labels: no trailing zeros, thousands grouped.
pub fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let text = if a >= 1000.0 {
        let n = v.round() as i64;
        let digits = n.abs().to_string();
        let mut g = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                g.push(',');
            }
            g.push(ch);
        }
        if n < 0 {
            format!("-{g}")
        } else {
            g
        }
    } else {
        let decimals = if a >= 10.0 {
            1
        } else if a >= 0.01 {
            3
        } else {
            6
        };
        let t = format!("{v:.decimals$}");
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    text
}

/// A share 0..=1 as a whole percentage.
pub fn fmt_pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// One line of a line chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend and tooltip name.
    pub name: String,
    /// Palette index (CSS class `c{n}`); stable per model across charts.
    pub color: usize,
    /// Points in data units, drawn in order.
    pub points: Vec<(f64, f64)>,
    /// Drawn dashed (a baseline under a current run).
    pub dashed: bool,
}

/// One labelled point of a scatter plot.
#[derive(Clone, Debug)]
pub struct Dot {
    /// Label written next to the point.
    pub label: String,
    /// Palette index.
    pub color: usize,
    pub x: f64,
    pub y: f64,
    /// Tooltip text.
    pub tip: String,
}

/// One bar of a stacked bar chart: segments of (category index, value).
#[derive(Clone, Debug)]
pub struct Bar {
    pub label: String,
    pub segments: Vec<(usize, f64)>,
}

/// One row of a box plot: p5, p25, p50, p75, p95 in data units.
#[derive(Clone, Debug)]
pub struct BoxRow {
    pub label: String,
    pub color: usize,
    pub q: [f64; 5],
}

/// The plot area, in SVG units.
struct Plot {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Plot {
    fn new(height: f64, left: f64) -> Self {
        Plot {
            x0: left,
            x1: W - MR,
            y0: MT,
            y1: height - MB,
        }
    }
    fn x(&self, axis: &Axis, v: f64) -> f64 {
        self.x0 + axis.frac(v) * (self.x1 - self.x0)
    }
    fn y(&self, axis: &Axis, v: f64) -> f64 {
        self.y1 - axis.frac(v) * (self.y1 - self.y0)
    }
}

fn open(out: &mut String, height: f64, kind: &str, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart {kind}" viewBox="0 0 {W} {height}" role="img" aria-label="{t}"><title>{t}</title><desc>{d}</desc>"#,
        t = esc(title),
        d = esc(desc),
    );
}

/// Gridlines, tick labels and the title of the x axis.
fn x_axis(out: &mut String, p: &Plot, axis: &Axis) {
    out.push_str(r#"<g class="axis x">"#);
    for t in axis.ticks() {
        let x = p.x(axis, t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            p.y0,
            p.y1,
            p.y1 + 16.0,
            esc(&(axis.fmt)(t)),
        );
    }
    let _ = write!(
        out,
        r#"<line class="frame" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></g>"#,
        p.x0,
        p.x1,
        (p.x0 + p.x1) / 2.0,
        p.y1 + 36.0,
        esc(&axis.label),
        y = p.y1,
    );
}

/// Gridlines, tick labels and the (rotated) title of the y axis.
fn y_axis(out: &mut String, p: &Plot, axis: &Axis) {
    out.push_str(r#"<g class="axis y">"#);
    for t in axis.ticks() {
        let y = p.y(axis, t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            p.x0,
            p.x1,
            p.x0 - 6.0,
            y + 4.0,
            esc(&(axis.fmt)(t)),
        );
    }
    let (cx, cy) = (14.0, (p.y0 + p.y1) / 2.0);
    let _ = write!(
        out,
        r#"<line class="frame" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/><text class="label" x="{cx}" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 {cx} {cy:.1})">{}</text></g>"#,
        p.y0,
        p.y1,
        esc(&axis.label),
        x = p.x0,
    );
}

/// A line chart: one `<path class="series">` per series, in palette colours.
pub fn line_chart(title: &str, desc: &str, x: &Axis, y: &Axis, series: &[Series]) -> String {
    let p = Plot::new(H, ML);
    let mut out = String::new();
    open(&mut out, H, "lines", title, desc);
    y_axis(&mut out, &p, y);
    x_axis(&mut out, &p, x);
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let mut d = String::new();
        for (i, &(vx, vy)) in s.points.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            let _ = write!(d, "{cmd}{:.1},{:.1}", p.x(x, vx), p.y(y, vy));
        }
        let dash = if s.dashed { " dashed" } else { "" };
        let _ = write!(
            out,
            r#"<path class="series c{}{dash}" data-model="{n}" data-points="{}" d="{d}"><title>{n}</title></path>"#,
            s.color,
            s.points.len(),
            n = esc(&s.name),
        );
    }
    out.push_str("</svg>");
    out
}

/// A scatter plot with a label beside every point.
pub fn scatter(title: &str, desc: &str, x: &Axis, y: &Axis, dots: &[Dot]) -> String {
    let p = Plot::new(H, ML);
    let mut out = String::new();
    open(&mut out, H, "scatter", title, desc);
    y_axis(&mut out, &p, y);
    x_axis(&mut out, &p, x);
    let centers: Vec<(f64, f64)> = dots.iter().map(|d| (p.x(x, d.x), p.y(y, d.y))).collect();
    let mut taken: Vec<[f64; 4]> = centers
        .iter()
        .map(|&(cx, cy)| [cx - 7.0, cy - 7.0, cx + 7.0, cy + 7.0])
        .collect();
    for (d, &(cx, cy)) in dots.iter().zip(&centers) {
        let (lx, ly, anchor) = place_label(&p, H, &mut taken, cx, cy, &d.label);
        out.push_str(r#"<g class="dot">"#);
        if (ly - cy).abs() > 6.0 {
            // A label moved off its point's row gets a leader line to it.
            let ty = if ly < cy { ly + 2.0 } else { ly - 11.0 };
            let _ = write!(
                out,
                r#"<line class="leader" x1="{cx:.1}" y1="{cy:.1}" x2="{:.1}" y2="{ty:.1}"/>"#,
                lx + if anchor == "start" { 2.0 } else { -2.0 },
            );
        }
        let _ = write!(
            out,
            r#"<circle class="point c{}" cx="{cx:.1}" cy="{cy:.1}" r="6"><title>{}</title></circle><text class="point-label" x="{lx:.1}" y="{ly:.1}" text-anchor="{anchor}">{}</text></g>"#,
            d.color,
            esc(&d.tip),
            esc(&d.label),
        );
    }
    out.push_str("</svg>");
    out
}

/// Where a point's label goes: beside it, right or left, on the first of a
/// few rows above and below that overlaps no other label or point and stays
/// inside the canvas. Reserves the chosen box in `taken`.
fn place_label(
    p: &Plot,
    height: f64,
    taken: &mut Vec<[f64; 4]>,
    cx: f64,
    cy: f64,
    label: &str,
) -> (f64, f64, &'static str) {
    let w = label.chars().count() as f64 * 6.9;
    let rows = [-5.0, 9.0, -19.0, 23.0, -33.0, 37.0, -47.0, 51.0];
    let mut first = None;
    for dy in rows {
        for (dx, anchor) in [(10.0, "start"), (-10.0, "end")] {
            let lx = cx + dx;
            let ly = cy + dy;
            let (x0, x1) = if anchor == "start" {
                (lx, lx + w)
            } else {
                (lx - w, lx)
            };
            let b = [x0, ly - 11.0, x1, ly + 3.0];
            first.get_or_insert((lx, ly, anchor, b));
            let inside = b[0] >= p.x0 && b[2] <= W - 2.0 && b[1] >= 0.0 && b[3] <= height - MB;
            let free = !taken
                .iter()
                .any(|t| b[0] < t[2] && t[0] < b[2] && b[1] < t[3] && t[1] < b[3]);
            if inside && free {
                taken.push(b);
                return (lx, ly, anchor);
            }
        }
    }
    let (lx, ly, anchor, b) = first.expect("at least one candidate");
    taken.push(b);
    (lx, ly, anchor)
}

/// Vertical space per row: a few rows spread over the standard height (so
/// charts side by side line up), many rows at least 30 units each.
fn row_pitch(rows: usize) -> f64 {
    ((H - MT - MB) / rows.max(1) as f64).clamp(30.0, 48.0)
}

/// Height of a chart with one row per label.
fn rows_height(rows: usize) -> f64 {
    MT + MB + row_pitch(rows) * rows.max(1) as f64
}

/// Left margin wide enough for the longest row label (about 6.5 units per char).
fn label_margin<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    let longest = labels.map(|l| l.chars().count()).max().unwrap_or(0);
    (longest as f64 * 6.6 + 14.0).clamp(ML, 230.0)
}

fn row_label(out: &mut String, p: &Plot, y: f64, label: &str) {
    let _ = write!(
        out,
        r#"<text class="row-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        p.x0 - 8.0,
        y + 4.0,
        esc(label),
    );
}

/// Horizontal stacked bars, one per row; segment colours are the CSS
/// classes `k{category}`, named by `categories`.
pub fn stacked_bars(
    title: &str,
    desc: &str,
    x: &Axis,
    bars: &[Bar],
    categories: &[String],
) -> String {
    let h = rows_height(bars.len());
    let p = Plot::new(h, label_margin(bars.iter().map(|b| b.label.as_str())));
    let mut out = String::new();
    open(&mut out, h, "bars", title, desc);
    x_axis(&mut out, &p, x);
    for (i, bar) in bars.iter().enumerate() {
        let yc = p.y0 + row_pitch(bars.len()) * (i as f64 + 0.5);
        row_label(&mut out, &p, yc, &bar.label);
        let mut acc = 0.0;
        for &(cat, v) in bar.segments.iter().filter(|s| s.1 > 0.0) {
            let (a, b) = (p.x(x, acc), p.x(x, acc + v));
            acc += v;
            let name = categories.get(cat).map_or("", String::as_str);
            let _ = write!(
                out,
                r#"<rect class="bar k{}" x="{a:.1}" y="{:.1}" width="{:.1}" height="18"><title>{}: {} {}</title></rect>"#,
                cat % 8,
                yc - 9.0,
                (b - a).max(1.0),
                esc(&bar.label),
                fmt_num(v),
                esc(name),
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Horizontal box plots: whiskers p5–p95, box p25–p75, a bar at the median.
pub fn box_plot(title: &str, desc: &str, x: &Axis, rows: &[BoxRow]) -> String {
    let h = rows_height(rows.len());
    let p = Plot::new(h, label_margin(rows.iter().map(|r| r.label.as_str())));
    let mut out = String::new();
    open(&mut out, h, "boxes", title, desc);
    x_axis(&mut out, &p, x);
    for (i, r) in rows.iter().enumerate() {
        let yc = p.y0 + row_pitch(rows.len()) * (i as f64 + 0.5);
        row_label(&mut out, &p, yc, &r.label);
        let [a, b, m, c, d] = r.q.map(|v| p.x(x, v));
        let f = r.q.map(fmt_num);
        let _ = write!(
            out,
            concat!(
                r#"<g class="box c{}"><title>{}: p5 {} · p25 {} · median {} · p75 {} · p95 {}</title>"#,
                r#"<line class="whisker" x1="{a:.1}" y1="{yc:.1}" x2="{d:.1}" y2="{yc:.1}"/>"#,
                r#"<rect class="iqr" x="{b:.1}" y="{:.1}" width="{:.1}" height="16"/>"#,
                r#"<line class="median" x1="{m:.1}" y1="{:.1}" x2="{m:.1}" y2="{:.1}"/></g>"#,
            ),
            r.color,
            esc(&r.label),
            f[0],
            f[1],
            f[2],
            f[3],
            f[4],
            yc - 8.0,
            (c - b).max(1.5),
            yc - 10.0,
            yc + 10.0,
            a = a,
            b = b,
            d = d,
            m = m,
            yc = yc,
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests;
