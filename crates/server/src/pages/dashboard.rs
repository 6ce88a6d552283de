//! `/admin/dashboard`: the analytics summary at a glance, figure tiles on top (contacts per
//! customer among them) and server-drawn SVG charts below, each with its numbers folded under it and as CSV
//! (`/admin/dashboard.csv?chart=…`). Admins only; console cookie or API bearer token.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use desk::{Agent, Role};
use maud::html;
use serde::Deserialize;

use super::console::{console_top_bar, error_response, head, require_console};
use super::dashboard_charts::{bar_chart, line_chart, pct, Chart, Table, DAY_MS};
use super::layout::{document, lang_switch, reason_label, Lang, LangQuery};
use crate::analytics::{RangeIn, MAX_DASHBOARD_DAYS};
use crate::auth;
use crate::error::ApiError;
use crate::state::AppState;

/// At most this many points on the self-service line (longer ranges get wider buckets).
const MAX_POINTS: i64 = 31;

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    pub lang: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The CSV download's chart.
    pub chart: Option<String>,
}

/// The admin asking (a script's bearer token, or the console cookie with its CSRF token).
async fn admin(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<(Agent, Option<String>), Response> {
    let (agent, csrf) = if headers.contains_key(header::AUTHORIZATION) {
        match auth::admin(state, headers, false).await {
            Ok(agent) => (agent, None),
            Err(e) => return Err(error_response(lang, e)),
        }
    } else {
        let (session, agent) = require_console(state, headers).await?;
        (agent, Some(session.csrf.unwrap_or_default()))
    };
    if agent.role != Role::Admin {
        return Err(error_response(
            lang,
            ApiError::forbidden(lang.t("Nur für Administratoren.", "Admins only.")),
        ));
    }
    Ok((agent, csrf))
}

fn pick_lang(state: &AppState, headers: &HeaderMap, q: &DashboardQuery) -> Lang {
    Lang::pick(
        &LangQuery {
            lang: q.lang.clone(),
        },
        headers,
        state.playbook().default_locale(),
    )
}

/// The charts of one range (what the page draws and the CSV serves).
struct Dashboard {
    from: i64,
    to: i64,
    summary: store::Summary,
    charts: Vec<Chart>,
}

fn day(ms: i64) -> String {
    crate::wire::rfc3339(ms).get(..10).unwrap_or("").to_owned()
}

async fn gather(state: &AppState, lang: Lang, q: &DashboardQuery) -> Result<Dashboard, ApiError> {
    let range = RangeIn {
        from: q.from.clone(),
        to: q.to.clone(),
    };
    let (from, to) = range
        .resolve_within(state.clock.now_ms(), MAX_DASHBOARD_DAYS)
        .map_err(ApiError::bad_request)?;
    let summary = state.store.summary(from, to).await?;
    // The self-service rate per UTC day (or per wider bucket for long ranges). Buckets end on
    // day boundaries, so each whole one is read from daily rollup rows; only the first and the
    // last may be partial.
    let days = ((to - from) + DAY_MS - 1) / DAY_MS;
    let bucket = DAY_MS * ((days + MAX_POINTS - 1) / MAX_POINTS).max(1);
    let mut over_time = Vec::new();
    let mut start = from;
    while start < to {
        let end = ((start.div_euclid(bucket) + 1) * bucket).min(to);
        let s = state.store.summary(start, end).await?;
        over_time.push((end - 1, s.conversations, s.self_service_rate));
        start = end;
    }
    let charts = charts(lang, &summary, &over_time, from, to);
    Ok(Dashboard {
        from,
        to,
        summary,
        charts,
    })
}

fn charts(
    lang: Lang,
    summary: &store::Summary,
    over_time: &[(i64, u64, f64)],
    from: i64,
    to: i64,
) -> Vec<Chart> {
    let cols = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let mut out = Vec::new();

    let caption = lang.t(
        "Anteil der Gespräche ohne Übergabe je Tag",
        "Share of conversations never handed off, per day",
    );
    let points: Vec<(String, Option<f64>, String)> = over_time
        .iter()
        .map(|p| {
            let v = (p.1 > 0).then_some(p.2);
            (day(p.0), v, v.map(pct).unwrap_or_else(|| "–".into()))
        })
        .collect();
    let axis: Vec<(f64, String)> = [0.0, 0.5, 1.0].iter().map(|v| (*v, pct(*v))).collect();
    out.push(Chart {
        id: "self-service",
        heading: lang
            .t(
                "Selbst gelöst im Zeitverlauf",
                "Self-service rate over time",
            )
            .into(),
        caption: caption.into(),
        svg: line_chart("self-service", caption, &points, &axis, "#2f6f9f"),
        table: Table {
            columns: cols(&[
                lang.t("Tag", "Day"),
                lang.t("Gespräche", "Conversations"),
                lang.t("Selbst gelöst", "Self-service"),
            ]),
            rows: over_time
                .iter()
                .zip(&points)
                .map(|(p, q)| vec![day(p.0), p.1.to_string(), q.2.clone()])
                .collect(),
        },
    });

    // The queue length at the end of each hour (or day) of the range.
    let hourly = to - from <= 7 * DAY_MS;
    let when = |ms: i64| {
        if !hourly && ms % DAY_MS == 0 {
            day(ms - 1)
        } else {
            crate::wire::rfc3339(ms)
                .get(..16)
                .unwrap_or("")
                .replace('T', " ")
        }
    };
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
    let top = summary
        .queue_length
        .iter()
        .map(|p| p.length)
        .max()
        .unwrap_or(0)
        .max(1);
    let points: Vec<(String, Option<f64>, String)> = summary
        .queue_length
        .iter()
        .map(|p| {
            (
                when(p.at_ms),
                Some(p.length as f64 / top as f64),
                p.length.to_string(),
            )
        })
        .collect();
    let ticks: Vec<u64> = if top >= 2 {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    };
    let axis: Vec<(f64, String)> = ticks
        .iter()
        .map(|n| (*n as f64 / top as f64, n.to_string()))
        .collect();
    out.push(Chart {
        id: "queue",
        heading: lang
            .t("Warteschlange im Zeitverlauf", "Queue length over time")
            .into(),
        caption: caption.into(),
        svg: line_chart("queue", caption, &points, &axis, "#8a4f9f"),
        table: Table {
            columns: cols(&[
                lang.t("Zeitpunkt", "At"),
                lang.t("Wartende Gespräche", "Waiting conversations"),
            ]),
            rows: points
                .iter()
                .map(|p| vec![p.0.clone(), p.2.clone()])
                .collect(),
        },
    });

    let bars = |id: &'static str,
                heading: &str,
                caption: &str,
                columns: Vec<String>,
                items: Vec<(String, f64, String)>,
                max: Option<f64>| Chart {
        id,
        heading: heading.into(),
        caption: caption.into(),
        svg: bar_chart(id, caption, &items, max),
        table: Table {
            columns,
            rows: items.into_iter().map(|(l, _, t)| vec![l, t]).collect(),
        },
    };
    let reasons = summary
        .handoff_reasons
        .iter()
        .map(|(r, n)| (reason_label(lang, r).to_owned(), *n as f64, n.to_string()))
        .collect();
    out.push(bars(
        "reasons",
        lang.t("Übergabegründe", "Handoff reasons"),
        lang.t("Gespräche je Grund", "Conversations per reason"),
        cols(&[
            lang.t("Grund", "Reason"),
            lang.t("Gespräche", "Conversations"),
        ]),
        reasons,
        None,
    ));
    let secs = |v: Option<f64>| v.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "–".into());
    let first = [
        (
            lang.t("Median", "Median"),
            summary.first_response_secs.median,
        ),
        ("p90", summary.first_response_secs.p90),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_owned(), v.unwrap_or(0.0), secs(v)))
    .collect();
    out.push(bars(
        "first-response",
        lang.t("Zeit bis zur ersten Antwort", "Time to first response"),
        lang.t(
            "Sekunden von der Übergabe bis zur ersten Antwort",
            "Seconds from handoff to first reply",
        ),
        cols(&[lang.t("Kennzahl", "Figure"), lang.t("Sekunden", "Seconds")]),
        first,
        None,
    ));
    let csat = |c: &store::Csat| match c.average {
        Some(a) => format!("{a:.2} ({})", c.count),
        None => "–".into(),
    };
    let csat_head = lang.t("CSAT (Anzahl)", "CSAT (count)");
    let reasons_csat = summary
        .reasons_csat
        .iter()
        .map(|(r, c)| {
            (
                reason_label(lang, r).to_owned(),
                c.average.unwrap_or(0.0),
                csat(c),
            )
        })
        .collect();
    out.push(bars(
        "reasons-csat",
        lang.t("Zufriedenheit je Grund", "CSAT per reason"),
        lang.t(
            "Durchschnittliche Bewertung je Übergabegrund",
            "Average rating per handoff reason",
        ),
        cols(&[lang.t("Grund", "Reason"), csat_head]),
        reasons_csat,
        Some(5.0),
    ));
    let agents: Vec<(String, f64, String)> = summary
        .agents
        .iter()
        .map(|a| (a.name.clone(), a.csat.average.unwrap_or(0.0), csat(&a.csat)))
        .collect();
    let caption = lang.t(
        "Durchschnittliche Bewertung je Mitarbeiter:in",
        "Average rating per agent",
    );
    out.push(Chart {
        id: "agents-csat",
        heading: lang
            .t("Zufriedenheit je Mitarbeiter:in", "CSAT per agent")
            .into(),
        caption: caption.into(),
        svg: bar_chart("agents-csat", caption, &agents, Some(5.0)),
        // The load and handled conversations ride along in the table.
        table: Table {
            columns: cols(&[
                "Name",
                csat_head,
                lang.t("Jetzt zugewiesen", "Assigned now"),
                lang.t("Bearbeitet", "Handled"),
            ]),
            rows: summary
                .agents
                .iter()
                .map(|a| {
                    vec![
                        a.name.clone(),
                        csat(&a.csat),
                        a.load.to_string(),
                        a.handled.to_string(),
                    ]
                })
                .collect(),
        },
    });
    out
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let lang = pick_lang(&state, &headers, &q);
    let (agent, csrf) = match admin(&state, &headers, lang).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let d = match gather(&state, lang, &q).await {
        Ok(d) => d,
        Err(e) => return error_response(lang, e),
    };
    // The tiles: the period of the same length just before, for their changes, and the queue.
    let before = match state.store.summary(d.from - (d.to - d.from), d.from).await {
        Ok(s) => s,
        Err(e) => return error_response(lang, e),
    };
    let queue_now = state.store.queue().await.map(|q| q.len()).unwrap_or(0);
    let path = "/admin/dashboard";
    let csrf_value = csrf.clone().unwrap_or_default();
    let top = match &csrf {
        Some(csrf) => console_top_bar(lang, &agent, csrf, path),
        None => html! { header.site { p.brand { "Tandem" } (lang_switch(lang, path)) } },
    };
    let csv_href = format!(
        "/admin/dashboard.csv?lang={}&from={}&to={}",
        lang.code(),
        day(d.from),
        day(d.to - 1)
    );
    let title = lang.t("Auswertung", "Dashboard");
    document(
        lang,
        title,
        head(&csrf_value),
        html! {
            (top)
            main #main .dashboard {
                div.dash-head {
                    h1 { (title) }
                    form.range method="get" action=(path) {
                        input type="hidden" name="lang" value=(lang.code());
                        label for="d-from" { (lang.t("Von", "From")) }
                        input #d-from type="date" name="from" value=(day(d.from));
                        label for="d-to" { (lang.t("Bis (einschließlich)", "To (inclusive)")) }
                        input #d-to type="date" name="to" value=(day(d.to - 1));
                        button type="submit" { (lang.t("Anzeigen", "Show")) }
                    }
                }
                (super::dashboard_tiles::tiles(lang, &d.summary, &before, queue_now))
                div.charts {
                    @for chart in &d.charts { (chart.render(lang, &csv_href)) }
                }
            }
        },
    )
    .into_response()
}

