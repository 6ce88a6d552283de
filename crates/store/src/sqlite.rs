//! The embedded SQLite backend: WAL with `synchronous=FULL`, one writer thread that commits
//! many requests in one transaction (group commit), and a small pool of readers.
//!
//! A write is acknowledged only after its transaction has committed, so whatever the API
//! answered 201 for survives `kill -9`.

mod help;
mod queries;
mod rollup;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use desk::routing::Rules;
use desk::{Agent, AgentId, ConversationId, ConversationState, MessageId, Presence};
use rusqlite::{Connection, OpenFlags};

use crate::{
    AgentRecord, Appended, Change, Clock, Conversation, ConversationRecord, Event, Message,
    NewAgent, NewConversation, NewMessage, Result, Session, Store, StoreError, Summary,
};
use crate::{Article, Comment, CommentStatus, Helpfulness, NewArticle};
use writer::Writer;

const MIGRATIONS: &[&str] = &[
    include_str!("sqlite/migrations/0001_init.sql"),
    include_str!("sqlite/migrations/0002_rate_counters.sql"),
    include_str!("sqlite/migrations/0003_routing.sql"),
    include_str!("sqlite/migrations/0004_help_center.sql"),
    include_str!("sqlite/migrations/0005_analytics.sql"),
    rollup::MIGRATION,
    include_str!("sqlite/migrations/0007_disabled_agents.sql"),
    include_str!("sqlite/migrations/0008_audit.sql"),
    include_str!("sqlite/migrations/0009_mail.sql"),
    include_str!("sqlite/migrations/0010_canned.sql"),
    include_str!("sqlite/migrations/0011_inbox.sql"),
    include_str!("sqlite/migrations/0012_playbook.sql"),
    include_str!("sqlite/migrations/0013_lessons.sql"),
];
const READERS_KEPT: usize = 8;

pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
    clock: Clock,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
            rusqlite::Error::SqliteFailure(code, ref msg)
                if code.code == rusqlite::ErrorCode::ConstraintViolation
                    && msg.as_deref().is_some_and(|m| m.contains("UNIQUE")) =>
            {
                StoreError::Conflict(msg.clone().unwrap_or_default())
            }
            other => StoreError::Backend(other.to_string()),
        }
    }
}

fn open(path: &Path, write: bool) -> Result<Connection> {
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;\n         PRAGMA wal_autocheckpoint=8000; PRAGMA secure_delete=ON;",
    )?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied SQLite migration");
    }
    Ok(())
}

