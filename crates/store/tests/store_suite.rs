//! One storage suite, written against the `Store` trait so every backend runs the same tests:
//! on SQLite (a temporary file) and on PostgreSQL (a fresh, uniquely named database per test,
//! dropped afterwards even when the test fails). PostgreSQL is expected at
//! `TANDEM_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`); if it cannot be
//! reached, the PostgreSQL tests fail: they never skip silently.

use std::sync::Arc;

use desk::routing::Rules;
use desk::Action;
use desk::{
    AgentId, Competences, ConversationId, ConversationState, Needs, Presence, Reason, Role,
};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::{
    Change, Customer, NewAgent, NewConversation, NewMessage, Session, SessionKind, Store,
    StoreError, TransferTo,
};

#[path = "store_suite/conversations.rs"]
mod conversations;
#[path = "store_suite/help.rs"]
mod help;
#[path = "store_suite/inbox.rs"]
mod inbox;
#[path = "store_suite/people.rs"]
mod people;
#[path = "store_suite/rollups.rs"]
mod rollups;

use conversations::*;
use help::*;
use inbox::*;
use people::*;
use rollups::*;

/// German, the locale of the suite's conversations and agents.
fn de() -> desk::Locale {
    desk::Locale::parse("de").expect("locale")
}

fn agent(email: &str, capacity: u32, limits: &[&str]) -> NewAgent {
    NewAgent {
        name: email.split('@').next().unwrap_or("x").into(),
        email: email.into(),
        password_hash: "$argon2id$test".into(),
        role: Role::Agent,
        locales: vec![de()],
        skills: vec![],
        competences: Competences::default(),
        limits: limits.iter().map(|s| s.to_string()).collect(),
        capacity,
    }
}

fn new_conversation(id: &str) -> NewConversation {
    NewConversation {
        id: ConversationId::parse(id).expect("id"),
        token_hash: format!("hash-{id}"),
        locale: de(),
        customer: Customer {
            name: Some("Kim".into()),
            email: None,
        },
        channel: desk::Channel::Chat,
        subject: None,
        messages: vec![
            NewMessage::customer("Hallo"),
            NewMessage::bot("Hallo! Wie kann ich helfen?", Action::Answer),
        ],
        change: None,
    }
}

fn handoff(reasons: Vec<Reason>) -> Change {
    Change::Handoff(Needs {
        priority: desk::handoff::priority(&reasons),
        reasons,
        skills: vec![],
        locale: de(),
        levels: Default::default(),
        guesses: vec![],
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("suite.db")).expect("open");
    (Arc::new(store), dir)
}

fn sqlite_with_clock(clock: &TestClock) -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("suite.db"))
        .expect("open")
        .with_clock(clock.clock());
    (Arc::new(store), dir)
}

/// A clock the test moves: what the store stamps its writes with.
#[derive(Clone)]
struct TestClock(store::Clock);

impl TestClock {
    fn at(ms: i64) -> Self {
        Self(store::Clock::manual(ms))
    }
    fn now(&self) -> i64 {
        self.0.now_ms()
    }
    fn set(&self, ms: i64) {
        self.0.set(ms);
    }
    fn advance(&self, ms: i64) -> i64 {
        self.0.advance(ms)
    }
    fn clock(&self) -> store::Clock {
        self.0.clone()
    }
}

use test_support::PgDatabase;

/// The stores of a test database.
trait PgStores {
    async fn store(&self) -> Arc<dyn Store>;
    async fn store_with_clock(&self, clock: &TestClock) -> Arc<dyn Store>;
}

impl PgStores for PgDatabase {
    async fn store(&self) -> Arc<dyn Store> {
        Arc::new(PgStore::connect(&self.url).await.expect("connect"))
    }

    async fn store_with_clock(&self, clock: &TestClock) -> Arc<dyn Store> {
        Arc::new(
            PgStore::connect(&self.url)
                .await
                .expect("connect")
                .with_clock(clock.clock()),
        )
    }
}

