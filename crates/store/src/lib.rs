//! Storage for the desk: the [`Store`] trait, the records it keeps, and its backends.
//!
//! Every piece of desk state lives here, so several `tandem serve` processes can share one
//! database. Each backend owns its SQL and its migrations; nothing above this crate knows which
//! one runs. Every change that matters to analytics (handoff, assignment, state change, rating)
//! is also written to the `events` log, and to the analytics rollups (`rollup.rs`), in the same
//! transaction as the change itself.

mod canned;
mod clock;
mod help;
mod inbox;
mod lessons;
mod mail;
pub mod plan;
mod playbooks;
pub mod postgres;
mod records;
mod rollup;
pub mod sqlite;

pub use canned::*;
pub use clock::Clock;
pub use help::*;
pub use inbox::{Find, Inbox, Scope};
pub use lessons::{Lesson, LessonStatus, Lessons, NewLesson};
pub use mail::*;
pub use playbooks::*;
pub use records::*;

use async_trait::async_trait;
use desk::routing::Rules;
use desk::{Agent, AgentId, ConversationId, ConversationState, MessageId, Presence};
use tokio::sync::broadcast;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. an e-mail already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The change is not possible as asked; the message is meant for people (e.g. a colleague
    /// who is not online).
    #[error("refused: {0}")]
    Refused(String),
    /// The conversation was not in the state the change expected.
    #[error("conversation is {actual}, expected {expected}")]
    WrongState {
        expected: String,
        actual: ConversationState,
    },
    /// A real failure of the backend. Logged, never shown to users.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The desk's storage. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Agents
    async fn create_agent(&self, agent: NewAgent) -> Result<Agent>;
    async fn agent(&self, id: AgentId) -> Result<Option<Agent>>;
    /// The agent with this e-mail and their password hash, for login.
    async fn agent_credentials(&self, email: &str) -> Result<Option<(Agent, String)>>;
    async fn agents(&self) -> Result<Vec<Agent>>;
    async fn count_agents(&self) -> Result<u64>;
    async fn set_presence(&self, id: AgentId, presence: Presence) -> Result<()>;
    /// Sets what the agent rules out for themselves and how many conversations they take at
    /// once.
    async fn set_limits(&self, id: AgentId, limits: Vec<String>, capacity: u32) -> Result<()>;
    /// Stores a new password hash and ends every session of the agent (API tokens, console
    /// cookies), in one step.
    async fn set_password(&self, id: AgentId, password_hash: String) -> Result<()>;
    /// Disables an agent (they cannot sign in or go online; they go offline and every session
    /// of theirs ends) or enables them again.
    async fn set_disabled(&self, id: AgentId, disabled: bool) -> Result<()>;
    /// Deletes an agent as a person: name, e-mail, password, skills and limits are forgotten and
    /// the account is disabled for good; the row stays so their messages keep an author id.
    async fn erase_agent(&self, id: AgentId) -> Result<()>;
    /// The agents who are disabled (erased ones included).
    async fn disabled_agents(&self) -> Result<Vec<AgentId>>;

    // Sessions (API tokens and console cookies), kept by token hash only.
    async fn create_session(&self, session: Session) -> Result<()>;
    async fn session(&self, token_hash: &str, now_ms: i64) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    // Conversations
    async fn create_conversation(&self, new: NewConversation) -> Result<Appended>;
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>>;
    async fn messages(&self, id: &ConversationId) -> Result<Vec<Message>>;
    /// The conversation's latest `n` messages, oldest first (what the handoff policy reads on
    /// every customer message, instead of the whole transcript).
    async fn latest_messages(&self, id: &ConversationId, n: usize) -> Result<Vec<Message>>;
    /// The conversation's messages with these ids (those that exist), oldest first.
    async fn messages_by_ids(&self, id: &ConversationId, ids: &[MessageId])
        -> Result<Vec<Message>>;
    /// What other nodes' writes changed, read back for this node's live listeners: one
    /// `Appended` per notice whose conversation still exists, in the notices' order.
    async fn changes(&self, notices: &[ChangeNotice]) -> Result<Vec<Appended>> {
        let mut out = Vec::with_capacity(notices.len());
        for n in notices {
            if let Some(conversation) = self.conversation(&n.conversation).await? {
                let messages = self.messages_by_ids(&n.conversation, &n.messages).await?;
                out.push(Appended {
                    conversation,
                    messages,
                    state_changed: n.state_changed,
                });
            }
        }
        Ok(out)
    }
    /// Appends messages and optionally changes the state, atomically, if the conversation is
    /// still in one of the `expect` states.
    async fn append(
        &self,
        id: &ConversationId,
        expect: &[ConversationState],
        messages: Vec<NewMessage>,
        change: Option<Change>,
    ) -> Result<Appended>;
    /// Gives queued conversations to fit agents in one atomic step (see `desk::routing`), with
    /// the requirements relaxed as far as each conversation's wait at `now_ms` allows. Each
    /// assignment logs an `assigned` event whose data holds the agent and the explanation
    /// (`{"agent", "why": desk::routing::Why}`).
    async fn assign_queued(&self, rules: &Rules, now_ms: i64) -> Result<Vec<Appended>>;
    /// Moves every assigned conversation whose assignee has not replied within `timeout_ms` of
    /// getting it to another fit agent, atomically; logs a `reassigned` event (`{"from",
    /// "agent", "cause", "why"}`) and tells both in the transcript. Conversations nobody else
    /// fits stay with their assignee.
    async fn reassign_unanswered(
        &self,
        rules: &Rules,
        now_ms: i64,
        timeout_ms: i64,
    ) -> Result<Vec<Appended>>;
    /// The assignee `by` passes an assigned conversation on (see [`TransferTo`]), atomically;
    /// logs `transferred` and says so in the transcript. A colleague who is not online, has no
    /// room, or could not take it (limits, locale) is `Refused`, with a message for people.
    async fn transfer(
        &self,
        id: &ConversationId,
        by: AgentId,
        to: TransferTo,
        now_ms: i64,
    ) -> Result<Appended>;
    async fn rate(&self, id: &ConversationId, score: u8, comment: Option<String>) -> Result<()>;
    /// Conversations assigned to the agent and not resolved.
    async fn assigned_to(&self, agent: AgentId) -> Result<Vec<Conversation>>;
    /// Every conversation of the customer with this e-mail (compared without case), oldest
    /// first: what a data-subject request covers.
    async fn conversations_of_customer(&self, email: &str) -> Result<Vec<Conversation>>;
    /// Erases the customer with this e-mail (GDPR Art. 17): their name and address, every message
    /// text and rating comment of their conversations, and those conversations' tokens, in one
    /// step; analytics keep their counts under `pseudonym`. Afterwards the texts are not in the
    /// database files either, as far as the backend can promise (SQLite: yes, with
    /// `secure_delete` and a truncating checkpoint; PostgreSQL: after VACUUM, see
    /// docs/security.md). Returns how many conversations were erased.
    async fn erase_customer(&self, email: &str, pseudonym: &str) -> Result<u64>;
    /// Retention: erases, as [`Store::erase_customer`] does, every conversation resolved before
    /// `cutoff_ms`, and gives customers whose last message is older a pseudonym in the
    /// analytics. Returns how many conversations were erased.
    async fn erase_resolved_before(&self, cutoff_ms: i64) -> Result<u64>;

    // The audit log: appended to, never changed or deleted.
    async fn audit(&self, entry: AuditEntry) -> Result<()>;
    /// Entries in `[from_ms, to_ms)`, of `actor` if given, newest first, at most `limit`.
    async fn audit_log(
        &self,
        from_ms: i64,
        to_ms: i64,
        actor: Option<AgentId>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>>;
    /// The queue, by priority then age.
    async fn queue(&self) -> Result<Vec<Conversation>>;
    /// The event log of one conversation, oldest first.
    async fn events(&self, id: &ConversationId) -> Result<Vec<Event>>;

    // Analytics
    /// The analytics summary of `[from_ms, to_ms)`, read from the rollups (kept in the same
    /// transaction as every write that changes a figure, so it is the same on every node) for
    /// the whole hours of the range, and from the log for the partial hours at its ends. See
    /// `rollup.rs` for how.
    async fn summary(&self, from_ms: i64, to_ms: i64) -> Result<Summary>;
    /// The same figures computed from scratch from the messages and the event log: linear in
    /// the conversations of the range, for tests and checks. First-response times are exact
    /// (milliseconds), not bucketed.
    async fn summary_exact(&self, from_ms: i64, to_ms: i64) -> Result<Summary>;
    /// Recomputes every rollup from the messages and the event log (the backfill of the
    /// migration that introduced them), atomically.
    async fn rebuild_rollups(&self) -> Result<()>;
    /// Every rollup row that is not all zeros, as text, in key order: tests compare a rebuild
    /// with the rows kept write by write.
    async fn rollup_rows(&self) -> Result<Vec<String>>;
    /// Conversations created in `[from_ms, to_ms)`, oldest first, at most `limit` (the export).
    async fn conversations_created(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<Conversation>>;

    // Several nodes on one store
    /// Whether several `tandem serve` processes may share this store. Then whatever must hold
    /// across nodes (rate-limit counters) is counted here rather than in a node's memory.
    fn shared(&self) -> bool {
        false
    }
    /// The desk's clock: what this store stamps its writes with, and where the server takes
    /// "now" from, so a test that moves it moves the whole desk.
    fn clock(&self) -> &Clock;
    /// Changes committed through *other* processes sharing this store, announced after their
    /// commit. `None` when no other process can write (SQLite).
    fn notices(&self) -> Option<broadcast::Receiver<ChangeNotice>> {
        None
    }
    /// Counts one hit on `key` in the current fixed window of `window_ms` and returns the hits
    /// in that window so far, this one included.
    async fn count_hit(&self, key: &str, window_ms: i64) -> Result<u32>;
    /// The hits on `key` in the current fixed window of `window_ms`, without counting one.
    async fn hits(&self, key: &str, window_ms: i64) -> Result<u32>;

    // Help center
    /// Imports the playbook's articles at start: inserts new ones as published and updates the
    /// text of known ones, keeping their published flag (an admin's unpublish survives restarts).
    async fn import_articles(&self, articles: Vec<NewArticle>) -> Result<()>;
    /// Creates or replaces an article (the admin editor).
    async fn save_article(&self, article: NewArticle) -> Result<Article>;
    async fn article(&self, id: &str) -> Result<Option<Article>>;
    /// All articles, or only the published ones, by category then title.
    async fn articles(&self, published_only: bool) -> Result<Vec<Article>>;
    /// Stores a new comment as pending.
    async fn add_comment(&self, article_id: &str, author: &str, text: &str) -> Result<Comment>;
    /// Comments, oldest first, optionally of one article and in one status.
    async fn comments(
        &self,
        article_id: Option<&str>,
        status: Option<CommentStatus>,
    ) -> Result<Vec<Comment>>;
    /// Moderates a comment. `NotFound` when there is no such comment.
    async fn set_comment_status(&self, id: i64, status: CommentStatus) -> Result<Comment>;
    /// Records one "Was this helpful?" answer (a row per vote, so analytics can count by time).
    async fn vote(&self, article_id: &str, helpful: bool) -> Result<()>;
    async fn helpfulness(&self, article_id: &str) -> Result<Helpfulness>;
    /// Marks a CAPTCHA as used, atomically across nodes (a unique key): `true` the first time,
    /// `false` on every later try. Keys whose CAPTCHA expired are swept.
    async fn use_captcha(&self, key: &str, expires_at_ms: i64) -> Result<bool>;
    /// The e-mail channel's storage.
    fn mailbox(&self) -> &dyn Mailbox;
    /// The canned responses' storage.
    fn canned(&self) -> &dyn CannedResponses;
    /// The inbox's read markers and search.
    fn inbox(&self) -> &dyn Inbox;
    /// The playbook's versions.
    fn playbooks(&self) -> &dyn Playbooks;
    /// What the people's work can teach the machine.
    fn lessons(&self) -> &dyn Lessons;
    /// The numbers of new playbook versions as the database announces them, this process's own
    /// among them. `None` when no other process can write (SQLite).
    fn playbook_notices(&self) -> Option<broadcast::Receiver<i64>> {
        None
    }

    /// The setting `name`; stores `candidate` first if it has none, so every node gets the value
    /// the first one stored.
    async fn setting_or_init(&self, name: &str, candidate: &str) -> Result<String>;
}
