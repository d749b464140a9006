//! The HTML document around a report: head, stylesheet, header, tables.
//!
//! One inline stylesheet, a system font stack and CSS variables for the light
//! and dark palettes (`prefers-color-scheme`). A Content-Security-Policy
//! forbids scripts and every external request, so the file works offline and
//! an answer that slipped through escaping still could not run.

use std::fmt::Write as _;

pub use crate::report::svg::esc;
use crate::report::table::TableData;
use crate::report::SIMULATED_BANNER;

const CSS: &str = r#"
:root{color-scheme:light dark;
--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--muted:#5b6573;--line:#e2e6eb;--grid:#edf0f3;--accent:#2957d9;
--warn-bg:#fff4d6;--warn-fg:#6b4a00;--warn-line:#f0c65a;--bad:#c62828;--bad-bg:#fdecec;--good:#1e7d3a;--good-bg:#e7f5ea;
--c0:#2f6fde;--c1:#e08a00;--c2:#159a6c;--c3:#c2489b;--c4:#5aa9e6;--c5:#d55e00;--c6:#7b61c9;--c7:#6b7785;
--k0:#d64545;--k1:#f29e38;--k2:#8e5cc8;--k3:#3f8fd2;--k4:#9a6b3f;--k5:#6b7785}
@media (prefers-color-scheme:dark){:root{
--bg:#0f1216;--card:#171b21;--fg:#e6e9ee;--muted:#9aa4b1;--line:#2a3038;--grid:#222830;--accent:#7ea2ff;
--warn-bg:#3a2d06;--warn-fg:#ffd978;--warn-line:#7a5c10;--bad:#ff7b7b;--bad-bg:#3a1717;--good:#6fd98f;--good-bg:#12301c;
--c0:#6f9dff;--c1:#ffb347;--c2:#3fd19b;--c3:#f07cc6;--c4:#8ccfff;--c5:#ff8a4c;--c6:#b39dff;--c7:#aab4c0;
--k0:#ff6b6b;--k1:#ffb65c;--k2:#c49bff;--k3:#72b7ff;--k4:#d2a172;--k5:#aab4c0}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 28px 48px}
h1{font-size:28px;line-height:1.2;margin:2px 0 10px;letter-spacing:-.01em}
h2{font-size:19px;margin:36px 0 12px}
h3{font-size:16px;margin:0 0 10px}
.eyebrow{color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.08em;font-weight:600}
.banner{background:var(--warn-bg);color:var(--warn-fg);border:1px solid var(--warn-line);border-radius:10px;
padding:12px 16px;font-weight:700;margin:0 0 20px;display:flex;gap:10px;align-items:center}
.banner::before{content:"⚠";font-size:20px}
.meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:8px 24px;margin:14px 0 0;
padding:0;list-style:none;color:var(--muted);font-size:14px}
.meta b{display:block;color:var(--fg);font-weight:600;font-size:14px;overflow-wrap:anywhere}
.glance{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:18px;margin-top:22px}
.glance .big{font-size:26px;font-weight:700;letter-spacing:-.01em;margin:2px 0;font-variant-numeric:tabular-nums}
.glance .eyebrow{font-size:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:18px 20px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}
th,td{padding:7px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{color:var(--muted);font-weight:600;font-size:12.5px;white-space:normal;vertical-align:bottom;line-height:1.25}
td.num,th.num{text-align:right}
tbody tr:last-child td{border-bottom:0}
tr.regressed td{background:var(--bad-bg)}
tr.improved td{background:var(--good-bg)}
.verdict{font-weight:700}
.verdict-line{font-size:17px;font-weight:700;margin:0 0 4px}
.verdict-line.bad{color:var(--bad)}.verdict-line.good{color:var(--good)}
tr.regressed .verdict{color:var(--bad)}
tr.improved .verdict{color:var(--good)}
.sw{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:8px;vertical-align:baseline;flex:none}
table.wrap td:last-child{white-space:normal;min-width:220px}
.grid-errors{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr);gap:18px}
@media (max-width:980px){.grid-errors{grid-template-columns:1fr}}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:18px}
figure{margin:0}
figcaption{font-weight:650;font-size:15.5px}
figcaption small{display:block;font-weight:400;color:var(--muted);font-size:13px;margin-top:2px}
.legend{list-style:none;padding:0;margin:8px 0 4px;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px;color:var(--muted)}
.legend .dash{display:inline-block;width:18px;border-top:2px dashed currentColor;margin:0 6px 3px 0;vertical-align:middle}
.legend .solid{display:inline-block;width:18px;border-top:2px solid currentColor;margin:0 6px 3px 0;vertical-align:middle}
.note{color:var(--muted);font-size:13px;margin:6px 0 0}
svg.chart{width:100%;height:auto;display:block;overflow:visible}
svg text{font:11.5px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:var(--muted)}
svg text.label{font-size:12px;font-weight:600}
svg text.row-label,svg text.point-label{fill:var(--fg);font-size:12px}
svg text.point-label{font-weight:600}
svg .grid{stroke:var(--grid);stroke-width:1}
svg .frame{stroke:var(--line);stroke-width:1.2}
svg .series{fill:none;stroke-width:2.4;stroke-linejoin:round;stroke-linecap:round}
svg .series.dashed{stroke-dasharray:6 5;stroke-width:2;opacity:.85}
svg .point{stroke:var(--card);stroke-width:2}
svg .leader{stroke:var(--muted);stroke-width:1;opacity:.7}
svg .whisker{stroke-width:2}
svg .iqr{fill-opacity:.28;stroke-width:1.6}
svg .median{stroke-width:3}
.box .whisker,.box .iqr,.box .median{stroke:currentColor}.box .iqr{fill:currentColor}
.bar{stroke:var(--card);stroke-width:1}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:1px 8px;border-radius:99px;margin-left:auto}
.badge.fail,.badge.error{background:var(--bad-bg);color:var(--bad)}
.badge.pass{background:var(--good-bg);color:var(--good)}
.badge.skipped,.badge.unchecked{background:var(--grid);color:var(--muted)}
.case{margin:0 0 18px}
.case h3 code{font-size:15px}
.answers{display:grid;gap:12px;grid-auto-flow:column;grid-auto-columns:minmax(280px,1fr);overflow-x:auto}
.answer{border:1px solid var(--line);border-radius:10px;padding:12px;background:var(--bg);min-width:0}
.answer header{display:flex;align-items:center;gap:6px;font-weight:600;font-size:14px;margin-bottom:6px}
.answer ul{margin:4px 0 8px;padding-left:18px;font-size:13px;color:var(--bad)}
.answer pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:320px;overflow:auto}
.answer .runs{font-size:12px;color:var(--muted);margin:0 0 6px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
footer{color:var(--muted);font-size:12.5px;margin-top:40px}
"#;

/// Per-model palette classes: `.c{n}` sets the colour used by strokes, fills
/// and swatches. Eight colours; more models reuse them in order.
const PALETTE: usize = 8;

fn palette_css() -> String {
    let mut out = String::new();
    for i in 0..PALETTE {
        let _ = write!(
            out,
            ".c{i}{{color:var(--c{i})}}.series.c{i}{{stroke:var(--c{i})}}.point.c{i}{{fill:var(--c{i})}}.sw.c{i}{{background:var(--c{i})}}.bar.k{i}{{fill:var(--k{k})}}.sw.k{i}{{background:var(--k{k})}}",
            k = i % 6,
        );
    }
    out
}

/// The palette index of the model at position `i`.
pub fn color(i: usize) -> usize {
    i % PALETTE
}

/// A whole document around `body`.
pub fn document(title: &str, body: &str) -> String {
    format!(
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
            "<meta name=\"color-scheme\" content=\"light dark\">\n",
            "<title>{}</title>\n<style>{}{}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n"
        ),
        esc(title),
        CSS,
        palette_css(),
        body,
    )
}

