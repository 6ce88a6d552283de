//! The PostgreSQL backend, for several `tandem serve` processes acting as one desk: a pool of
//! connections, migrations applied under an advisory lock, row locks for every conversation
//! step, routing serialized cluster-wide by a transaction-scoped advisory lock, and
//! `NOTIFY tandem_events` after each write's commit, batched, so other nodes hear of it (see
//! `notices`).

mod help;
mod notices;
mod pipelined;
mod queries;
mod rollup;

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use desk::routing::Rules;
use desk::{Agent, AgentId, ConversationId, ConversationState, MessageId, Presence};
use tokio::sync::broadcast;
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

use crate::{
    AgentRecord, Appended, Change, ChangeNotice, Clock, Conversation, ConversationRecord, Event,
    Message, NewAgent, NewConversation, NewMessage, Result, Session, Store, StoreError, Summary,
};
use crate::{Article, Comment, CommentStatus, Helpfulness, NewArticle};

const MIGRATIONS: &[&str] = &[
    include_str!("postgres/migrations/0001_init.sql"),
    include_str!("postgres/migrations/0002_routing.sql"),
    include_str!("postgres/migrations/0003_help_center.sql"),
    include_str!("postgres/migrations/0004_analytics.sql"),
    rollup::MIGRATION,
    include_str!("postgres/migrations/0006_disabled_agents.sql"),
    include_str!("postgres/migrations/0007_audit.sql"),
    include_str!("postgres/migrations/0008_mail.sql"),
    include_str!("postgres/migrations/0009_canned.sql"),
    include_str!("postgres/migrations/0010_inbox.sql"),
    include_str!("postgres/migrations/0011_one_trip.sql"),
    include_str!("postgres/migrations/0012_playbook.sql"),
    include_str!("postgres/migrations/0013_lessons.sql"),
];
/// Advisory lock keys ("tandem" in ASCII, then a number). Migrations: session-wide for one
/// transaction; routing: one transaction at a time in the whole cluster.
const MIGRATION_LOCK: i64 = 0x7461_6e64_656d_0001;
const ROUTING_LOCK: i64 = 0x7461_6e64_656d_0002;
const POOL_SIZE: usize = 16;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if db.code() == &SqlState::UNIQUE_VIOLATION => {
                StoreError::Conflict(db.message().to_owned())
            }
            Some(db) => StoreError::Backend(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Backend(format!("connection pool: {other}")),
        }
    }
}

pub struct PgStore {
    pool: Pool,
    /// Tells the other nodes what this one wrote, after each commit.
    notifier: notices::Notifier,
    notices: broadcast::Sender<ChangeNotice>,
    /// New playbook versions as the database announces them.
    playbook_notices: broadcast::Sender<i64>,
    listener: tokio::task::JoinHandle<()>,
    new_windows: AtomicU64,
    clock: Clock,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

fn random_node_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}

