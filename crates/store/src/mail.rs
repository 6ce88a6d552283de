//! The records of the e-mail channel: the outbox (one row per bot or agent message of an e-mail
//! conversation, written in the same transaction as the message, so a reply that was stored is a
//! mail that will be sent) and what came in (mail ids seen, attachments kept).

use desk::{Author, ConversationId, Locale, MailState, MessageId};

/// One mail due for sending, claimed by one sender for a lease: everything needed to write it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMail {
    pub message: MessageId,
    pub conversation: ConversationId,
    pub author: Author,
    /// The agent's display name, for an agent's message.
    pub agent_name: Option<String>,
    pub text: String,
    /// The customer's address; `None` once erased (the mail is then given up).
    pub to: Option<String>,
    pub customer_name: Option<String>,
    pub subject: Option<String>,
    pub locale: Locale,
    /// Tries so far, this one included.
    pub attempts: u32,
    /// Our earlier mails in this conversation, oldest first (for `References`).
    pub earlier: Vec<MessageId>,
    /// The `Message-ID`s of the customer's mails in this conversation, oldest first.
    pub theirs: Vec<String>,
}

/// What became of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// The SMTP server took it.
    Sent,
    /// A temporary failure: try again at `at_ms`.
    Retry { at_ms: i64, error: String },
    /// Given up: a permanent refusal or the last try.
    Failed { error: String },
    /// The customer's mail server sent it back later.
    Bounced { error: String },
}

/// Where one outgoing mail of a conversation stands, for the console and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailStatus {
    pub message: MessageId,
    pub state: MailState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated_at_ms: i64,
}

/// An attachment of a mail that came in. `data` is `None` when it was over the size cap: the
/// name, type and size are kept so agents know it was there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub data: Option<Vec<u8>>,
}

/// An attachment as listed on a conversation (without its bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub message: Option<MessageId>,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub kept: bool,
}

/// The e-mail channel's storage, beside [`crate::Store`] (reached by `Store::mailbox`). Each
/// method is atomic in its backend. A mail's content is always read from its message at sending
/// time, so erasing a customer also empties what is still waiting for them.
#[async_trait::async_trait]
pub trait Mailbox: Send + Sync {
    /// Moves a conversation to e-mail: its later bot and agent messages go to `email` by mail.
    async fn use_email(&self, id: &ConversationId, email: &str) -> crate::Result<()>;
    /// Claims up to `limit` due mails for `lease_ms`: each is `sending` with one more attempt. A
    /// mail whose lease ran out with no outcome (its sender died mid-way) is due again.
    async fn claim_mail(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> crate::Result<Vec<OutboxMail>>;
    async fn mail_outcome(&self, message: MessageId, outcome: MailOutcome) -> crate::Result<()>;
    /// The conversation's outgoing mails, oldest first.
    async fn mail_status(&self, id: &ConversationId) -> crate::Result<Vec<MailStatus>>;
    /// The conversation a mail that came in with this `Message-ID` was stored in, if any.
    async fn mail_seen(&self, mail_id: &str) -> crate::Result<Option<ConversationId>>;
    async fn attachments(&self, id: &ConversationId) -> crate::Result<Vec<Attachment>>;
    /// One attachment of the conversation with its bytes (`None` for an unknown id or one over
    /// the cap, whose bytes were not kept).
    async fn attachment(
        &self,
        id: &ConversationId,
        attachment: i64,
    ) -> crate::Result<Option<(Attachment, Vec<u8>)>>;
    /// How many outgoing mails are in each state, for `/metrics` and the console.
    async fn outbox_counts(&self) -> crate::Result<Vec<(MailState, u64)>>;
}