impl SqliteStore {
    /// `tandem bench summary` only: bulk-inserts `n` synthetic conversations (ids `bench_…`)
    /// with their messages and events over `[from_ms, from_ms + span_ms)`, in one transaction,
    /// without their rollups (`Store::rebuild_rollups` computes them).
    pub async fn seed_bench(&self, n: i64, from_ms: i64, span_ms: i64, agent: i64) -> Result<()> {
        self.writer
            .write(move |c| {
                queries::seed_bench(c, n, from_ms, span_ms, agent)?;
                c.execute_batch("ANALYZE")?;
                Ok(())
            })
            .await
    }

    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let mut conn = open(&path, true)?;
        migrate(&mut conn)?;
        Ok(Self {
            path,
            writer: Writer::start(conn)?,
            readers: Arc::new(Mutex::new(Vec::new())),
            clock: Clock::system(),
        })
    }

    /// After an erasure: the old pages are zeroed in the database file (secure_delete); the
    /// write-ahead log, which still holds earlier versions of them, is checkpointed and
    /// truncated.
    fn truncate_wal(&self) -> Result<()> {
        let conn = open(&self.path, true)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// The store with another clock for what it stamps itself (tests of time-dependent
    /// figures).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Runs a read on a pooled read-only connection, on the calling thread. Reads are indexed
    /// lookups that take microseconds in WAL mode (they never wait for the writer), so handing
    /// them to a blocking pool would cost more in thread hand-offs than the read itself.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Connection) -> Result<T>,
    {
        let pooled = self.readers.lock().map_err(|_| poisoned())?.pop();
        let conn = match pooled {
            Some(c) => c,
            None => open(&self.path, false)?,
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().map_err(|_| poisoned())?;
        if pool.len() < READERS_KEPT {
            pool.push(conn);
        }
        out
    }
}

/// Reading a whole desk out, for `tandem migrate-store`. Messages and events come in pages by
/// id so that a large desk never sits in memory at once.
impl SqliteStore {
    pub async fn export_agents(&self) -> Result<Vec<AgentRecord>> {
        self.read(queries::export_agents).await
    }

    pub async fn export_sessions(&self) -> Result<Vec<Session>> {
        self.read(queries::export_sessions).await
    }

    pub async fn export_conversations(&self) -> Result<Vec<ConversationRecord>> {
        self.read(queries::export_conversations).await
    }

    /// Up to `limit` messages with ids above `after`, by id.
    pub async fn export_messages(&self, after: i64, limit: u32) -> Result<Vec<Message>> {
        self.read(move |c| queries::export_messages(c, after, limit))
            .await
    }

    /// The help center: articles, comments, votes and settings.
    pub async fn export_help(&self) -> Result<crate::HelpExport> {
        self.read(help::export).await
    }

    /// Up to `limit` events with ids above `after`, by id.
    pub async fn export_events(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.read(move |c| queries::export_events(c, after, limit))
            .await
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("reader pool lock poisoned".into())
}

#[async_trait]
impl Store for SqliteStore {
    fn clock(&self) -> &Clock {
        &self.clock
    }

    async fn create_agent(&self, agent: NewAgent) -> Result<Agent> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| queries::insert_agent(c, now, &agent))
            .await
    }

    async fn agent(&self, id: AgentId) -> Result<Option<Agent>> {
        self.read(move |c| queries::agent(c, id)).await
    }

    async fn agent_credentials(&self, email: &str) -> Result<Option<(Agent, String)>> {
        let email = email.to_owned();
        self.read(move |c| queries::agent_credentials(c, &email))
            .await
    }

    async fn agents(&self) -> Result<Vec<Agent>> {
        self.read(queries::agents).await
    }

    async fn count_agents(&self) -> Result<u64> {
        self.read(|c| Ok(c.query_row("SELECT COUNT(*) FROM agents", [], |r| r.get(0))?))
            .await
    }

    async fn set_disabled(&self, id: AgentId, disabled: bool) -> Result<()> {
        self.writer
            .write(move |c| queries::set_disabled(c, id, disabled))
            .await
    }

    async fn erase_agent(&self, id: AgentId) -> Result<()> {
        self.writer
            .write(move |c| queries::erase_agent(c, id))
            .await
    }

    async fn disabled_agents(&self) -> Result<Vec<AgentId>> {
        self.read(queries::disabled_agents).await
    }

    async fn set_password(&self, id: AgentId, password_hash: String) -> Result<()> {
        self.writer
            .write(move |c| queries::set_password(c, id, &password_hash))
            .await
    }

    async fn set_limits(&self, id: AgentId, limits: Vec<String>, capacity: u32) -> Result<()> {
        let limits =
            serde_json::to_string(&limits).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.writer
            .write(move |c| {
                let n = c.execute(
                    "UPDATE agents SET limits = ?1, capacity = ?2 WHERE id = ?3",
                    (&limits, capacity, id.get()),
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
            .await
    }

    async fn set_presence(&self, id: AgentId, presence: Presence) -> Result<()> {
        self.writer
            .write(move |c| {
                let n = c.execute(
                    "UPDATE agents SET presence = ?1 WHERE id = ?2 AND disabled = 0",
                    (presence.as_str(), id.get()),
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
            .await
    }

    async fn create_session(&self, session: Session) -> Result<()> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| queries::insert_session(c, now, &session))
            .await
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> Result<Option<Session>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| queries::session(c, &token_hash, now_ms))
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.writer
            .write(move |c| {
                c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
                Ok(())
            })
            .await
    }

    async fn create_conversation(&self, new: NewConversation) -> Result<Appended> {
        let clock = self.clock.clone();
        self.writer
            .write(move |c| queries::insert_conversation(c, clock.now_ms(), new))
            .await
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>> {
        let id = id.clone();
        self.read(move |c| queries::conversation(c, &id)).await
    }

    async fn messages(&self, id: &ConversationId) -> Result<Vec<Message>> {
        let id = id.clone();
        self.read(move |c| queries::messages(c, &id)).await
    }

    async fn latest_messages(&self, id: &ConversationId, n: usize) -> Result<Vec<Message>> {
        let id = id.clone();
        self.read(move |c| queries::latest_messages(c, &id, n))
            .await
    }

    async fn messages_by_ids(
        &self,
        id: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<Message>> {
        let id = id.clone();
        let ids = ids.to_vec();
        self.read(move |c| queries::messages_by_ids(c, &id, &ids))
            .await
    }

    async fn append(
        &self,
        id: &ConversationId,
        expect: &[ConversationState],
        messages: Vec<NewMessage>,
        change: Option<Change>,
    ) -> Result<Appended> {
        let id = id.clone();
        let expect = expect.to_vec();
        let clock = self.clock.clone();
        self.writer
            .write(move |c| queries::append(c, clock.now_ms(), &id, &expect, messages, change))
            .await
    }

    async fn assign_queued(&self, rules: &Rules, now_ms: i64) -> Result<Vec<Appended>> {
        let rules = rules.clone();
        self.writer
            .write(move |c| queries::assign_queued(c, &rules, now_ms))
            .await
    }

    async fn reassign_unanswered(
        &self,
        rules: &Rules,
        now_ms: i64,
        timeout_ms: i64,
    ) -> Result<Vec<Appended>> {
        let rules = rules.clone();
        self.writer
            .write(move |c| queries::reassign_unanswered(c, &rules, now_ms, timeout_ms))
            .await
    }

    async fn transfer(
        &self,
        id: &ConversationId,
        by: AgentId,
        to: crate::TransferTo,
        now_ms: i64,
    ) -> Result<Appended> {
        let id = id.clone();
        self.writer
            .write(move |c| queries::transfer(c, &id, by, &to, now_ms))
            .await
    }

    async fn rate(&self, id: &ConversationId, score: u8, comment: Option<String>) -> Result<()> {
        let id = id.clone();
        let clock = self.clock.clone();
        self.writer
            .write(move |c| queries::rate(c, clock.now_ms(), &id, score, comment))
            .await
    }

    async fn erase_customer(&self, email: &str, pseudonym: &str) -> Result<u64> {
        let (email, pseudonym) = (email.to_owned(), pseudonym.to_owned());
        let n = self
            .writer
            .write(move |c| queries::erase_customer(c, &email, &pseudonym))
            .await?;
        self.truncate_wal()?;
        Ok(n)
    }

    async fn erase_resolved_before(&self, cutoff_ms: i64) -> Result<u64> {
        let n = self
            .writer
            .write(move |c| queries::erase_resolved_before(c, cutoff_ms))
            .await?;
        if n > 0 {
            self.truncate_wal()?;
        }
        Ok(n)
    }

    async fn audit(&self, entry: crate::AuditEntry) -> Result<()> {
        self.writer.write(move |c| queries::audit(c, &entry)).await
    }

    async fn audit_log(
        &self,
        from_ms: i64,
        to_ms: i64,
        actor: Option<AgentId>,
        limit: u32,
    ) -> Result<Vec<crate::AuditEntry>> {
        self.read(move |c| queries::audit_log(c, from_ms, to_ms, actor, limit))
            .await
    }

    async fn conversations_of_customer(&self, email: &str) -> Result<Vec<Conversation>> {
        let email = email.to_owned();
        self.read(move |c| queries::of_customer(c, &email)).await
    }

    async fn assigned_to(&self, agent: AgentId) -> Result<Vec<Conversation>> {
        self.read(move |c| queries::assigned_to(c, agent)).await
    }

    async fn queue(&self) -> Result<Vec<Conversation>> {
        self.read(queries::queue).await
    }

    async fn events(&self, id: &ConversationId) -> Result<Vec<Event>> {
        let id = id.clone();
        self.read(move |c| queries::events(c, &id)).await
    }

    async fn conversations_created(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        self.read(move |c| queries::conversations_created(c, from_ms, to_ms, limit))
            .await
    }

    async fn summary(&self, from_ms: i64, to_ms: i64) -> Result<Summary> {
        // One read transaction, so every figure sees the same snapshot.
        let now = self.clock.now_ms();
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let out = rollup::summary(&tx, from_ms, to_ms, now);
            tx.finish()?;
            out
        })
        .await
    }

    async fn summary_exact(&self, from_ms: i64, to_ms: i64) -> Result<Summary> {
        let now = self.clock.now_ms();
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            let out = rollup::summary_exact(&tx, from_ms, to_ms, now);
            tx.finish()?;
            out
        })
        .await
    }

    async fn rebuild_rollups(&self) -> Result<()> {
        self.writer.write(rollup::rebuild).await
    }

    async fn rollup_rows(&self) -> Result<Vec<String>> {
        self.read(rollup::dump).await
    }

    async fn count_hit(&self, key: &str, window_ms: i64) -> Result<u32> {
        let key = key.to_owned();
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| queries::count_hit(c, now, &key, window_ms))
            .await
    }

    async fn hits(&self, key: &str, window_ms: i64) -> Result<u32> {
        let key = key.to_owned();
        let now = self.clock.now_ms();
        self.read(move |c| queries::hits(c, now, &key, window_ms))
            .await
    }

    async fn import_articles(&self, articles: Vec<NewArticle>) -> Result<()> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| help::import_articles(c, now, &articles))
            .await
    }

    async fn save_article(&self, article: NewArticle) -> Result<Article> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| help::save_article(c, now, &article))
            .await
    }

    async fn article(&self, id: &str) -> Result<Option<Article>> {
        let id = id.to_owned();
        self.read(move |c| help::article(c, &id)).await
    }

    async fn articles(&self, published_only: bool) -> Result<Vec<Article>> {
        self.read(move |c| help::articles(c, published_only)).await
    }

    async fn add_comment(&self, article_id: &str, author: &str, text: &str) -> Result<Comment> {
        let (article_id, author, text) =
            (article_id.to_owned(), author.to_owned(), text.to_owned());
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| help::add_comment(c, now, &article_id, &author, &text))
            .await
    }

    async fn comments(
        &self,
        article_id: Option<&str>,
        status: Option<CommentStatus>,
    ) -> Result<Vec<Comment>> {
        let article_id = article_id.map(str::to_owned);
        self.read(move |c| help::comments(c, article_id.as_deref(), status))
            .await
    }

    async fn set_comment_status(&self, id: i64, status: CommentStatus) -> Result<Comment> {
        self.writer
            .write(move |c| help::set_comment_status(c, id, status))
            .await
    }

    async fn vote(&self, article_id: &str, helpful: bool) -> Result<()> {
        let article_id = article_id.to_owned();
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| help::vote(c, now, &article_id, helpful))
            .await
    }

    async fn helpfulness(&self, article_id: &str) -> Result<Helpfulness> {
        let article_id = article_id.to_owned();
        self.read(move |c| help::helpfulness(c, &article_id)).await
    }

    async fn use_captcha(&self, key: &str, expires_at_ms: i64) -> Result<bool> {
        let key = key.to_owned();
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| help::use_captcha(c, now, &key, expires_at_ms))
            .await
    }

    fn mailbox(&self) -> &dyn crate::Mailbox {
        self
    }
    fn canned(&self) -> &dyn crate::CannedResponses {
        self
    }
    fn inbox(&self) -> &dyn crate::Inbox {
        self
    }
    fn playbooks(&self) -> &dyn crate::Playbooks {
        self
    }
    fn lessons(&self) -> &dyn crate::Lessons {
        self
    }

    async fn setting_or_init(&self, name: &str, candidate: &str) -> Result<String> {
        let (name, candidate) = (name.to_owned(), candidate.to_owned());
        self.writer
            .write(move |c| help::setting_or_init(c, &name, &candidate))
            .await
    }
}
