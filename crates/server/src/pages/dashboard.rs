//! `/admin/dashboard`: the analytics summary as server-drawn SVG charts, each with its numbers
//! as a table too (admins only; console cookie or API bearer token).

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use desk::Role;
use maud::{html, Markup};
use serde::Deserialize;

use super::console::{console_top_bar, error_response, head, require_console};
use super::layout::{document, lang_switch, reason_label, Lang, LangQuery};
use crate::analytics::{RangeIn, MAX_DASHBOARD_DAYS};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// At most this many points on the self-service line (longer ranges get wider buckets).
const MAX_POINTS: i64 = 31;

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    pub lang: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let lang = Lang::pick(
        &LangQuery {
            lang: q.lang.clone(),
        },
        &headers,
        state.playbook.default_locale(),
    );
    // A script sends the API token; a browser has the console cookie (or is sent to log in).
    let (agent, csrf) = if headers.contains_key(header::AUTHORIZATION) {
        match auth::admin(&state, &headers, false).await {
            Ok(agent) => (agent, None),
            Err(e) => return error_response(lang, e),
        }
    } else {
        match require_console(&state, &headers).await {
            Ok((session, agent)) => (agent, Some(session.csrf.unwrap_or_default())),
            Err(r) => return r,
        }
    };
    if agent.role != Role::Admin {
        return error_response(
            lang,
            ApiError::forbidden(lang.t("Nur für Administratoren.", "Admins only.")),
        );
    }
    let range = RangeIn {
        from: q.from.clone(),
        to: q.to.clone(),
    };
    let (from, to) = match range.resolve_within(state.clock.now_ms(), MAX_DASHBOARD_DAYS) {
        Ok(r) => r,
        Err(e) => return error_response(lang, ApiError::bad_request(e)),
    };
    let summary = match state.store.summary(from, to).await {
        Ok(s) => s,
        Err(e) => return error_response(lang, e),
    };
    // The period of the same length just before, for the tiles' changes.
    let before = match state.store.summary(from - (to - from), from).await {
        Ok(s) => s,
        Err(e) => return error_response(lang, e),
    };
    let queue_now = state.store.queue().await.map(|q| q.len()).unwrap_or(0);
    // The self-service rate per UTC day (or per wider bucket for long ranges). Buckets end on
    // day boundaries, so each whole one is read from daily rollup rows; only the first and the
    // last may be partial.
    let days = ((to - from) + DAY_MS - 1) / DAY_MS;
    let bucket = DAY_MS * ((days + MAX_POINTS - 1) / MAX_POINTS).max(1);
    let mut over_time = Vec::new();
    let mut start = from;
    while start < to {
        let end = ((start.div_euclid(bucket) + 1) * bucket).min(to);
        match state.store.summary(start, end).await {
            Ok(s) => over_time.push((end - 1, s.conversations, s.self_service_rate)),
            Err(e) => return error_response(lang, e),
        }
        start = end;
    }
    let path = "/admin/dashboard";
    let csrf_value = csrf.clone().unwrap_or_default();
    let top = match &csrf {
        Some(csrf) => console_top_bar(lang, &agent, csrf, path),
        None => html! { header.site { p.brand { "Tandem" } (lang_switch(lang, path)) } },
    };
    let day = |ms: i64| crate::wire::rfc3339(ms).get(..10).unwrap_or("").to_owned();
    let reasons: Vec<(String, f64, String)> = summary
        .handoff_reasons
        .iter()
        .map(|(r, n)| (reason_label(lang, r).to_owned(), *n as f64, n.to_string()))
        .collect();
    let fmt_secs = |v: Option<f64>| v.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "–".into());
    let fmt_csat = |c: &store::Csat| match c.average {
        Some(a) => format!("{a:.2} ({})", c.count),
        None => "–".into(),
    };
    let reasons_csat: Vec<(String, f64, String)> = summary
        .reasons_csat
        .iter()
        .map(|(r, c)| {
            (
                reason_label(lang, r).to_owned(),
                c.average.unwrap_or(0.0),
                fmt_csat(c),
            )
        })
        .collect();
    let agents_csat: Vec<(String, f64, String)> = summary
        .agents
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                a.csat.average.unwrap_or(0.0),
                fmt_csat(&a.csat),
            )
        })
        .collect();
    let first_response: Vec<(String, f64, String)> = [
        (
            lang.t("Median", "Median"),
            summary.first_response_secs.median,
        ),
        ("p90", summary.first_response_secs.p90),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_owned(), v.unwrap_or(0.0), fmt_secs(v)))
    .collect();
    let title = lang.t("Auswertung", "Dashboard");
    let body = document(
        lang,
        title,
        head(&csrf_value),
        html! {
            (top)
            main #main {
                h1 { (title) }
                form.range method="get" action=(path) {
                    input type="hidden" name="lang" value=(lang.code());
                    label for="d-from" { (lang.t("Von", "From")) }
                    input #d-from type="date" name="from" value=(day(from));
                    label for="d-to" { (lang.t("Bis (einschließlich)", "To (inclusive)")) }
                    input #d-to type="date" name="to" value=(day(to - 1));
                    button type="submit" { (lang.t("Anzeigen", "Show")) }
                }
                (super::dashboard_tiles::tiles(lang, &summary, &before, queue_now))
                section aria-labelledby="c-self" {
                    h2 #c-self { (lang.t("Selbst gelöst im Zeitverlauf", "Self-service rate over time")) }
                    (line_chart(lang, &over_time, &day))
                }
                section aria-labelledby="c-queue" {
                    h2 #c-queue { (lang.t("Warteschlange im Zeitverlauf", "Queue length over time")) }
                    (queue_chart(lang, &summary.queue_length, from, to - from <= 7 * DAY_MS))
                }
                section aria-labelledby="c-reasons" {
                    h2 #c-reasons { (lang.t("Übergabegründe", "Handoff reasons")) }
                    (bar_chart("reasons", lang.t("Gespräche je Grund", "Conversations per reason"), lang.t("Grund", "Reason"), lang.t("Gespräche", "Conversations"), &reasons, None))
                }
                section aria-labelledby="c-first" {
                    h2 #c-first { (lang.t("Zeit bis zur ersten Antwort", "Time to first response")) }
                    (bar_chart("first-response", lang.t("Sekunden von der Übergabe bis zur ersten Antwort", "Seconds from handoff to first reply"), lang.t("Kennzahl", "Figure"), lang.t("Sekunden", "Seconds"), &first_response, None))
                }
                section aria-labelledby="c-reasons-csat" {
                    h2 #c-reasons-csat { (lang.t("Zufriedenheit je Grund", "CSAT per reason")) }
                    (bar_chart("reasons-csat", lang.t("Durchschnittliche Bewertung je Übergabegrund", "Average rating per handoff reason"), lang.t("Grund", "Reason"), lang.t("CSAT (Anzahl)", "CSAT (count)"), &reasons_csat, Some(5.0)))
                }
                section aria-labelledby="c-agents" {
                    h2 #c-agents { (lang.t("Zufriedenheit je Mitarbeiter:in", "CSAT per agent")) }
                    (bar_chart("agents-csat", lang.t("Durchschnittliche Bewertung je Mitarbeiter:in", "Average rating per agent"), "Name", lang.t("CSAT (Anzahl)", "CSAT (count)"), &agents_csat, Some(5.0)))
                    table {
                        caption { (lang.t("Last und bearbeitete Gespräche", "Load and handled conversations")) }
                        thead { tr { th scope="col" { "Name" } th scope="col" { (lang.t("Jetzt zugewiesen", "Assigned now")) } th scope="col" { (lang.t("Bearbeitet", "Handled")) } } }
                        tbody { @for a in &summary.agents { tr { td { (a.name) } td { (a.load) } td { (a.handled) } } } }
                    }
                }
                section aria-labelledby="c-contacts" {
                    h2 #c-contacts { (lang.t("Kontakte je Kunde", "Contacts per customer")) }
                    (bar_chart("contacts", lang.t("Gespräche je Kunde (nach E-Mail)", "Conversations per customer (by e-mail)"), lang.t("Kennzahl", "Figure"), lang.t("Wert", "Value"),
                        &[(lang.t("Kontakte je Kunde", "Contacts per customer").to_owned(), summary.contacts_per_customer, format!("{:.2}", summary.contacts_per_customer))], None))
                }
            }
        },
    );
    body.into_response()
}

