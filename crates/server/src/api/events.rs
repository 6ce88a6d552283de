//! Server-Sent Events: one conversation's messages and state changes, and an agent's inbox.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use crate::auth::{self, Intent, SignedIn};
use crate::error::ApiResult;
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

fn to_sse(e: &LiveEvent) -> Event {
    match &e.kind {
        LiveKind::Message(m) => Event::default()
            .event("message")
            .id(m.id.to_string())
            .json_data(m)
            .unwrap_or_default(),
        LiveKind::State(s) => Event::default()
            .event("state")
            .json_data(s)
            .unwrap_or_default(),
    }
}

/// Live events of one conversation, for whoever may read it.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/events", params(("id" = String, Path)),
    responses((status = 200, description = "text/event-stream: `message` events (Message JSON) and `state` events"), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn conversation_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before the access check so that nothing written meanwhile is missed.
    let rx = state.hub.subscribe();
    let (c, _) = auth::conversation_access(&state, &headers, &id, Intent::Read).await?;
    let stream = BroadcastStream::new(rx)
        .filter_map(move |e| e.ok().filter(|e| e.conversation == c.id))
        .map(|e| Ok(to_sse(&e)));
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The caller's inbox: `inbox` events when a conversation is queued or assigned to them, and
/// `message` events for the conversations assigned to them.
#[utoipa::path(get, path = "/api/v1/agent/events",
    responses((status = 200, description = "text/event-stream of `inbox` and `message` events"), (status = 401)),
    security(("bearer" = [])))]
pub async fn agent_events(
    State(state): State<AppState>,
    SignedIn(agent): SignedIn,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rx = state.hub.subscribe();
    let me = agent.id;
    let stream = BroadcastStream::new(rx).filter_map(move |e| {
        let e = e.ok()?;
        let mine = e.assignee == Some(me);
        match &e.kind {
            LiveKind::State(s) if mine || s.state == desk::ConversationState::Queued => {
                Some(Ok(Event::default()
                    .event("inbox")
                    .json_data(s)
                    .unwrap_or_default()))
            }
            LiveKind::Message(m) if mine => Some(Ok(Event::default()
                .event("message")
                .json_data(serde_json::json!({"conversation": e.conversation, "message": m}))
                .unwrap_or_default())),
            _ => None,
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