/// The simulated-run banner.
pub fn banner() -> String {
    format!(
        "<p class=\"banner\" role=\"note\">{}</p>\n",
        esc(SIMULATED_BANNER)
    )
}

/// A `<ul class="meta">` of (label, value) pairs; values are escaped.
pub fn meta_list(items: &[(&str, String)]) -> String {
    let mut out = String::from("<ul class=\"meta\">");
    for (label, value) in items {
        let _ = write!(out, "<li>{}<b>{}</b></li>", esc(label), esc(value));
    }
    out.push_str("</ul>\n");
    out
}

/// A colour swatch for a palette class (`c3`, `k1`).
pub fn swatch(class: &str) -> String {
    format!("<span class=\"sw {class}\" aria-hidden=\"true\"></span>")
}

/// A table from [`TableData`]; the first column gets model swatches when
/// `colors` is given (one palette index per row).
pub fn table(data: &TableData, colors: Option<&[usize]>) -> String {
    table_with(data, colors, "")
}

/// [`table`] with a class on the `<table>` (`wrap` lets long cells wrap).
pub fn table_with(data: &TableData, colors: Option<&[usize]>, class: &str) -> String {
    let mut out = format!("<div class=\"scroll\"><table class=\"{class}\">\n<thead><tr>");
    for (h, &num) in data.headers.iter().zip(&data.numeric) {
        let _ = write!(out, "<th{}>{}</th>", num_class(num), esc(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (r, row) in data.rows.iter().enumerate() {
        out.push_str("<tr>");
        for (c, (cell, &num)) in row.iter().zip(&data.numeric).enumerate() {
            let sw = match colors.and_then(|cs| cs.get(r)) {
                Some(&k) if c == 0 => swatch(&format!("c{k}")),
                _ => String::new(),
            };
            let _ = write!(out, "<td{}>{sw}{}</td>", num_class(num), esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn num_class(numeric: bool) -> &'static str {
    if numeric {
        " class=\"num\""
    } else {
        ""
    }
}

/// A legend of model names with their colours; `styles` adds line samples
/// (e.g. dashed baseline / solid current) after the models.
pub fn legend(models: &[(usize, &str)], styles: &[(&str, &str)]) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (color, name) in models {
        let _ = write!(
            out,
            "<li>{}{}</li>",
            swatch(&format!("c{color}")),
            esc(name)
        );
    }
    for (class, name) in styles {
        let _ = write!(out, "<li><span class=\"{class}\"></span>{}</li>", esc(name));
    }
    out.push_str("</ul>");
    out
}

/// A chart inside a card: caption with a subtitle, legend, the SVG, notes.
pub fn figure(caption: &str, sub: &str, legend: &str, svg: &str, notes: &[String]) -> String {
    let mut out = format!(
        "<figure class=\"card\"><figcaption>{}<small>{}</small></figcaption>{legend}{svg}",
        esc(caption),
        esc(sub)
    );
    for n in notes {
        let _ = write!(out, "<p class=\"note\">{}</p>", esc(n));
    }
    out.push_str("</figure>\n");
    out
}

/// The page footer.
pub fn footer(version: &str) -> String {
    format!(
        "<footer>Written by evalgate {}. Self-contained: no scripts, no external requests; every number comes from this run's summary.json and responses.jsonl.</footer>\n",
        esc(version)
    )
}
