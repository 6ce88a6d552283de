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
fn search_words(q: &str) -> DeskResult<String> {
    let words = q.trim();
    let n = words.chars().count();
    if !(SEARCH_MIN_CHARS..=SEARCH_MAX_CHARS).contains(&n) {
        return Err(DeskError::invalid(format!(
            "q must hold {SEARCH_MIN_CHARS} to {SEARCH_MAX_CHARS} characters"
        )));
    }
    Ok(words.to_owned())
}

/// The conversations whose customer, subject or messages hold the words, among those the agent
/// may open, newest first.
pub async fn search(state: &AppState, agent: &Agent, q: &str) -> DeskResult<Vec<Conversation>> {
    let text = search_words(q)?;
    Ok(state
        .store
        .inbox()
        .find(Find {
            text: Some(text),
            scope: scope(agent),
            state: None,
            limit: SEARCH_LIMIT,
        })
        .await?)
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
    let mut ids: Vec<ConversationId> = lists.into_iter().map(|c| c.id.clone()).collect();
    // An admin's "all open" holds their own and the queue's again: count each once.
    ids.sort_unstable();
    ids.dedup();
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
