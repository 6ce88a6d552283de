//! The agent's inbox, without HTTP: unread counts from each agent's read markers, marking a
//! conversation read, an agent's resolved conversations, and search within what the agent may
//! see (admins: everything). The API (`api::agents`, `api::conversations`) and the console call
//! these, so both apply the same rules.

use std::collections::HashMap;

use desk::{Agent, ConversationId, ConversationState, MessageId, Role};
use store::{Conversation, Find, Scope};

use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

/// A search's words: at least this many characters…
pub const SEARCH_MIN_CHARS: usize = 2;
/// …and at most this many.
pub const SEARCH_MAX_CHARS: usize = 200;
/// The most conversations a search returns, newest first.
pub const SEARCH_LIMIT: u32 = 50;
/// An admin's search reads the conversations in stretches of about this many, newest first…
pub const SEARCH_STRETCH: u32 = 50_000;
/// …and starts no new stretch after this long: it answers with what it found and how far back
/// it looked, and the caller may go on from there.
pub const SEARCH_BUDGET: std::time::Duration = std::time::Duration::from_millis(400);
/// How many resolved conversations the inbox lists.
pub const RESOLVED_LIMIT: u32 = 30;

/// Unread messages per conversation, for the agent.
pub type Unread = HashMap<ConversationId, u32>;

fn scope(agent: &Agent) -> Scope {
    match agent.role {
        Role::Admin => Scope::All,
        Role::Agent => Scope::VisibleTo(agent.id),
    }
}

/// The words of a search, trimmed; refused when too short or too long.
pub fn search_words(q: &str) -> DeskResult<String> {
    let words = q.trim();
    let n = words.chars().count();
    if !(SEARCH_MIN_CHARS..=SEARCH_MAX_CHARS).contains(&n) {
        return Err(DeskError::invalid(format!(
            "q must hold {SEARCH_MIN_CHARS} to {SEARCH_MAX_CHARS} characters"
        )));
    }
    Ok(words.to_owned())
}

/// What a search found, and how far back it looked.
pub struct Found {
    /// Newest first, at most [`SEARCH_LIMIT`].
    pub conversations: Vec<Conversation>,
    /// `Some(t)`: conversations created before `t` (ms) were not searched yet; search again
    /// with `before = t` to go on. `None`: everything was searched.
    pub before_ms: Option<i64>,
}

/// The conversations whose customer, subject or messages hold the words, among those the agent
/// may open, newest first, created before `before_ms` if given. An agent's few conversations
/// are searched at once; an admin's search goes through every conversation in stretches and
/// stops after [`SEARCH_BUDGET`], saying how far back it got.
pub async fn search(
    state: &AppState,
    agent: &Agent,
    q: &str,
    before_ms: Option<i64>,
) -> DeskResult<Found> {
    let text = search_words(q)?;
    let inbox = state.store.inbox();
    let find = |created, limit| Find {
        text: Some(text.clone()),
        scope: scope(agent),
        state: None,
        created,
        limit,
    };
    if agent.role != Role::Admin {
        let created = before_ms.map(|b| (i64::MIN, b));
        let conversations = inbox.find(find(created, SEARCH_LIMIT)).await?;
        let before_ms = full(&conversations);
        return Ok(Found {
            conversations,
            before_ms,
        });
    }
    let started = std::time::Instant::now();
    let mut upper = before_ms.unwrap_or(i64::MAX);
    let mut conversations = Vec::new();
    loop {
        let floor = inbox.created_floor(upper, SEARCH_STRETCH).await?;
        let wanted = SEARCH_LIMIT - conversations.len() as u32;
        let created = (floor.unwrap_or(i64::MIN), upper);
        conversations.extend(inbox.find(find(Some(created), wanted)).await?);
        let Some(floor) = floor else {
            return Ok(Found {
                conversations,
                before_ms: None,
            });
        };
        if let Some(before_ms) = full(&conversations) {
            return Ok(Found {
                conversations,
                before_ms: Some(before_ms),
            });
        }
        upper = floor;
        if started.elapsed() >= SEARCH_BUDGET {
            return Ok(Found {
                conversations,
                before_ms: Some(upper),
            });
        }
    }
}

/// A full page of results goes on from its oldest conversation.
fn full(conversations: &[Conversation]) -> Option<i64> {
    match conversations.last() {
        Some(last) if conversations.len() as u32 >= SEARCH_LIMIT => Some(last.created_at_ms),
        _ => None,
    }
}

/// The newest resolved conversations the agent may open (their own; admins: everyone's).
pub async fn resolved(state: &AppState, agent: &Agent) -> DeskResult<Vec<Conversation>> {
    Ok(state
        .store
        .inbox()
        .find(Find {
            text: None,
            scope: scope(agent),
            state: Some(ConversationState::Resolved),
            created: None,
            limit: RESOLVED_LIMIT,
        })
        .await?)
}

/// The agent's unread counts for these conversations. A failure shows no counts rather than no
/// inbox: it is logged and the map is empty.
pub async fn unread<'a>(
    state: &AppState,
    agent: &Agent,
    lists: impl IntoIterator<Item = &'a Conversation>,
) -> Unread {
    let ids: Vec<ConversationId> = lists.into_iter().map(|c| c.id.clone()).collect();
    match state.store.inbox().unread(agent.id, &ids).await {
        Ok(counts) => counts.into_iter().collect(),
        Err(e) => {
            tracing::warn!(error = %e, "unread counts could not be read");
            Unread::new()
        }
    }
}

/// The agent has seen the conversation up to `upto` (`None`: everything in it).
pub async fn mark_read(
    state: &AppState,
    agent: &Agent,
    conversation: &ConversationId,
    upto: Option<MessageId>,
) -> DeskResult<()> {
    Ok(state
        .store
        .inbox()
        .mark_read(agent.id, conversation, upto)
        .await?)
}
