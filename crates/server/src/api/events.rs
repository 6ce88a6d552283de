//! Server-Sent Events: one conversation's messages and state changes, and an agent's inbox.
//!
//! A stream lasts only as long as the right to read it: access is checked again before every
//! event and every [`RECHECK`], so a stream ends when its conversation goes to a colleague, when
//! its agent logs out or their session expires.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};
use tokio_stream::StreamExt;

use crate::auth::{self, Intent, SignedIn};
use crate::error::ApiResult;
use crate::live::{LiveEvent, LiveKind};
use crate::state::AppState;

/// How often a quiet stream checks that its reader may still read it.
pub const RECHECK: Duration = Duration::from_secs(10);

/// `events` for as long as `allowed` says yes: asked before each event and every [`RECHECK`];
/// the first no ends the stream.
fn while_allowed<F, Fut>(
    events: impl Stream<Item = Event> + Send + 'static,
    allowed: F,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let start = tokio::time::Instant::now() + RECHECK;
    let ticks = IntervalStream::new(tokio::time::interval_at(start, RECHECK)).map(|_| None);
    let merged = events.map(Some).merge(ticks);
    let checked = futures_util::StreamExt::then(merged, move |item| {
        let check = allowed();
        async move { (check.await, item) }
    });
    let open = futures_util::StreamExt::take_while(checked, |(ok, _)| std::future::ready(*ok));
    futures_util::StreamExt::filter_map(open, |(_, item)| std::future::ready(item.map(Ok)))
}

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
        LiveKind::Typing(who) => Event::default()
            .event("typing")
            .json_data(serde_json::json!({ "who": who }))
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
    let (c, access) = auth::conversation_access(&state, &headers, &id, Intent::Read).await?;
    let customer = matches!(access, auth::Access::Customer);
    let events = BroadcastStream::new(rx)
        .filter_map(move |e| {
            e.ok().filter(|e| e.conversation == c.id).filter(|e| {
                // Agents' internal notes never reach the customer's stream, and nobody is told
                // that they themselves are typing.
                match &e.kind {
                    LiveKind::Message(m) => !customer || m.author.customer_sees(),
                    LiveKind::Typing(who) => (*who == desk::Author::Customer) != customer,
                    LiveKind::State(_) => true,
                }
            })
        })
        .map(|e| to_sse(&e));
    let stream = while_allowed(events, move || {
        let (state, headers, id) = (state.clone(), headers.clone(), id.clone());
        async move {
            auth::conversation_access(&state, &headers, &id, Intent::Read)
                .await
                .is_ok()
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// The caller's inbox: `inbox` events when a conversation is queued or assigned to them, and
/// `message` events for the conversations assigned to them.
#[utoipa::path(get, path = "/api/v1/agent/events",
    responses((status = 200, description = "text/event-stream of `inbox` and `message` events"), (status = 401)),
    security(("bearer" = [])))]
pub async fn agent_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(agent): SignedIn,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let rx = state.hub.subscribe();
    let me = agent.id;
    let events = BroadcastStream::new(rx).filter_map(move |e| {
        let e = e.ok()?;
        let mine = e.assignee == Some(me);
        match &e.kind {
            LiveKind::State(s) if mine || s.state == desk::ConversationState::Queued => Some(
                Event::default()
                    .event("inbox")
                    .json_data(s)
                    .unwrap_or_default(),
            ),
            LiveKind::Message(m) if mine => Some(
                Event::default()
                    .event("message")
                    .json_data(serde_json::json!({"conversation": e.conversation, "message": m}))
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    });
    // The same agent, still signed in (a logout or an expired session ends the stream).
    let stream = while_allowed(events, move || {
        let (state, headers) = (state.clone(), headers.clone());
        async move {
            auth::agent(&state, &headers, false)
                .await
                .is_ok_and(|a| a.id == me)
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
