//! The JSON shapes of REST API v1 (docs/api.md). Extend, never break.

use desk::{Author, Channel, ConversationState, Locale, Presence, Reason, Role, Skill};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: i64,
    /// `customer`, `bot`, `agent` or `system`.
    #[schema(value_type = String, example = "customer")]
    pub author: Author,
    pub text: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&store::Message> for Message {
    fn from(m: &store::Message) -> Self {
        Self {
            id: m.id.get(),
            author: m.author,
            text: m.text.clone(),
            created_at: rfc3339(m.created_at_ms),
        }
    }
}

pub fn messages(ms: &[store::Message]) -> Vec<Message> {
    ms.iter().map(Message::from).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Handoff {
    /// `human_requested`, `low_confidence`, `negative_sentiment`, `repeated_failure`,
    /// `complaint`, `complex_sales`, `sensitive_topic` or `intent_requires_human`.
    #[schema(value_type = Vec<String>, example = json!(["complaint"]))]
    pub reasons: Vec<Reason>,
    /// Skills the handoff needs (extension).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub skills: Vec<Skill>,
    /// The bot's best guesses at what the customer wants, best first: for agents only, never
    /// in what the customer sees (extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guesses: Vec<Guess>,
}

/// One of the bot's guesses at a handoff.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Guess {
    pub intent: String,
    /// 0..1.
    pub confidence: f32,
}

impl Handoff {
    /// The handoff as anyone with access to the conversation, the customer included, sees it.
    pub fn of(c: &store::Conversation) -> Option<Self> {
        let needs = c.handoff.as_ref()?;
        Some(Self {
            reasons: needs.reasons.clone(),
            skills: needs.skills.clone(),
            guesses: Vec::new(),
        })
    }