macro_rules! on_both_backends {
    ($($name:ident),+; clocked: $($clocked:ident),+) => {
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, _dir) = super::sqlite();
                    super::$name(store).await;
                }
            )+
            $(
                #[tokio::test]
                async fn $clocked() {
                    let clock = super::TestClock::at(0);
                    let (store, _dir) = super::sqlite_with_clock(&clock);
                    super::$clocked(store, clock).await;
                }
            )+

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_writes_keep_the_rollups_exact() {
                let (store, _dir) = super::sqlite();
                super::concurrent_writes_keep_the_rollups_exact(vec![store]).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_routing_assigns_each_conversation_once() {
                let (store, _dir) = super::sqlite();
                super::concurrent_routing_assigns_each_conversation_once(vec![store]).await;
            }
        }
        mod postgres_backend {
            use super::PgStores;
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::PgDatabase::create(stringify!($name)).await;
                    super::$name(db.store().await).await;
                }
            )+
            $(
                #[tokio::test]
                async fn $clocked() {
                    let db = super::PgDatabase::create(stringify!($clocked)).await;
                    let clock = super::TestClock::at(0);
                    super::$clocked(db.store_with_clock(&clock).await, clock).await;
                }
            )+

            /// Two stores on one database stand for two nodes writing at once.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_writes_keep_the_rollups_exact() {
                let db = super::PgDatabase::create("concurrent_rollups").await;
                let stores = vec![db.store().await, db.store().await];
                super::concurrent_writes_keep_the_rollups_exact(stores).await;
            }

            /// Two stores on one database stand for two nodes.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_routing_assigns_each_conversation_once() {
                let db = super::PgDatabase::create("concurrent_routing").await;
                let stores = vec![db.store().await, db.store().await];
                super::concurrent_routing_assigns_each_conversation_once(stores).await;
            }
        }
    };
}

on_both_backends!(
    agents_are_unique_by_email,
    conversations_keep_messages_in_order_and_check_state,
    the_common_step_appends_and_the_latest_messages_are_its_tail,
    assignment_respects_capacity_limits_and_priority,
    relaxation_follows_the_time_passed_in,
    sessions_expire,
    rate_counters_count_per_key_and_window,
    a_new_password_ends_the_agents_sessions,
    agents_are_disabled_enabled_and_erased,
    a_customers_conversations_are_found_by_email,
    a_customer_is_erased,
    retention_erases_old_resolved_conversations,
    the_audit_log_appends_and_reads_back,
    notices_name_the_messages_of_a_write,
    articles_import_keeps_the_published_flag,
    comments_are_moderated,
    votes_are_counted,
    captchas_are_used_once,
    settings_keep_the_first_value,
    summary_is_computed_from_the_log,
    unread_counts_follow_each_agents_read_marker,
    search_finds_words_within_what_an_agent_may_see;
    clocked: rollups_match_a_recount_over_any_range,
    queue_length_follows_the_queue
);

#[tokio::test]
async fn sqlite_has_no_other_writers_to_hear() {
    let (s, _dir) = sqlite();
    assert!(!s.shared());
    assert!(s.notices().is_none());
}

/// A write through one node is announced to the other after its commit, and not to itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_hear_each_others_writes() {
    let db = PgDatabase::create("notices").await;
    let a = db.store().await;
    let b = db.store().await;
    assert!(a.shared());
    let mut heard_by_a = a.notices().expect("notices");
    let mut heard_by_b = b.notices().expect("notices");
    // LISTEN starts in the background: write until B hears (bounded), then check the details.
    let mut notice = None;
    for i in 0..50 {
        let created = a
            .create_conversation(new_conversation(&format!("c_hear{i}")))
            .await
            .expect("create");
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(200), heard_by_b.recv()).await
        {
            notice = Some((n, created));
            break;
        }
    }
    let (notice, created) = notice.expect("node B never heard of node A's writes");
    let ids: Vec<_> = created.messages.iter().map(|m| m.id).collect();
    if notice.conversation == created.conversation.id {
        assert_eq!(notice.messages, ids);
    }
    assert!(!notice.state_changed);
    assert!(
        heard_by_a.try_recv().is_err(),
        "a node must not hear itself"
    );
}

#[tokio::test]
async fn reopening_the_database_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("reopen.db");
    {
        let s = SqliteStore::open(&path).expect("open");
        s.create_conversation(new_conversation("c_keep"))
            .await
            .expect("create");
    }
    let s = SqliteStore::open(&path).expect("reopen");
    let id = ConversationId::parse("c_keep").expect("id");
    assert_eq!(s.messages(&id).await.expect("messages").len(), 2);
}
