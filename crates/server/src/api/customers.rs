//! Customers' rights (admins only): export, or erase, what the desk holds about a customer.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::audit;
use crate::auth::Admin;
use crate::error::ApiResult;
use crate::extract::ClientIp;
use crate::privacy::{self, CustomerExport};
use crate::state::AppState;
use crate::wire;

#[derive(Debug, Deserialize, IntoParams)]
pub struct CustomerQuery {
    /// The customer's e-mail address (compared without case).
    pub email: String,
}

/// Everything the desk holds about one customer (GDPR Art. 15): their conversations with every
/// message and rating.
#[utoipa::path(get, path = "/api/v1/customers/export", params(CustomerQuery),
    responses((status = 200, body = CustomerExport), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<Json<CustomerExport>> {
    let export = privacy::export(&state, &q.email).await?;
    // The target names the conversations, not the address: the log keeps no e-mail.
    let target = format!("customer ({} conversations)", export.conversations.len());
    audit::record(
        &state,
        Some(admin.id),
        "customer_exported",
        target,
        Some(ip),
    )
    .await;
    Ok(Json(export))
}

/// Erase a customer (GDPR Art. 17): their name and address, every message text and rating
/// comment of their conversations, and those conversations' tokens. Analytics keep their
/// counts, without a person behind them.
#[utoipa::path(delete, path = "/api/v1/customers", params(CustomerQuery),
    responses((status = 204), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<StatusCode> {
    let n = privacy::erase(&state, &q.email).await?;
    let target = format!("customer ({n} conversations)");
    audit::record(&state, Some(admin.id), "customer_erased", target, Some(ip)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log's query: a time range (as the analytics take it) and, optionally, one actor.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// An agent id: only what they did.
    pub actor: Option<i64>,
}

/// The audit log (admins only): admin and security-relevant actions in a range (default: the
/// last 30 days), newest first, at most 1,000. Entries are never changed or deleted.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery),
    responses((status = 200, body = wire::AuditLog), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<wire::AuditLog>> {
    let entries = audit::read(&state, q.from, q.to, q.actor).await?;
    Ok(Json(wire::AuditLog { entries }))
}