fn pct(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

const W: f64 = 640.0;
const ROW: f64 = 28.0;
const LABEL: f64 = 200.0;

/// Horizontal bars, one per `(label, value, text)`, scaled to `max` (or the largest value),
/// with the same numbers in a table for screen readers and for copying.
fn bar_chart(
    id: &str,
    caption: &str,
    label_head: &str,
    value_head: &str,
    items: &[(String, f64, String)],
    max: Option<f64>,
) -> Markup {
    let top = max
        .unwrap_or_else(|| items.iter().map(|i| i.1).fold(0.0, f64::max))
        .max(f64::EPSILON);
    let height = ROW * items.len().max(1) as f64 + 8.0;
    let title_id = format!("t-{id}");
    html! {
        figure.chart {
            svg.chart #{"chart-" (id)} role="img" aria-labelledby=(title_id) width=(W) height=(height)
                viewBox={"0 0 " (W) " " (height)} xmlns="http://www.w3.org/2000/svg" {
                title #(title_id) { (caption) ": " @for (i, (l, _, t)) in items.iter().enumerate() { @if i > 0 { "; " } (l) " " (t) } }
                @if items.is_empty() { text x="4" y="20" fill="currentColor" { "–" } }
                @for (i, (label, value, text)) in items.iter().enumerate() {
                    @let y = 4.0 + ROW * i as f64;
                    @let w = ((value / top).clamp(0.0, 1.0) * (W - LABEL - 110.0)).max(1.0);
                    text x="0" y=(y + 17.0) fill="currentColor" font-size="13" { (label) }
                    rect.bar x=(LABEL) y=(y + 3.0) width=(format!("{w:.1}")) height="18" fill="#2f6f9f" {}
                    text x=(format!("{:.1}", LABEL + w + 6.0)) y=(y + 17.0) fill="currentColor" font-size="13" { (text) }
                }
            }
            figcaption { (caption) }
            table.sr-table {
                thead { tr { th scope="col" { (label_head) } th scope="col" { (value_head) } } }
                tbody { @for (label, _, text) in items { tr { td { (label) } td { (text) } } } }
            }
        }
    }
}

/// The self-service rate per bucket as a line (0–100 %), with a table of the same numbers.
fn line_chart(lang: Lang, points: &[(i64, u64, f64)], day: &dyn Fn(i64) -> String) -> Markup {
    let h = 200.0;
    let left = 40.0;
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + (W - left - 10.0) * i as f64 / n;
    let y = |rate: f64| 10.0 + (h - 30.0) * (1.0 - rate.clamp(0.0, 1.0));
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.1 > 0)
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.2)))
        .collect();
    let caption = lang.t(
        "Anteil der Gespräche ohne Übergabe je Tag",
        "Share of conversations never handed off, per day",
    );
    html! {
        figure.chart {
            svg.chart #chart-self-service role="img" aria-labelledby="t-self-service" width=(W) height=(h)
                viewBox={"0 0 " (W) " " (h)} xmlns="http://www.w3.org/2000/svg" {
                title #t-self-service { (caption) ": " @for (i, p) in points.iter().enumerate() { @if i > 0 { "; " } (day(p.0)) " " @if p.1 > 0 { (pct(p.2)) } @else { "–" } } }
                @for rate in [0.0, 0.5, 1.0] {
                    line x1=(left) x2=(W - 10.0) y1=(y(rate)) y2=(y(rate)) stroke="#ccc" {}
                    text x="0" y=(y(rate) + 4.0) fill="currentColor" font-size="12" { (pct(rate)) }
                }
                polyline points=(line.join(" ")) fill="none" stroke="#2f6f9f" stroke-width="2" {}
                @for (i, p) in points.iter().enumerate() {
                    @if p.1 > 0 { circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(p.2))) r="3" fill="#2f6f9f" {} }
                }
                @if let (Some(first), Some(last)) = (points.first(), points.last()) {
                    text x=(left) y=(h - 4.0) fill="currentColor" font-size="12" { (day(first.0)) }
                    text x=(W - 10.0) y=(h - 4.0) fill="currentColor" font-size="12" text-anchor="end" { (day(last.0)) }
                }
            }
            figcaption { (caption) }
            table.sr-table {
                thead { tr { th scope="col" { (lang.t("Tag", "Day")) } th scope="col" { (lang.t("Gespräche", "Conversations")) } th scope="col" { (lang.t("Selbst gelöst", "Self-service")) } } }
                tbody { @for p in points { tr { td { (day(p.0)) } td { (p.1) } td { @if p.1 > 0 { (pct(p.2)) } @else { "–" } } } } }
            }
        }
    }
}