impl PgStore {
    /// `tandem bench summary` only: bulk-inserts `n` synthetic conversations (ids `bench_…`)
    /// with their messages and events over `[from_ms, from_ms + span_ms)`, in one transaction,
    /// without their rollups (`Store::rebuild_rollups` computes them).
    pub async fn seed_bench(&self, n: i64, from_ms: i64, span_ms: i64, agent: i64) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        queries::seed_bench(&tx, n, from_ms, span_ms, agent).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The store with another clock for what it stamps itself (tests of time-dependent
    /// figures).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Connects to `postgres://…`, applies pending migrations (one node at a time) and starts
    /// listening for other nodes' changes. Fails if the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("bad PostgreSQL URL: {e}")))?;
        config
            .application_name("tandem")
            .connect_timeout(Duration::from_secs(10));
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
        migrate(&pool).await?;
        let node = random_node_id();
        let (notices, _) = broadcast::channel(4096);
        let (playbook_notices, _) = broadcast::channel(64);
        let (ready, listening) = tokio::sync::oneshot::channel();
        let listener = tokio::spawn(notices::listen(
            config.clone(),
            node.clone(),
            notices.clone(),
            playbook_notices.clone(),
            ready,
        ));
        // Serve only once other nodes' changes can be heard: a listener that starts late would
        // miss them silently.
        match tokio::time::timeout(Duration::from_secs(15), listening).await {
            Ok(Ok(())) => {}
            _ => {
                listener.abort();
                return Err(StoreError::Backend(
                    "cannot LISTEN for other nodes' changes".into(),
                ));
            }
        }
        Ok(Self {
            pool,
            notifier: notices::Notifier::start(config, node),
            notices,
            playbook_notices,
            listener,
            new_windows: AtomicU64::new(0),
            clock: Clock::system(),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Client> {
        Ok(self.pool.get().await?)
    }
}

async fn migrate(pool: &Pool) -> Result<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    // Nodes starting together wait here for each other; the first one migrates.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
            version    INTEGER PRIMARY KEY,
            applied_at BIGINT NOT NULL
        )",
    )
    .await?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        tx.batch_execute(sql).await?;
        let version = (i + 1) as i32;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
            &[&version, &Clock::system().now_ms()],
        )
        .await?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database has schema version {current}, newer than this build knows ({})",
            MIGRATIONS.len()
        )));
    }
    tx.commit().await?;
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn create_agent(&self, agent: NewAgent) -> Result<Agent> {
        queries::insert_agent(&self.client().await?, self.clock.now_ms(), &agent).await
    }

    async fn agent(&self, id: AgentId) -> Result<Option<Agent>> {
        queries::agent(&self.client().await?, id).await
    }

    async fn agent_credentials(&self, email: &str) -> Result<Option<(Agent, String)>> {
        queries::agent_credentials(&self.client().await?, email).await
    }

    async fn agents(&self) -> Result<Vec<Agent>> {
        queries::agents(&self.client().await?).await
    }

    async fn count_agents(&self) -> Result<u64> {
        let n: i64 = self
            .client()
            .await?
            .query_one("SELECT COUNT(*) FROM agents", &[])
            .await?
            .get(0);
        Ok(n.max(0) as u64)
    }

    async fn set_disabled(&self, id: AgentId, disabled: bool) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        queries::set_disabled(&tx, id, disabled).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn erase_agent(&self, id: AgentId) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        queries::erase_agent(&tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn disabled_agents(&self) -> Result<Vec<AgentId>> {
        queries::disabled_agents(&self.client().await?).await
    }

    async fn set_password(&self, id: AgentId, password_hash: String) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        queries::set_password(&tx, id, &password_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_limits(&self, id: AgentId, limits: Vec<String>, capacity: u32) -> Result<()> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("UPDATE agents SET limits = $1, capacity = $2 WHERE id = $3")
            .await?;
        let capacity = i32::try_from(capacity).unwrap_or(i32::MAX);
        match client
            .execute(
                &stmt,
                &[&tokio_postgres::types::Json(&limits), &capacity, &id.get()],
            )
            .await?
        {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn set_presence(&self, id: AgentId, presence: Presence) -> Result<()> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("UPDATE agents SET presence = $1 WHERE id = $2 AND NOT disabled")
            .await?;
        match client
            .execute(&stmt, &[&presence.as_str(), &id.get()])
            .await?
        {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn create_session(&self, session: Session) -> Result<()> {
        queries::insert_session(&self.client().await?, self.clock.now_ms(), &session).await
    }

    async fn session(&self, token_hash: &str, now_ms: i64) -> Result<Option<Session>> {
        queries::session(&self.client().await?, token_hash, now_ms).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached("DELETE FROM sessions WHERE token_hash = $1")
            .await?;
        client.execute(&stmt, &[&token_hash]).await?;
        Ok(())
    }

    async fn create_conversation(&self, new: NewConversation) -> Result<Appended> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let appended = queries::insert_conversation(&tx, self.clock.now_ms(), new).await?;
        tx.commit().await?;
        self.notifier.committed(&appended);
        Ok(appended)
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>> {
        queries::conversation(&self.client().await?, id).await
    }

    async fn messages(&self, id: &ConversationId) -> Result<Vec<Message>> {
        queries::messages(&self.client().await?, id).await
    }

    async fn changes(&self, notices: &[ChangeNotice]) -> Result<Vec<Appended>> {
        queries::changes(&self.client().await?, notices).await
    }

    async fn latest_messages(&self, id: &ConversationId, n: usize) -> Result<Vec<Message>> {
        queries::latest_messages(&self.client().await?, id, n).await
    }

    async fn messages_by_ids(
        &self,
        id: &ConversationId,
        ids: &[MessageId],
    ) -> Result<Vec<Message>> {
        queries::messages_by_ids(&self.client().await?, id, ids).await
    }

    async fn append(
        &self,
        id: &ConversationId,
        expect: &[ConversationState],
        messages: Vec<NewMessage>,
        change: Option<Change>,
    ) -> Result<Appended> {
        let now = self.clock.now_ms();
        // The common step in one trip when it can be (`tandem_append_plain`).
        let messages = if change.is_none() {
            let c = self.client().await?;
            match queries::append_plain(&c, now, id, expect, messages).await? {
                queries::Plain::Done(appended) => {
                    self.notifier.committed(&appended);
                    return Ok(*appended);
                }
                queries::Plain::Full(messages) => messages,
            }
        } else {
            messages
        };
        // The full step: BEGIN travels with the row lock (see `pipelined`).
        let tx = pipelined::Pipelined::new(self.client().await?);
        let c = tx.client();
        // `biased`: BEGIN is polled, and so sent, first.
        let (begun, step) = tokio::join!(
            biased;
            c.batch_execute("BEGIN"),
            queries::append(c, now, id, expect, messages, change)
        );
        begun?;
        let appended = match step {
            Ok(a) => a,
            Err(e) => {
                tx.rollback().await;
                return Err(e);
            }
        };
        c.batch_execute("COMMIT").await?;
        tx.release();
        self.notifier.committed(&appended);
        Ok(appended)
    }

    async fn assign_queued(&self, rules: &Rules, now_ms: i64) -> Result<Vec<Appended>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let assigned = queries::assign_queued(&tx, ROUTING_LOCK, rules, now_ms).await?;
        tx.commit().await?;
        for a in &assigned {
            self.notifier.committed(a);
        }
        Ok(assigned)
    }

    async fn reassign_unanswered(
        &self,
        rules: &Rules,
        now_ms: i64,
        timeout_ms: i64,
    ) -> Result<Vec<Appended>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let moved =
            queries::reassign_unanswered(&tx, ROUTING_LOCK, rules, now_ms, timeout_ms).await?;
        tx.commit().await?;
        for a in &moved {
            self.notifier.committed(a);
        }
        Ok(moved)
    }

    async fn transfer(
        &self,
        id: &ConversationId,
        by: AgentId,
        to: crate::TransferTo,
        now_ms: i64,
    ) -> Result<Appended> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let moved = queries::transfer(&tx, ROUTING_LOCK, id, by, &to, now_ms).await?;
        tx.commit().await?;
        self.notifier.committed(&moved);
        Ok(moved)
    }

    async fn rate(&self, id: &ConversationId, score: u8, comment: Option<String>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        queries::rate(&tx, self.clock.now_ms(), id, score, comment).await?;
        Ok(tx.commit().await?)
    }

    async fn erase_customer(&self, email: &str, pseudonym: &str) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = queries::erase_customer(&tx, email, pseudonym).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn erase_resolved_before(&self, cutoff_ms: i64) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = queries::erase_resolved_before(&tx, cutoff_ms).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn audit(&self, entry: crate::AuditEntry) -> Result<()> {
        queries::audit(&self.client().await?, &entry).await
    }

    async fn audit_log(
        &self,
        from_ms: i64,
        to_ms: i64,
        actor: Option<AgentId>,
        limit: u32,
    ) -> Result<Vec<crate::AuditEntry>> {
        queries::audit_log(&self.client().await?, from_ms, to_ms, actor, limit).await
    }

    async fn conversations_of_customer(&self, email: &str) -> Result<Vec<Conversation>> {
        queries::of_customer(&self.client().await?, email).await
    }

    async fn assigned_to(&self, agent: AgentId) -> Result<Vec<Conversation>> {
        queries::assigned_to(&self.client().await?, agent).await
    }

    async fn queue(&self) -> Result<Vec<Conversation>> {
        queries::queue(&self.client().await?).await
    }

    async fn events(&self, id: &ConversationId) -> Result<Vec<Event>> {
        queries::events(&self.client().await?, id).await
    }

    async fn conversations_created(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: u32,
    ) -> Result<Vec<Conversation>> {
        queries::conversations_created(&self.client().await?, from_ms, to_ms, limit).await
    }

    async fn summary(&self, from_ms: i64, to_ms: i64) -> Result<Summary> {
        // One read-only snapshot, so every figure sees the same data.
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let out = rollup::summary(&tx, from_ms, to_ms, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn summary_exact(&self, from_ms: i64, to_ms: i64) -> Result<Summary> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let out = rollup::summary_exact(&tx, from_ms, to_ms, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn rebuild_rollups(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        rollup::rebuild(&tx).await?;
        Ok(tx.commit().await?)
    }

    async fn rollup_rows(&self) -> Result<Vec<String>> {
        rollup::dump(&self.client().await?).await
    }

    fn shared(&self) -> bool {
        true
    }

    fn clock(&self) -> &Clock {
        &self.clock
    }

    fn notices(&self) -> Option<broadcast::Receiver<ChangeNotice>> {
        Some(self.notices.subscribe())
    }

    fn playbook_notices(&self) -> Option<broadcast::Receiver<i64>> {
        Some(self.playbook_notices.subscribe())
    }

    async fn count_hit(&self, key: &str, window_ms: i64) -> Result<u32> {
        let client = self.client().await?;
        let (hits, new_window) =
            queries::count_hit(&client, self.clock.now_ms(), key, window_ms).await?;
        // Keys of clients that never come back are swept now and then, by whichever node
        // happens to open the 1024th new window.
        if new_window && self.new_windows.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            queries::sweep_counters(&client, self.clock.now_ms()).await?;
        }
        Ok(hits)
    }

    async fn hits(&self, key: &str, window_ms: i64) -> Result<u32> {
        queries::hits(&self.client().await?, self.clock.now_ms(), key, window_ms).await
    }

    async fn import_articles(&self, articles: Vec<NewArticle>) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        help::import_articles(&tx, self.clock.now_ms(), &articles).await?;
        Ok(tx.commit().await?)
    }

    async fn save_article(&self, article: NewArticle) -> Result<Article> {
        help::save_article(&self.client().await?, self.clock.now_ms(), &article).await
    }

    async fn article(&self, id: &str) -> Result<Option<Article>> {
        help::article(&self.client().await?, id).await
    }

    async fn articles(&self, published_only: bool) -> Result<Vec<Article>> {
        help::articles(&self.client().await?, published_only).await
    }

    async fn add_comment(&self, article_id: &str, author: &str, text: &str) -> Result<Comment> {
        help::add_comment(
            &self.client().await?,
            self.clock.now_ms(),
            article_id,
            author,
            text,
        )
        .await
    }

    async fn comments(
        &self,
        article_id: Option<&str>,
        status: Option<CommentStatus>,
    ) -> Result<Vec<Comment>> {
        help::comments(&self.client().await?, article_id, status).await
    }

    async fn set_comment_status(&self, id: i64, status: CommentStatus) -> Result<Comment> {
        help::set_comment_status(&self.client().await?, id, status).await
    }

    async fn vote(&self, article_id: &str, helpful: bool) -> Result<()> {
        help::vote(
            &self.client().await?,
            self.clock.now_ms(),
            article_id,
            helpful,
        )
        .await
    }

    async fn helpfulness(&self, article_id: &str) -> Result<Helpfulness> {
        help::helpfulness(&self.client().await?, article_id).await
    }

    async fn use_captcha(&self, key: &str, expires_at_ms: i64) -> Result<bool> {
        help::use_captcha(
            &self.client().await?,
            self.clock.now_ms(),
            key,
            expires_at_ms,
        )
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
        help::setting_or_init(&self.client().await?, name, candidate).await
    }
}

/// Writing a whole desk in, for `tandem migrate-store`: ids are kept, and the id sequences are
/// moved past them afterwards.
impl PgStore {
    /// Whether the database holds no desk yet (no agents, no conversations).
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self
            .client()
            .await?
            .query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM agents) AND NOT EXISTS (SELECT 1 FROM conversations)",
                &[],
            )
            .await?
            .get(0))
    }

    pub async fn import_agents(&self, rows: &[AgentRecord]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for r in rows {
            queries::import_agent(&tx, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn import_sessions(&self, rows: &[Session]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for s in rows {
            queries::insert_session(&tx, self.clock.now_ms(), s).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn import_conversations(&self, rows: &[ConversationRecord]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for r in rows {
            queries::import_conversation(&tx, r).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn import_messages(&self, rows: &[Message]) -> Result<()> {
        queries::import_messages(&self.client().await?, rows).await
    }

    pub async fn import_events(&self, rows: &[Event]) -> Result<()> {
        queries::import_events(&self.client().await?, rows).await
    }

    /// The help center's rows, in one transaction.
    pub async fn import_help(&self, rows: &crate::HelpExport) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        help::import(&tx, rows).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves the id sequences past the imported ids, so new rows get fresh ones, and computes
    /// the analytics rollups of the imported desk.
    pub async fn finish_import(&self) -> Result<()> {
        self.rebuild_rollups().await?;
        let client = self.client().await?;
        for table in ["agents", "messages", "events"] {
            client
                .execute(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                    ),
                    &[],
                )
                .await?;
        }
        Ok(())
    }
}
