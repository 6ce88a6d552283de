//! The dashboard's charts: server-drawn SVG, each point or bar focusable with its value on hover
//! and focus, and the same numbers as a [`Table`] folded under the chart and offered as CSV.

use maud::{html, Markup};

use super::layout::Lang;

pub(super) const DAY_MS: i64 = 86_400_000;
/// The drawing's width in SVG units: about its width on a laptop's three-column dashboard, so
/// text is drawn near the size it is written at.
const W: f64 = 440.0;
const ROW: f64 = 26.0;
/// Roughly how wide one character of a 14-unit label is drawn.
const CHAR_W: f64 = 8.6;
const LINE_H: f64 = 150.0;
/// More points than this are drawn but not each made a tab stop.
const MAX_FOCUSABLE: usize = 31;

/// A chart's numbers: what its folded table shows and its CSV holds.
pub(super) struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One chart of the dashboard.
pub(super) struct Chart {
    /// Used in element ids and as `?chart=` of the CSV download.
    pub id: &'static str,
    pub heading: String,
    pub caption: String,
    pub svg: Markup,
    pub table: Table,
}

impl Chart {
    /// The chart in its section: heading, drawing, caption, and the table folded under it with
    /// its CSV link (`csv_href` already carries the range and language).
    pub fn render(&self, lang: Lang, csv_href: &str) -> Markup {
        let heading_id = format!("c-{}", self.id);
        let rows = self.table.rows.len();
        html! {
            section.chart-box aria-labelledby=(heading_id) {
                h2 #(heading_id) { (self.heading) }
                figure.chart {
                    (self.svg)
                    figcaption { (self.caption) }
                }
                details.chart-data {
                    summary {
                        (lang.t("Tabelle", "Table")) " (" (rows) " "
                        (if rows == 1 { lang.t("Zeile", "row") } else { lang.t("Zeilen", "rows") }) ")"
                    }
                    table {
                        thead { tr { @for c in &self.table.columns { th scope="col" { (c) } } } }
                        tbody { @for r in &self.table.rows { tr { @for v in r { td { (v) } } } } }
                    }
                    p { a href={ (csv_href) "&chart=" (self.id) } download { (lang.t("Als CSV herunterladen", "Download as CSV")) } }
                }
            }
        }
    }
}

pub(super) fn pct(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// Horizontal bars, one per `(label, value, text)`, scaled to `max` (or the largest value).
pub(super) fn bar_chart(
    id: &str,
    caption: &str,
    items: &[(String, f64, String)],
    max: Option<f64>,
) -> Markup {
    let top = max
        .unwrap_or_else(|| items.iter().map(|i| i.1).fold(0.0, f64::max))
        .max(f64::EPSILON);
    let height = ROW * items.len().max(1) as f64 + 8.0;
    // Room for the longest label, up to half the width.
    let longest = items.iter().map(|i| i.0.chars().count()).max().unwrap_or(0);
    let label_w = (longest as f64 * CHAR_W + 10.0).min(W / 2.0);
    let title_id = format!("t-{id}");
    let focusable = items.len() <= MAX_FOCUSABLE;
    html! {
        svg.chart #{"chart-" (id)} role="group" aria-labelledby=(title_id) width=(W) height=(height)
            viewBox={"0 0 " (W) " " (height)} xmlns="http://www.w3.org/2000/svg" {
            title #(title_id) { (caption) }
            @if items.is_empty() { text x="4" y="20" fill="currentColor" { "–" } }
            @for (i, (label, value, text)) in items.iter().enumerate() {
                @let y = 4.0 + ROW * i as f64;
                @let w = ((value / top).clamp(0.0, 1.0) * (W - label_w - 70.0)).max(1.0);
                @let name = format!("{label}: {text}");
                g.pt role="img" aria-label=(name) tabindex=[focusable.then_some("0")] {
                    title { (name) }
                    text x="0" y=(y + 17.0) fill="currentColor" font-size="14" { (label) }
                    rect.bar x=(label_w) y=(y + 3.0) width=(format!("{w:.1}")) height="18" fill="#2f6f9f" {}
                    text x=(format!("{:.1}", label_w + w + 6.0)) y=(y + 17.0) fill="currentColor" font-size="14" { (text) }
                }
            }
        }
    }
}

/// A line over labelled points `(label, value in 0..=1 or None, text)`, with a value label that
/// shows on hover and focus.
pub(super) fn line_chart(
    id: &str,
    caption: &str,
    points: &[(String, Option<f64>, String)],
    axis: &[(f64, String)],
    color: &str,
) -> Markup {
    let h = LINE_H;
    let left = 44.0;
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (W - left - 14.0) * i as f64 / n;
    let y = |v: f64| 22.0 + (h - 44.0) * (1.0 - v.clamp(0.0, 1.0));
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.1.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
        .collect();
    let title_id = format!("t-{id}");
    let focusable = points.len() <= MAX_FOCUSABLE;
    html! {
        svg.chart #{"chart-" (id)} role="group" aria-labelledby=(title_id) width=(W) height=(h)
            viewBox={"0 0 " (W) " " (h)} xmlns="http://www.w3.org/2000/svg" {
            title #(title_id) { (caption) }
            @for (v, label) in axis {
                line x1=(left) x2=(W - 14.0) y1=(y(*v)) y2=(y(*v)) stroke="#ccc" {}
                text x="0" y=(y(*v) + 4.0) fill="currentColor" font-size="13" { (label) }
            }
            polyline points=(line.join(" ")) fill="none" stroke=(color) stroke-width="2" {}
            @if points.len() <= 2 * MAX_FOCUSABLE {
                @for (i, (label, value, text)) in points.iter().enumerate() {
                    @if let Some(v) = value {
                        @let name = format!("{label}: {text}");
                        @let (cx, cy) = (x(i), y(*v));
                        g.pt role="img" aria-label=(name) tabindex=[focusable.then_some("0")] {
                            title { (name) }
                            circle cx=(format!("{cx:.1}")) cy=(format!("{cy:.1}")) r="4" fill=(color) {}
                            text.val x=(format!("{cx:.1}")) y=(format!("{:.1}", cy - 9.0)) text-anchor="middle" fill="currentColor" font-size="13" { (text) }
                        }
                    }
                }
            }
            @if let (Some(first), Some(last)) = (points.first(), points.last()) {
                text x=(left) y=(h - 4.0) fill="currentColor" font-size="13" { (first.0) }
                text x=(W - 14.0) y=(h - 4.0) fill="currentColor" font-size="13" text-anchor="end" { (last.0) }
            }
        }
    }
}