/// `GET /admin/dashboard.csv?chart=ID&from=…&to=…`: one chart's table as CSV (UTF-8, comma
/// separated, a header row), for a spreadsheet.
pub async fn csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let lang = pick_lang(&state, &headers, &q);
    if let Err(r) = admin(&state, &headers, lang).await {
        return r;
    }
    let d = match gather(&state, lang, &q).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let wanted = q.chart.as_deref().unwrap_or("");
    let Some(chart) = d.charts.iter().find(|c| c.id == wanted) else {
        let known: Vec<&str> = d.charts.iter().map(|c| c.id).collect();
        let message = format!(
            "no chart {wanted:?}: ?chart= takes one of {}",
            known.join(", ")
        );
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", message).into_response();
    };
    let name = format!("tandem-{}-{}-{}.csv", chart.id, day(d.from), day(d.to - 1));
    crate::api::metrics::csv_response(&name, to_csv(&chart.table))
}

/// The table as CSV (cells as every export of the desk writes them: no formulas, RFC 4180).
fn to_csv(table: &Table) -> String {
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        crate::api::metrics::csv_line(out, &cells);
    };
    line(&mut out, &table.columns);
    for row in &table.rows {
        line(&mut out, row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            columns: vec!["Name".into(), "CSAT".into()],
            rows: vec![
                vec!["=HYPERLINK(\"x\")".into(), "4.50 (2)".into()],
                vec!["Kim, Lee".into(), "-".into()],
                vec!["Ana".into(), "-1.5".into()],
            ],
        };
        assert_eq!(
            to_csv(&t),
            "Name,CSAT\r\n\"'=HYPERLINK(\"\"x\"\")\",4.50 (2)\r\n\"Kim, Lee\",'-\r\nAna,'-1.5\r\n"
        );
    }
}