/// The queue length at the end of each hour (or day) of the range, placed by time, with a
/// table of the same numbers.
fn queue_chart(lang: Lang, points: &[store::QueuePoint], from: i64, hourly: bool) -> Markup {
    let h = 200.0;
    let left = 40.0;
    // The end of a day is named by that day; any other instant by its time (UTC).
    let when = |ms: i64| {
        if !hourly && ms % DAY_MS == 0 {
            let t = crate::wire::rfc3339(ms - 1);
            t.get(..10).unwrap_or("").to_owned()
        } else {
            let t = crate::wire::rfc3339(ms);
            t.get(..16).unwrap_or("").replace('T', " ")
        }
    };
    let end = points.last().map(|p| p.at_ms).unwrap_or(from);
    let span = (end - from).max(1) as f64;
    let x = |at: i64| left + (W - left - 10.0) * ((at - from) as f64 / span).clamp(0.0, 1.0);
    let top = points.iter().map(|p| p.length).max().unwrap_or(0).max(1);
    let y = |n: u64| 10.0 + (h - 30.0) * (1.0 - n as f64 / top as f64);
    let line: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.at_ms), y(p.length)))
        .collect();
    let caption = if hourly {
        lang.t(
            "Wartende Gespräche am Ende jeder Stunde",
            "Conversations waiting in the queue at the end of each hour",
        )
    } else {
        lang.t(
            "Wartende Gespräche am Ende jedes Tages",
            "Conversations waiting in the queue at the end of each day",
        )
    };
    let ticks: Vec<u64> = if top >= 2 {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    };
    html! {
        figure.chart {
            svg.chart #chart-queue role="img" aria-labelledby="t-queue" width=(W) height=(h)
                viewBox={"0 0 " (W) " " (h)} xmlns="http://www.w3.org/2000/svg" {
                title #t-queue { (caption) ": " @if points.is_empty() { "–" } @for (i, p) in points.iter().enumerate() { @if i > 0 { "; " } (when(p.at_ms)) " " (p.length) } }
                @for n in &ticks {
                    line x1=(left) x2=(W - 10.0) y1=(y(*n)) y2=(y(*n)) stroke="#ccc" {}
                    text x="0" y=(y(*n) + 4.0) fill="currentColor" font-size="12" { (n) }
                }
                polyline points=(line.join(" ")) fill="none" stroke="#8a4f9f" stroke-width="2" {}
                @if points.len() <= 60 {
                    @for p in points {
                        circle cx=(format!("{:.1}", x(p.at_ms))) cy=(format!("{:.1}", y(p.length))) r="3" fill="#8a4f9f" {}
                    }
                }
                @if let (Some(first), Some(last)) = (points.first(), points.last()) {
                    text x=(left) y=(h - 4.0) fill="currentColor" font-size="12" { (when(first.at_ms)) }
                    text x=(W - 10.0) y=(h - 4.0) fill="currentColor" font-size="12" text-anchor="end" { (when(last.at_ms)) }
                }
            }
            figcaption { (caption) }
            table.sr-table {
                thead { tr { th scope="col" { (lang.t("Zeitpunkt", "At")) } th scope="col" { (lang.t("Wartende Gespräche", "Waiting conversations")) } } }
                tbody { @for p in points { tr { td { (when(p.at_ms)) } td { (p.length) } } } }
            }
        }
    }
}
