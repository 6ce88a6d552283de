//! Conversation endpoints: customers open and write; agents reply, resolve and hand back.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use desk::{Author, ConversationState};
use store::Customer;

use crate::auth::{Access, Opened, Read, Write};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::flow;
use crate::limits::Limit;
use crate::service::DeskError;
use crate::state::AppState;
use crate::wire;

const MAX_NAME_CHARS: usize = 200;

fn optional_field(value: Option<String>, field: &str) -> ApiResult<Option<String>> {
    match value.and_then(|v| desk::text::clean(&v)) {
        Some(v) if v.chars().count() > MAX_NAME_CHARS => Err(ApiError::bad_request(format!(
            "{field} is longer than {MAX_NAME_CHARS} characters"
        ))),
        other => Ok(other),
    }
}

/// Open a conversation, optionally with the customer's first message.
#[utoipa::path(post, path = "/api/v1/conversations", request_body = wire::NewConversation,
    responses((status = 201, body = wire::ConversationCreated), (status = 400), (status = 413), (status = 429)))]
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<wire::NewConversation>,
) -> ApiResult<(StatusCode, Json<wire::ConversationCreated>)> {
    state.check_rate(Limit::NewConversation(ip)).await?;
    let text = body.text.as_deref().map(flow::check_text).transpose()?;
    let customer = match body.customer {
        Some(c) => Customer {
            name: optional_field(c.name, "customer.name")?,
            email: optional_field(c.email, "customer.email")?,
        },
        None => Customer::default(),
    };
    if let Some(e) = customer.email.as_deref() {
        desk::Email::parse(e)
            .map_err(|why| ApiError::bad_request(format!("customer.email {why}")))?;
    }
    let started = flow::start(&state, body.locale.as_deref(), customer, text.as_deref()).await?;
    let c = &started.appended.conversation;
    Ok((
        StatusCode::CREATED,
        Json(wire::ConversationCreated {
            id: c.id.to_string(),
            token: started.token,
            state: c.state,
            messages: wire::messages(&started.appended.messages),
            handoff: wire::Handoff::of(c),
        }),
    ))
}

/// The conversation with its whole transcript.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", params(("id" = String, Path)),
    responses((status = 200, body = wire::Conversation), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    opened: Opened<Read>,
) -> ApiResult<Json<wire::Conversation>> {
    let (c, access) = opened.into_parts();
    let mut messages = state.store.messages(&c.id).await?;
    if matches!(access, Access::Customer) {
        // Agents' internal notes are never the customer's to read.
        messages.retain(|m| m.author.customer_sees());
    }
    let change = wire::StateChange::from(&c);
    // The bot's guesses are for agents; the customer's view stays as it was.
    let handoff = match access {
        Access::Agent(_) => wire::Handoff::for_agent(&c),
        Access::Customer => change.handoff,
    };
    let mail = match access {
        Access::Agent(_) if c.channel == desk::Channel::Email => {
            let mailbox = state.store.mailbox();
            Some(wire::MailView::of(
                &c,
                state.mail.as_ref().is_some_and(|m| m.sends()),
                mailbox.mail_status(&c.id).await?,
                mailbox.attachments(&c.id).await?,
            ))
        }
        _ => None,
    };
    Ok(Json(wire::Conversation {
        id: change.id,
        state: change.state,
        locale: c.locale.clone(),
        messages: wire::messages(&messages),
        assignee: change.assignee,
        handoff,
        queue: flow::queue_info(&state, &c).await?,
        channel: c.channel,
        mail,
    }))
}

/// Post a message: the customer (conversation token) or the assigned agent (agent token).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", params(("id" = String, Path)),
    request_body = wire::NewMessage,
    responses((status = 201, body = wire::MessagePosted), (status = 400), (status = 401), (status = 404), (status = 413), (status = 429)),
    security(("bearer" = [])))]
pub async fn post_message(
    State(state): State<AppState>,
    opened: Opened<Write>,
    ApiJson(body): ApiJson<wire::NewMessage>,
) -> ApiResult<(StatusCode, Json<wire::MessagePosted>)> {
    let text = flow::check_text(&body.text)?;
    let (c, access) = opened.into_parts();
    let appended = match access {
        Access::Customer => {
            state.check_rate(Limit::Message(c.id.as_str())).await?;
            flow::customer_message(&state, &c, &text).await?
        }
        Access::Agent(agent) => flow::agent_message(&state, &c, agent.id, &text).await?,
    };
    Ok((
        StatusCode::CREATED,
        Json(wire::MessagePosted::from(&appended)),
    ))
}

/// An internal note on the conversation (agents who may read it): in the transcript for agents,
/// never for the customer (not in the conversation's reads or stream with its token, not in the
/// widget, not by mail) (extension).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/notes", params(("id" = String, Path)),
    request_body = wire::NewMessage,
    responses((status = 201, body = wire::MessagePosted), (status = 400), (status = 401), (status = 403), (status = 404), (status = 413)),
    security(("bearer" = [])))]
pub async fn post_note(
    State(state): State<AppState>,
    opened: Opened<Read>,
    ApiJson(body): ApiJson<wire::NewMessage>,
) -> ApiResult<(StatusCode, Json<wire::MessagePosted>)> {
    let text = flow::check_text(&body.text)?;
    let (c, access) = opened.into_parts();
    let Access::Agent(agent) = access else {
        return Err(ApiError::forbidden("notes are for agents"));
    };
    let appended = flow::note(&state, &c, store::NewMessage::note(agent.id, text)).await?;
    Ok((
        StatusCode::CREATED,
        Json(wire::MessagePosted::from(&appended)),
    ))
}

