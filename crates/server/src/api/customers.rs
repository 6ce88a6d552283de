//! Customers' rights (admins only): export, or erase, what the desk holds about a customer.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Admin;
use crate::error::ApiResult;
use crate::privacy::{self, CustomerExport};
use crate::state::AppState;

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
    Admin(_admin): Admin,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<Json<CustomerExport>> {
    Ok(Json(privacy::export(&state, &q.email).await?))
}

/// Erase a customer (GDPR Art. 17): their name and address, every message text and rating
/// comment of their conversations, and those conversations' tokens. Analytics keep their
/// counts, without a person behind them.
#[utoipa::path(delete, path = "/api/v1/customers", params(CustomerQuery),
    responses((status = 204), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn erase(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Query(q): Query<CustomerQuery>,
) -> ApiResult<StatusCode> {
    privacy::erase(&state, &q.email).await?;
    Ok(StatusCode::NO_CONTENT)
}
