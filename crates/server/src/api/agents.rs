//! Agent and admin endpoints: API tokens, the agent's conversations, presence, agent accounts.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use desk::{AgentId, Presence, Role};
use store::SessionKind;

use crate::audit;
use crate::auth::{self, Admin, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::inbox;
use crate::limits::Limit;
use crate::state::AppState;
use crate::team;
use crate::wire;

/// Exchange e-mail and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", request_body = wire::Login,
    responses((status = 200, body = wire::Token), (status = 400), (status = 401), (status = 429)))]
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<wire::Login>,
) -> ApiResult<Json<wire::Token>> {
    state.check_rate(Limit::Login(ip)).await?;
    let agent = auth::login(&state, &body.email, &body.password, ip).await?;
    let (token, _) = auth::start_session(&state, &agent, SessionKind::Api).await?;
    Ok(Json(wire::Token { token }))
}

/// Revoke the caller's bearer token: it opens nothing afterwards.
#[utoipa::path(post, path = "/api/v1/auth/logout",
    responses((status = 204), (status = 401)),
    security(("bearer" = [])))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    auth::revoke_bearer(&state, &headers).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change the caller's own password; every session of theirs ends (sign in again).
#[utoipa::path(put, path = "/api/v1/agent/password", request_body = wire::PasswordChange,
    responses((status = 204), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SignedIn(agent): SignedIn,
    ApiJson(body): ApiJson<wire::PasswordChange>,
) -> ApiResult<StatusCode> {
    team::change_password(&state, &agent, &body.current, &body.new).await?;
    let target = audit::agent(agent.id);
    audit::record(&state, Some(agent.id), "password_changed", target, Some(ip)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's assigned conversations (and the queue they may look at).
#[utoipa::path(get, path = "/api/v1/agent/conversations",
    responses((status = 200, body = wire::AgentConversations), (status = 401)),
    security(("bearer" = [])))]
pub async fn my_conversations(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
) -> ApiResult<Json<wire::AgentConversations>> {
    let mine = state.store.assigned_to(agent.id).await?;
    let queue = state.store.queue().await?;
    let unread = inbox::unread(&state, &agent, mine.iter().chain(&queue)).await;
    let summary = |c| wire::ConversationSummary::for_agent(c, &unread);
    Ok(Json(wire::AgentConversations {
        conversations: mine.iter().map(summary).collect(),
        queue: queue.iter().map(summary).collect(),
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// The words to look for (2 to 200 characters).
    q: Option<String>,
}

/// Search the conversations the caller may open (their own and the queue; admins: all) by the
/// customer's name or e-mail, the subject and every message, case-insensitively; the newest 50
/// come first, with the caller's unread counts (extension).
#[utoipa::path(get, path = "/api/v1/agent/search", params(SearchQuery),
    responses((status = 200, body = wire::AgentSearch), (status = 400), (status = 401)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<wire::AgentSearch>> {
    let found = inbox::search(&state, &agent, q.q.as_deref().unwrap_or_default()).await?;
    let unread = inbox::unread(&state, &agent, &found).await;
    Ok(Json(wire::AgentSearch {
        conversations: found
            .iter()
            .map(|c| wire::ConversationSummary::for_agent(c, &unread))
            .collect(),
    }))
}

/// Set an agent's presence (themselves, or anyone for an admin).
#[utoipa::path(put, path = "/api/v1/agents/{id}/presence", params(("id" = i64, Path)),
    request_body = wire::PresenceIn,
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn presence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedIn(caller): SignedIn,
    ApiJson(body): ApiJson<wire::PresenceIn>,
) -> ApiResult<StatusCode> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    if caller.id.get() != id && caller.role != Role::Admin {
        return Err(ApiError::forbidden("you can only set your own presence"));
    }
    let presence: Presence = body
        .status
        .parse()
        .map_err(|_| ApiError::bad_request("status must be online, away or offline"))?;
    team::set_presence(&state, AgentId::new(id), presence).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set an agent's limits (reasons or skills they rule out) and capacity: the agent themselves or
/// an admin. The queue is routed at once, since places may have opened.
#[utoipa::path(put, path = "/api/v1/agents/{id}/limits", params(("id" = i64, Path)),
    request_body = wire::LimitsIn,
    responses((status = 204), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn limits(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SignedIn(caller): SignedIn,
    ApiJson(body): ApiJson<wire::LimitsIn>,
) -> ApiResult<StatusCode> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    if caller.id.get() != id && caller.role != Role::Admin {
        return Err(ApiError::forbidden("you can only set your own limits"));
    }
    team::set_limits(&state, AgentId::new(id), body.limits, body.capacity).await?;
    let target = audit::agent(AgentId::new(id));
    audit::record(
        &state,
        Some(caller.id),
        "agent_limits_changed",
        target,
        Some(ip),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an agent (admins only).
#[utoipa::path(post, path = "/api/v1/agents", request_body = wire::NewAgent,
    responses((status = 201, body = wire::Agent), (status = 400), (status = 401), (status = 403), (status = 409)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<wire::NewAgent>,
) -> ApiResult<(StatusCode, Json<wire::Agent>)> {
    let new = team::validate_new_agent(body, team::password_hash)?;
    let agent = state.store.create_agent(new).await?;
    let target = audit::agent(agent.id);
    audit::record(&state, Some(admin.id), "agent_created", target, Some(ip)).await;
    Ok((StatusCode::CREATED, Json(wire::Agent::from(&agent))))
}

/// List agents (admins only).
#[utoipa::path(get, path = "/api/v1/agents",
    responses((status = 200, body = [wire::Agent]), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> ApiResult<Json<Vec<wire::Agent>>> {
    let agents = state.store.agents().await?;
    let disabled = state.store.disabled_agents().await?;
    Ok(Json(
        agents
            .iter()
            .map(|a| wire::Agent {
                disabled: disabled.contains(&a.id),
                ..wire::Agent::from(a)
            })
            .collect(),
    ))
}

/// Disable an agent (admins only, not themselves): they cannot sign in or go online, go
/// offline at once, and every session and stream of theirs ends.
#[utoipa::path(post, path = "/api/v1/agents/{id}/disable", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    team::set_disabled(&state, &admin, AgentId::new(id), true, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled agent again (admins only).
#[utoipa::path(post, path = "/api/v1/agents/{id}/enable", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn enable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    team::set_disabled(&state, &admin, AgentId::new(id), false, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete an agent (admins only, not themselves): who they were is forgotten and the account
/// is disabled for good; the conversations keep their messages.
#[utoipa::path(delete, path = "/api/v1/agents/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    team::erase(&state, &admin, AgentId::new(id), ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
