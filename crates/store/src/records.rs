//! The records the store keeps and returns.

use desk::Action;
use desk::{
    AgentId, Author, Channel, Competences, ConversationId, ConversationState, Locale, MessageId,
    Needs, Role, Skill,
};
use serde::{Deserialize, Serialize};

/// One row of the audit log: who did what to what, when, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at_ms: i64,
    /// The agent who acted; `None` for a failed login of an unknown address.
    pub actor: Option<AgentId>,
    /// What happened, e.g. `login_failed`, `agent_disabled`, `customer_erased`.
    pub action: String,
    /// What it happened to, e.g. `agent:7`, `article:returns`.
    pub target: String,
    /// The client address, when the action came through HTTP.
    pub address: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub locales: Vec<Locale>,
    pub skills: Vec<Skill>,
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
    pub locale: Locale,
    pub customer: Customer,
    /// Chat, or e-mail (then bot and agent messages go to the customer's address by mail).
    pub channel: Channel,
    /// The subject of the mail that opened it (e-mail only).
    pub subject: Option<String>,
    /// The first messages (customer text and the bot's reply), if any.
    pub messages: Vec<NewMessage>,
    pub change: Option<Change>,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: ConversationId,
    pub token_hash: String,
    pub state: ConversationState,
    pub locale: Locale,
    pub customer: Customer,
    pub channel: Channel,
    pub subject: Option<String>,
    pub assignee: Option<Assignee>,
    /// The needs of the latest handoff (reasons, skills, locale), while it matters.
    pub handoff: Option<Needs>,
    /// When the conversation joined the queue (its latest handoff).
    pub queued_at_ms: Option<i64>,
    /// When the current assignee got it.
    pub assigned_at_ms: Option<i64>,
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
    /// For a customer's mail: its `Message-ID` (unique: a mail delivered twice is stored once,
    /// in the same transaction as its message) and its attachments.
    pub mail: Option<InboundMail>,
}

/// What a customer message that came by mail carries besides its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    pub mail_id: String,
    pub attachments: Vec<crate::NewAttachment>,
}

impl NewMessage {
    pub fn customer(text: impl Into<String>) -> Self {
        Self {
            author: Author::Customer,
            agent: None,
            text: text.into(),
            mail: None,
            action: None,
        }
    }
    pub fn bot(text: impl Into<String>, action: Action) -> Self {
        Self {
            author: Author::Bot,
            agent: None,
            text: text.into(),
            mail: None,
            action: Some(action),
        }
    }
    pub fn agent(agent: AgentId, text: impl Into<String>) -> Self {
        Self {
            author: Author::Agent,
            agent: Some(agent),
            text: text.into(),
            mail: None,
            action: None,
        }
    }
    /// An agent's internal note: in the transcript for agents, never for the customer.
    pub fn note(agent: AgentId, text: impl Into<String>) -> Self {
        Self {
            author: Author::Note,
            ..Self::agent(agent, text)
        }
    }
    /// A customer's mail.
    pub fn mail(text: impl Into<String>, mail: InboundMail) -> Self {
        Self {
            mail: Some(mail),
            ..Self::customer(text)
        }
    }
    pub fn system(text: impl Into<String>) -> Self {
        Self {
            author: Author::System,
            agent: None,
            text: text.into(),
            mail: None,
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

impl Message {
    /// The message as stored: `new` with the id and time the store gave it.
    pub fn stored(id: MessageId, conversation: &ConversationId, new: NewMessage, now: i64) -> Self {
        Message {
            id,
            conversation: conversation.clone(),
            author: new.author,
            agent: new.agent,
            text: new.text,
            action: new.action,
            created_at_ms: now,
        }
    }
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

/// Where an agent passes a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    /// A colleague who is online, has room and has not ruled it out: they get it at once.
    Agent(AgentId),
    /// Whoever has this skill: the skill joins the needs and the conversation is routed again.
    Skill(desk::Skill),
    /// Back to the queue with the needs it had (its agent was disabled): routed again.
    Queue,
}

impl TransferTo {
    /// The skill a transfer back to the queue adds to the needs, if any.
    pub fn skill(&self) -> Option<&desk::Skill> {
        match self {
            TransferTo::Skill(s) => Some(s),
            TransferTo::Agent(_) | TransferTo::Queue => None,
        }
    }
}

impl Change {
    /// The state-machine step this change makes.
    pub fn transition(&self) -> desk::Transition {
        match self {
            Change::Handoff(_) => desk::Transition::Handoff,
            Change::Resolve { .. } => desk::Transition::Resolve,
            Change::Handback { .. } => desk::Transition::Handback,
            Change::Reopen => desk::Transition::Reopen,
        }
    }
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
    pub locale: Locale,
    pub customer: Customer,
    pub channel: Channel,
    pub subject: Option<String>,
    pub assignee: Option<AgentId>,
    pub needs: Option<Needs>,
    pub priority: i32,
    pub queued_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// An average over a number of ratings; `average` is `None` when there are none.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Csat {
    pub average: Option<f64>,
    pub count: u64,
}

/// Time from the first handoff to the first agent message, in seconds; `None` when no
/// conversation in the range got one. Read from rollups, the times are bucketed: whole seconds
/// below an hour, whole minutes below a day, whole hours beyond (each rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct FirstResponse {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// One agent's figures in a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentFigures {
    pub id: i64,
    pub name: String,
    /// Conversations assigned to them now (not a figure of the range).
    pub load: u64,
    /// Conversations of the range they were given (assigned, moved or transferred to them).
    pub handled: u64,
    /// Latest ratings of the conversations of the range they were the last to be given.
    pub csat: Csat,
}

/// The analytics summary of a time range `[from, to)`, as the event log and the messages define
/// it (read from rollups kept with them). Its conversations are those with at least one customer
/// message in the range; every other figure is about those conversations.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub from_ms: i64,
    pub to_ms: i64,
    pub conversations: u64,
    /// The share never handed off (0 without conversations).
    pub self_service_rate: f64,
    pub handoff_rate: f64,
    /// Conversations handed off for each reason (one conversation may count for several).
    pub handoff_reasons: std::collections::BTreeMap<String, u64>,
    pub first_response_secs: FirstResponse,
    /// The latest rating of each conversation.
    pub csat: Csat,
    /// Conversations per distinct customer (by e-mail where known, else each conversation is
    /// its own customer); 0 without conversations.
    pub contacts_per_customer: f64,
    pub agents: Vec<AgentFigures>,
    /// The CSAT of the conversations handed off for each reason.
    pub reasons_csat: std::collections::BTreeMap<String, Csat>,
    /// Queue length at the end of each hour (ranges up to 7 days) or day of the range, then at
    /// its end; never later than now.
    pub queue_length: Vec<QueuePoint>,
}

/// How many conversations were queued at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePoint {
    pub at_ms: i64,
    pub length: u64,
}

/// The nearest-rank percentile `p` (0..=100) of ascending `sorted` values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * p as usize).div_ceil(100).clamp(1, n);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2], 50), Some(1));
        assert_eq!(percentile(&[1, 2], 90), Some(2));
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
    }
}
