//! `/api/v1/canned-responses`: the team's shared responses (admins change them) and each agent's
//! own (extension, issue 19).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::SignedIn;
use crate::canned;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

/// A canned response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CannedOut {
    pub id: i64,
    pub title: String,
    /// May hold `{{customer.name}}` and `{{agent.name}}`.
    pub text: String,
    /// `null`: for every locale.
    pub locale: Option<String>,
    /// Shared with the whole team (else the caller's own).
    pub shared: bool,
    pub updated_at: String,
}

impl From<store::CannedResponse> for CannedOut {
    fn from(c: store::CannedResponse) -> Self {
        Self {
            id: c.id,
            title: c.title,
            text: c.text,
            locale: c.locale.map(|l| l.as_str().to_owned()),
            shared: c.owner.is_none(),
            updated_at: crate::wire::rfc3339(c.updated_at_ms),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CannedIn {
    pub title: String,
    pub text: String,
    pub locale: Option<String>,
    /// For the whole team (admins only); default: the caller's own.
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LocaleQuery {
    /// Only responses for this locale and those for every locale.
    pub locale: Option<String>,
}

/// The shared responses and the caller's own, by title.
#[utoipa::path(get, path = "/api/v1/canned-responses", params(LocaleQuery),
    responses((status = 200, body = Vec<CannedOut>), (status = 401)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Query(q): Query<LocaleQuery>,
) -> ApiResult<Json<Vec<CannedOut>>> {
    let all = state.store.canned().canned_for(agent.id).await?;
    let wanted = q.locale.as_deref().map(str::trim).filter(|l| !l.is_empty());
    Ok(Json(
        all.into_iter()
            .filter(|c| wanted.is_none_or(|w| canned::for_locale(c, w)))
            .map(CannedOut::from)
            .collect(),
    ))
}

/// A new response: the caller's own, or shared (admins).
#[utoipa::path(post, path = "/api/v1/canned-responses", request_body = CannedIn,
    responses((status = 201, body = CannedOut), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    ApiJson(body): ApiJson<CannedIn>,
) -> ApiResult<(StatusCode, Json<CannedOut>)> {
    if body.shared && agent.role != desk::Role::Admin {
        return Err(ApiError::forbidden("only admins add shared responses"));
    }
    let owner = (!body.shared).then_some(agent.id);
    let new = canned::checked(&body.title, &body.text, body.locale.as_deref(), owner)?;
    let created = state.store.canned().add_canned(new).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Change a response: one's own, or a shared one (admins). `shared` cannot change.
#[utoipa::path(put, path = "/api/v1/canned-responses/{id}", params(("id" = i64, Path)),
    request_body = CannedIn,
    responses((status = 200, body = CannedOut), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CannedIn>,
) -> ApiResult<Json<CannedOut>> {
    let current = canned::visible(&state, &agent, id).await?;
    if !canned::may_change(&agent, &current) {
        return Err(ApiError::forbidden("only admins change shared responses"));
    }
    let new = canned::checked(
        &body.title,
        &body.text,
        body.locale.as_deref(),
        current.owner,
    )?;
    Ok(Json(
        state.store.canned().update_canned(id, new).await?.into(),
    ))
}

/// Delete a response: one's own, or a shared one (admins).
#[utoipa::path(delete, path = "/api/v1/canned-responses/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let current = canned::visible(&state, &agent, id).await?;
    if !canned::may_change(&agent, &current) {
        return Err(ApiError::forbidden("only admins delete shared responses"));
    }
    state.store.canned().delete_canned(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