    /// The handoff as an agent sees it: with the bot's guesses.
    pub fn for_agent(c: &store::Conversation) -> Option<Self> {
        let guesses = c.handoff.as_ref()?.guesses.iter().map(|g| Guess {
            intent: g.intent.clone(),
            confidence: g.confidence,
        });
        Some(Self {
            guesses: guesses.collect(),
            ..Self::of(c)?
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Assignee {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StateChange {
    pub id: String,
    #[schema(value_type = String, example = "queued")]
    pub state: ConversationState,
    pub assignee: Option<Assignee>,
    pub handoff: Option<Handoff>,
}

impl From<&store::Conversation> for StateChange {
    fn from(c: &store::Conversation) -> Self {
        Self {
            id: c.id.to_string(),
            state: c.state,
            assignee: c.assignee.as_ref().map(|a| Assignee {
                id: a.id.get(),
                name: a.name.clone(),
            }),
            handoff: Handoff::of(c),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerIn {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewConversation {
    pub locale: Option<String>,
    pub customer: Option<CustomerIn>,
    pub text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationCreated {
    pub id: String,
    /// The conversation token: opens this conversation and nothing else. Shown once.
    pub token: String,
    #[schema(value_type = String, example = "bot")]
    pub state: ConversationState,
    pub messages: Vec<Message>,
    pub handoff: Option<Handoff>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMessage {
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePosted {
    #[schema(value_type = String, example = "bot")]
    pub state: ConversationState,
    /// The new messages, including the bot's reply.
    pub messages: Vec<Message>,
    pub handoff: Option<Handoff>,
}

impl From<&store::Appended> for MessagePosted {
    fn from(a: &store::Appended) -> Self {
        Self {
            state: a.conversation.state,
            messages: messages(&a.messages),
            handoff: Handoff::of(&a.conversation),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Conversation {
    pub id: String,
    #[schema(value_type = String, example = "assigned")]
    pub state: ConversationState,
    #[schema(value_type = String, example = "de")]
    pub locale: Locale,
    pub messages: Vec<Message>,
    pub assignee: Option<Assignee>,
    pub handoff: Option<Handoff>,
    /// While queued: where the conversation stands (extension).
    pub queue: Option<Queue>,
    /// `chat` or `email`: how replies reach the customer (extension).
    #[schema(value_type = String, example = "email")]
    pub channel: Channel,
    /// For agents, on an e-mail conversation: the subject, the address and each reply's
    /// delivery (extension).
    pub mail: Option<MailView>,
}

/// An e-mail conversation as agents see it (extension).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailView {
    pub subject: Option<String>,
    /// Where replies go; `null` once erased.
    pub address: Option<String>,
    /// Whether this desk sends mail now (else replies wait in the outbox).
    pub sending: bool,
    pub deliveries: Vec<Delivery>,
    pub attachments: Vec<AttachmentView>,
}

/// One reply's way to the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub message_id: i64,
    /// `queued`, `sending`, `sent`, `failed` or `bounced`.
    #[schema(value_type = String, example = "sent")]
    pub state: desk::MailState,
    pub attempts: u32,
    pub error: Option<String>,
    pub updated_at: String,
}

/// An attachment of the customer's mails; `kept: false` when it was over the size cap.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub message_id: Option<i64>,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub kept: bool,
}

impl MailView {
    pub fn of(
        c: &store::Conversation,
        sending: bool,
        status: Vec<store::MailStatus>,
        attachments: Vec<store::Attachment>,
    ) -> Self {
        Self {
            subject: c.subject.clone(),
            address: c.customer.email.clone(),
            sending,
            deliveries: status
                .into_iter()
                .map(|s| Delivery {
                    message_id: s.message.get(),
                    state: s.state,
                    attempts: s.attempts,
                    error: s.last_error,
                    updated_at: rfc3339(s.updated_at_ms),
                })
                .collect(),
            attachments: attachments.into_iter().map(AttachmentView::from).collect(),
        }
    }
}

impl From<store::Attachment> for AttachmentView {
    fn from(a: store::Attachment) -> Self {
        Self {
            id: a.id,
            message_id: a.message.map(|m| m.get()),
            name: a.name,
            content_type: a.content_type,
            size: a.size,
            kept: a.kept,
        }
    }
}

/// An agent's own routing settings: what they rule out, and how many conversations at once.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LimitsIn {
    pub limits: Vec<String>,
    pub capacity: u32,
}

/// Where to pass a conversation: exactly one of a colleague's id or a skill.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferIn {
    pub agent: Option<i64>,
    pub skill: Option<String>,
}

impl TransferIn {
    pub fn target(self) -> Result<store::TransferTo, String> {
        match (self.agent, self.skill.map(|s| s.trim().to_owned())) {
            (Some(id), None) => Ok(store::TransferTo::Agent(desk::AgentId::new(id))),
            (None, Some(skill)) => Skill::parse(&skill)
                .map(store::TransferTo::Skill)
                .map_err(|why| format!("skill {why}")),
            _ => Err(
                "give either \"agent\" (a colleague's id) or \"skill\" (1–64 characters)".into(),
            ),
        }
    }
}

/// A queued conversation's place in the queue and the expected wait (extension).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    /// 1 is next (the queue is ordered by priority, then age).
    pub position: u32,
    /// An estimate; `null` when nobody who could take it is online.
    pub expected_wait_secs: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Rating {
    pub score: i64,
    pub comment: Option<String>,
}

/// An agent's own password change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Login {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: String,
    #[schema(value_type = String, example = "queued")]
    pub state: ConversationState,
    #[schema(value_type = String, example = "de")]
    pub locale: Locale,
    pub handoff: Option<Handoff>,
    pub customer: Option<String>,
    pub updated_at: String,
    /// `chat` or `email` (extension).
    #[schema(value_type = String, example = "chat")]
    pub channel: Channel,
    /// The mail's subject, on an e-mail conversation (extension).
    pub subject: Option<String>,
    /// How many messages of the customer and of colleagues the agent has not read yet
    /// (extension).
    pub unread: u32,
}

impl ConversationSummary {
    /// A conversation in an agent's list, with their unread count (0 when none).
    pub fn for_agent(c: &store::Conversation, unread: &crate::inbox::Unread) -> Self {
        Self {
            id: c.id.to_string(),
            state: c.state,
            locale: c.locale.clone(),
            handoff: Handoff::of(c),
            customer: c.customer.name.clone().or_else(|| c.customer.email.clone()),
            updated_at: rfc3339(c.updated_at_ms),
            channel: c.channel,
            subject: c.subject.clone(),
            unread: unread.get(&c.id).copied().unwrap_or(0),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentConversations {
    pub conversations: Vec<ConversationSummary>,
    /// The queue the agent may look at (extension).
    pub queue: Vec<ConversationSummary>,
}

/// What a search of the agent's conversations found, newest first (extension).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentSearch {
    pub conversations: Vec<ConversationSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PresenceIn {
    /// `online`, `away` or `offline`.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Competences {
    #[serde(rename = "self")]
    pub self_: u8,
    pub people: u8,
    pub situational: u8,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub password: String,
    /// `agent` or `admin`.
    pub role: Option<String>,
    #[serde(default)]
    pub locales: Vec<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub competences: Option<Competences>,
    /// Skills or handoff reasons the agent rules out for themselves.
    #[serde(default)]
    pub limits: Vec<String>,
    pub capacity: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
    #[schema(value_type = Vec<String>, example = json!(["de", "en"]))]
    pub locales: Vec<Locale>,
    #[schema(value_type = Vec<String>)]
    pub skills: Vec<Skill>,
    pub competences: Competences,
    pub limits: Vec<String>,
    pub capacity: u32,
    #[schema(value_type = String, example = "online")]
    pub presence: Presence,
    /// Disabled by an admin: cannot sign in or go online (extension).
    #[serde(default)]
    pub disabled: bool,
}

impl From<&desk::Agent> for Agent {
    fn from(a: &desk::Agent) -> Self {
        Self {
            id: a.id.get(),
            name: a.name.clone(),
            email: a.email.clone(),
            role: a.role,
            locales: a.locales.clone(),
            skills: a.skills.clone(),
            competences: Competences {
                self_: a.competences.self_,
                people: a.competences.people,
                situational: a.competences.situational,
            },
            limits: a.limits.clone(),
            capacity: a.capacity,
            presence: a.presence,
            disabled: false,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleSuggestion {
    pub id: String,
    pub title: String,
    pub score: f32,
}

/// One row of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// RFC 3339.
    pub at: String,
    /// The agent who acted (`null`: a failed login of an unknown account).
    pub actor: Option<i64>,
    pub action: String,
    pub target: String,
    pub address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
}