/// Someone is typing (the customer with the conversation token, or an agent who may read it):
/// the other side's live stream gets a `typing` event `{"who": "customer" | "agent"}`. Nothing is
/// stored; clients send it at most every few seconds while typing (extension).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 404), (status = 429)),
    security(("bearer" = [])))]
pub async fn typing(State(state): State<AppState>, opened: Opened<Read>) -> ApiResult<StatusCode> {
    let (c, access) = opened.into_parts();
    let who = match access {
        Access::Customer => desk::Author::Customer,
        Access::Agent(_) => desk::Author::Agent,
    };
    state.check_rate(Limit::Typing(c.id.as_str())).await?;
    state.hub.typing(&c.id, who);
    Ok(StatusCode::NO_CONTENT)
}

/// The calling agent has read the conversation up to its latest message: it no longer counts
/// as unread in their inbox (extension). Customers keep no read markers.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn read(State(state): State<AppState>, opened: Opened<Read>) -> ApiResult<StatusCode> {
    let (c, access) = opened.into_parts();
    let Access::Agent(agent) = access else {
        return Err(ApiError::forbidden("only agents keep read markers"));
    };
    crate::inbox::mark_read(&state, &agent, &c.id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The longest rating comment, in characters.
pub const MAX_RATING_COMMENT_CHARS: usize = 1_000;

/// The customer rates the conversation (1–5), once a person has taken part or it is resolved.
/// A second rating replaces the first.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/rating", params(("id" = String, Path)),
    request_body = wire::Rating,
    responses((status = 204), (status = 400), (status = 401), (status = 404), (status = 409), (status = 413), (status = 429)),
    security(("bearer" = [])))]
pub async fn rate(
    State(state): State<AppState>,
    opened: Opened<Write>,
    ApiJson(body): ApiJson<wire::Rating>,
) -> ApiResult<StatusCode> {
    if !(1..=5).contains(&body.score) {
        return Err(ApiError::bad_request("score must be between 1 and 5"));
    }
    let comment = match body.comment {
        Some(c) if c.chars().count() > MAX_RATING_COMMENT_CHARS => {
            return Err(DeskError::TooLong(MAX_RATING_COMMENT_CHARS).into())
        }
        Some(c) => Some(flow::check_text(&c)?),
        None => None,
    };
    let (c, access) = opened.into_parts();
    if !matches!(access, Access::Customer) {
        return Err(ApiError::forbidden(
            "only the customer rates a conversation",
        ));
    }
    state.check_rate(Limit::Rating(c.id.as_str())).await?;
    let person_took_part = c.state == ConversationState::Resolved
        || c.assignee.is_some()
        || state
            .store
            .messages(&c.id)
            .await?
            .iter()
            .any(|m| m.author == Author::Agent);
    if !person_took_part {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_ratable_yet",
            "a conversation can be rated once a person has taken part or it is resolved",
        ));
    }
    state.store.rate(&c.id, body.score as u8, comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The conversation and the agent acting on it: customers may not resolve, hand back or
/// transfer.
fn agent_action(opened: Opened<Write>) -> ApiResult<(store::Conversation, desk::Agent)> {
    match opened.into_parts() {
        (c, Access::Agent(agent)) => Ok((c, agent)),
        (_, Access::Customer) => Err(ApiError::forbidden("this needs an agent token")),
    }
}

/// Resolve the conversation (assigned agent or admin).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/resolve", params(("id" = String, Path)),
    responses((status = 200, body = wire::StateChange), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn resolve(
    State(state): State<AppState>,
    opened: Opened<Write>,
) -> ApiResult<Json<wire::StateChange>> {
    let (c, agent) = agent_action(opened)?;
    let appended = flow::resolve(&state, &c, Some(agent.id)).await?;
    Ok(Json(wire::StateChange::from(&appended.conversation)))
}

/// Hand the conversation back to the bot.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/handback", params(("id" = String, Path)),
    responses((status = 200, body = wire::StateChange), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn handback(
    State(state): State<AppState>,
    opened: Opened<Write>,
) -> ApiResult<Json<wire::StateChange>> {
    let (c, agent) = agent_action(opened)?;
    let appended = flow::handback(&state, &c, agent.id).await?;
    Ok(Json(wire::StateChange::from(&appended.conversation)))
}

/// Pass the conversation to a colleague (`{"agent": id}`: online, with room, not ruled out) or
/// to a skill (`{"skill": "solar"}`: routed again with the skill needed). Assigned agent only.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/transfer", params(("id" = String, Path)),
    request_body = wire::TransferIn,
    responses((status = 200, body = wire::StateChange), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn transfer(
    State(state): State<AppState>,
    opened: Opened<Write>,
    ApiJson(body): ApiJson<wire::TransferIn>,
) -> ApiResult<Json<wire::StateChange>> {
    let to = body.target().map_err(ApiError::bad_request)?;
    let (c, agent) = agent_action(opened)?;
    let appended = flow::transfer(&state, &c, agent.id, to).await?;
    Ok(Json(wire::StateChange::from(&appended.conversation)))
}

/// Knowledge-base articles suggested for the conversation (agents only).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/suggestions", params(("id" = String, Path)),
    responses((status = 200, body = [wire::ArticleSuggestion]), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn suggestions(
    State(state): State<AppState>,
    opened: Opened<Read>,
) -> ApiResult<Json<Vec<wire::ArticleSuggestion>>> {
    let (c, access) = opened.into_parts();
    if matches!(access, Access::Customer) {
        return Err(ApiError::forbidden("this needs an agent token"));
    }
    Ok(Json(flow::suggestions(&state, &c).await?))
}
