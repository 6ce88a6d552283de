//! Analytics endpoints: the summary of a time range, computed by the store from its event log.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub use crate::analytics::RangeIn;

#[derive(Debug, Serialize, ToSchema)]
pub struct Csat {
    /// The average score, `null` without ratings.
    pub average: Option<f64>,
    pub count: u64,
}

impl From<store::Csat> for Csat {
    fn from(c: store::Csat) -> Self {
        Self {
            average: c.average,
            count: c.count,
        }
    }
}

/// Seconds from the first handoff to the first agent message. Over whole hours of the range
/// they come from rollups and are rounded down: to the second below an hour, to the minute
/// below a day, to the hour beyond.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirstResponse {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// How many conversations were queued at one instant.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueLength {
    /// RFC 3339: the end of an hour (ranges up to 7 days) or of a day of the range, or the end
    /// of the range.
    pub at: String,
    /// Conversations queued at that instant.
    pub length: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentFigures {
    pub id: i64,
    pub name: String,
    /// Conversations assigned to the agent now.
    pub load: u64,
    /// Conversations of the range given to the agent.
    pub handled: u64,
    /// Latest ratings of the conversations of the range the agent was the last to be given.
    pub csat: Csat,
}

/// The summary of `[from, to)`: conversations with a customer message in the range.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// RFC 3339.
    pub from: String,
    pub to: String,
    pub conversations: u64,
    pub self_service_rate: f64,
    pub handoff_rate: f64,
    pub handoff_reasons: BTreeMap<String, u64>,
    pub first_response_secs: FirstResponse,
    pub csat: Csat,
    pub contacts_per_customer: f64,
    pub agents: Vec<AgentFigures>,
    pub reasons_csat: BTreeMap<String, Csat>,
    /// Queue length at the end of each hour of the range (ranges up to 7 days) or of each day
    /// (wider steps beyond about a year), then at the end of the range; nothing later than now.
    pub queue_length: Vec<QueueLength>,
}

use crate::wire::rfc3339;

impl From<store::Summary> for Summary {
    fn from(s: store::Summary) -> Self {
        Self {
            from: rfc3339(s.from_ms),
            to: rfc3339(s.to_ms),
            conversations: s.conversations,
            self_service_rate: s.self_service_rate,
            handoff_rate: s.handoff_rate,
            handoff_reasons: s.handoff_reasons,
            first_response_secs: FirstResponse {
                median: s.first_response_secs.median,
                p90: s.first_response_secs.p90,
            },
            csat: s.csat.into(),
            contacts_per_customer: s.contacts_per_customer,
            agents: s
                .agents
                .into_iter()
                .map(|a| AgentFigures {
                    id: a.id,
                    name: a.name,
                    load: a.load,
                    handled: a.handled,
                    csat: a.csat.into(),
                })
                .collect(),
            reasons_csat: s
                .reasons_csat
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect(),
            queue_length: s
                .queue_length
                .into_iter()
                .map(|p| QueueLength {
                    at: rfc3339(p.at_ms),
                    length: p.length,
                })
                .collect(),
        }
    }
}

/// The analytics summary of a time range (admins only). Default: the last 30 days.
#[utoipa::path(get, path = "/api/v1/metrics/summary", params(RangeIn),
    responses((status = 200, body = Summary), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(range): Query<RangeIn>,
) -> ApiResult<Json<Summary>> {
    let (from, to) = range
        .resolve(state.clock.now_ms())
        .map_err(ApiError::bad_request)?;
    Ok(Json(state.store.summary(from, to).await?.into()))
}

/// Most rows one conversations export holds.
pub const EXPORT_LIMIT: u32 = 100_000;

/// One CSV cell: a value starting with `=`, `+`, `-`, `@`, a tab or a CR is prefixed with `'`
/// so spreadsheets never read it as a formula; then it is quoted when it must be (RFC 4180).
pub fn csv_cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

