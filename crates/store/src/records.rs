//! The records the store keeps and returns.

use desk::{
    AgentId, Author, Competences, ConversationId, ConversationState, MessageId, Needs, Reason, Role,
};
use nlu::Action;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub locales: Vec<String>,
    pub skills: Vec<String>,
    pub competences: Competences,
    pub limits: Vec<String>,
    pub capacity: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A bearer token for the REST API.
    Api,
    /// A cookie session of the web console, with a CSRF token.
    Console,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub agent: AgentId,
    pub kind: SessionKind,
    pub csrf: Option<String>,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewConversation {
    pub id: ConversationId,
    pub token_hash: String,
    pub locale: String,
    pub customer: Customer,
    /// The first messages (customer text and the bot's reply), if any.
    pub messages: Vec<NewMessage>,
    pub change: Option<Change>,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: ConversationId,
    pub token_hash: String,
    pub state: ConversationState,
    pub locale: String,
    pub customer: Customer,
    pub assignee: Option<Assignee>,
    /// The needs of the latest handoff (reasons, skills, locale), while it matters.
    pub handoff: Option<Needs>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    pub id: AgentId,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub author: Author,
    pub agent: Option<AgentId>,
    pub text: String,
    /// For bot messages: how the bot met the customer's message.
    pub action: Option<Action>,
}

impl NewMessage {
    pub fn customer(text: impl Into<String>) -> Self {
        Self {
            author: Author::Customer,
            agent: None,
            text: text.into(),
            action: None,
        }
    }
    pub fn bot(text: impl Into<String>, action: Action) -> Self {
        Self {
            author: Author::Bot,
            agent: None,
            text: text.into(),
            action: Some(action),
        }
    }
    pub fn agent(agent: AgentId, text: impl Into<String>) -> Self {
        Self {
            author: Author::Agent,
            agent: Some(agent),
            text: text.into(),
            action: None,
        }
    }
    pub fn system(text: impl Into<String>) -> Self {
        Self {
            author: Author::System,
            agent: None,
            text: text.into(),
            action: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub author: Author,
    pub agent: Option<AgentId>,
    pub text: String,
    pub action: Option<Action>,
    pub created_at_ms: i64,
}

/// A state change applied together with new messages.
#[derive(Debug, Clone)]
pub enum Change {
    /// The machine hands the conversation to people.
    Handoff(Needs),
    Resolve {
        by: Option<AgentId>,
    },
    Handback {
        by: AgentId,
    },
    /// The customer writes again after resolution: back to the bot.
    Reopen,
}

/// What one atomic write produced: the conversation as it is now and the new messages.
#[derive(Debug, Clone)]
pub struct Appended {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    /// Whether the state changed in this write.
    pub state_changed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    pub conversation: ConversationId,
    pub kind: String,
    pub data: serde_json::Value,
    pub created_at_ms: i64,
}

pub(crate) fn reasons_json(reasons: &[Reason]) -> serde_json::Value {
    serde_json::to_value(reasons).unwrap_or_default()
}

/// What a write through another node changed: the store is read again for the details, so the
/// notice itself stays small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeNotice {
    pub conversation: ConversationId,
    pub messages: Vec<MessageId>,
    pub state_changed: bool,
}

impl ChangeNotice {
    pub fn of(appended: &Appended) -> Self {
        Self {
            conversation: appended.conversation.id.clone(),
            messages: appended.messages.iter().map(|m| m.id).collect(),
            state_changed: appended.state_changed,
        }
    }
}

/// An agent as stored, with what `tandem migrate-store` must carry over.
#[derive(Debug, Clone)]
pub struct AgentRecord {
    pub agent: desk::Agent,
    pub password_hash: String,
    pub created_at_ms: i64,
}

/// A conversation row as stored, queue position included, for `tandem migrate-store`.
#[derive(Debug, Clone)]
pub struct ConversationRecord {
    pub id: ConversationId,
    pub token_hash: String,
    pub state: ConversationState,
    pub locale: String,
    pub customer: Customer,
    pub assignee: Option<AgentId>,
    pub needs: Option<Needs>,
    pub priority: i32,
    pub queued_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}