pub(crate) fn csv_line(out: &mut String, cells: &[&str]) {
    let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

pub(crate) fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The summary as CSV rows `section,key,value` (admins only); the queue series last, as
/// `queue_length,<RFC 3339>,<length>`.
#[utoipa::path(get, path = "/api/v1/metrics/summary.csv", params(RangeIn),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn summary_csv(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(range): Query<RangeIn>,
) -> ApiResult<Response> {
    let (from, to) = range
        .resolve(state.clock.now_ms())
        .map_err(ApiError::bad_request)?;
    let s = state.store.summary(from, to).await?;
    let mut out = String::new();
    csv_line(&mut out, &["section", "key", "value"]);
    csv_line(&mut out, &["range", "from", &rfc3339(from)]);
    csv_line(&mut out, &["range", "to", &rfc3339(to)]);
    csv_line(
        &mut out,
        &["total", "conversations", &s.conversations.to_string()],
    );
    csv_line(
        &mut out,
        &[
            "total",
            "self_service_rate",
            &s.self_service_rate.to_string(),
        ],
    );
    csv_line(
        &mut out,
        &["total", "handoff_rate", &s.handoff_rate.to_string()],
    );
    csv_line(
        &mut out,
        &[
            "total",
            "contacts_per_customer",
            &s.contacts_per_customer.to_string(),
        ],
    );
    csv_line(
        &mut out,
        &[
            "first_response_secs",
            "median",
            &opt(s.first_response_secs.median),
        ],
    );
    csv_line(
        &mut out,
        &[
            "first_response_secs",
            "p90",
            &opt(s.first_response_secs.p90),
        ],
    );
    csv_line(&mut out, &["csat", "average", &opt(s.csat.average)]);
    csv_line(&mut out, &["csat", "count", &s.csat.count.to_string()]);
    for (reason, n) in &s.handoff_reasons {
        csv_line(&mut out, &["handoff_reasons", reason, &n.to_string()]);
    }
    for (reason, c) in &s.reasons_csat {
        csv_line(&mut out, &["reasons_csat_average", reason, &opt(c.average)]);
        csv_line(
            &mut out,
            &["reasons_csat_count", reason, &c.count.to_string()],
        );
    }
    for a in &s.agents {
        let key = format!("{} {}", a.id, a.name);
        csv_line(&mut out, &["agent_load", &key, &a.load.to_string()]);
        csv_line(&mut out, &["agent_handled", &key, &a.handled.to_string()]);
        csv_line(
            &mut out,
            &["agent_csat_average", &key, &opt(a.csat.average)],
        );
        csv_line(
            &mut out,
            &["agent_csat_count", &key, &a.csat.count.to_string()],
        );
    }
    for p in &s.queue_length {
        csv_line(
            &mut out,
            &["queue_length", &rfc3339(p.at_ms), &p.length.to_string()],
        );
    }
    Ok(csv_response("summary.csv", out))
}

/// Conversations created in the range as CSV, oldest first, at most 100,000 (admins only).
#[utoipa::path(get, path = "/api/v1/conversations.csv", params(RangeIn),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn conversations_csv(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(range): Query<RangeIn>,
) -> ApiResult<Response> {
    let (from, to) = range
        .resolve(state.clock.now_ms())
        .map_err(ApiError::bad_request)?;
    let rows = state
        .store
        .conversations_created(from, to, EXPORT_LIMIT)
        .await?;
    let mut out = String::new();
    csv_line(
        &mut out,
        &[
            "id",
            "created_at",
            "updated_at",
            "state",
            "locale",
            "customer_name",
            "customer_email",
            "assignee",
            "handoff_reasons",
        ],
    );
    for c in &rows {
        let reasons: Vec<&str> = c
            .handoff
            .iter()
            .flat_map(|n| n.reasons.iter().map(|r| r.as_str()))
            .collect();
        csv_line(
            &mut out,
            &[
                c.id.as_str(),
                &rfc3339(c.created_at_ms),
                &rfc3339(c.updated_at_ms),
                c.state.as_str(),
                &c.locale,
                c.customer.name.as_deref().unwrap_or(""),
                c.customer.email.as_deref().unwrap_or(""),
                c.assignee.as_ref().map(|a| a.name.as_str()).unwrap_or(""),
                &reasons.join(" "),
            ],
        );
    }
    Ok(csv_response("conversations.csv", out))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_exported_cell_starts_like_a_formula(value in "\\PC*|[=+\\-@\t\r].*") {
            let cell = csv_cell(&value);
            // A quoted cell is read without its quotes: look at what a spreadsheet sees.
            let seen = match cell.strip_prefix('"') {
                Some(inner) => inner.strip_suffix('"').unwrap_or(inner).replace("\"\"", "\""),
                None => cell.clone(),
            };
            prop_assert!(!seen.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
            prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
            // Nothing of the value is lost.
            prop_assert!(seen.ends_with(value.as_str()));
        }
    }

    #[test]
    fn cells_are_neutralised_and_quoted() {
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("@x \"y\""), "\"'@x \"\"y\"\"\"");
        assert_eq!(csv_cell("plain"), "plain");
    }
}
