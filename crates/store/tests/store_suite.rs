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

async fn agents_are_unique_by_email(s: Arc<dyn Store>) {
    let a = s
        .create_agent(agent("a@x.org", 2, &[]))
        .await
        .expect("create");
    assert_eq!(a.presence, Presence::Offline);
    assert!(matches!(
        s.create_agent(agent("A@x.org", 2, &[])).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.count_agents().await.expect("count"), 1);
    assert!(s.agent(AgentId::new(999)).await.expect("lookup").is_none());
    assert!(matches!(
        s.set_presence(AgentId::new(999), Presence::Online).await,
        Err(StoreError::NotFound)
    ));
}

async fn conversations_keep_messages_in_order_and_check_state(s: Arc<dyn Store>) {
    let created = s
        .create_conversation(new_conversation("c_1"))
        .await
        .expect("create");
    assert_eq!(created.conversation.state, ConversationState::Bot);
    assert_eq!(created.messages.len(), 2);
    let id = created.conversation.id.clone();
    let wrong = s
        .append(
            &id,
            &[ConversationState::Assigned],
            vec![NewMessage::customer("x")],
            None,
        )
        .await;
    assert!(matches!(wrong, Err(StoreError::WrongState { .. })));
    let queued = s
        .append(
            &id,
            &[ConversationState::Bot],
            vec![NewMessage::customer("Mensch bitte")],
            Some(handoff(vec![Reason::HumanRequested])),
        )
        .await
        .expect("handoff");
    assert_eq!(queued.conversation.state, ConversationState::Queued);
    assert_eq!(
        queued
            .conversation
            .handoff
            .as_ref()
            .map(|n| n.reasons.clone()),
        Some(vec![Reason::HumanRequested])
    );
    let all = s.messages(&id).await.expect("messages");
    assert_eq!(
        all.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["Hallo", "Hallo! Wie kann ich helfen?", "Mensch bitte"]
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(all[1].action, Some(Action::Answer));
    let kinds: Vec<String> = s
        .events(&id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"handoff".to_string()));
    // A resolved conversation cannot be handed off again.
    s.append(&id, &[], vec![], Some(Change::Resolve { by: None }))
        .await
        .expect("resolve");
    let again = s
        .append(&id, &[], vec![], Some(handoff(vec![Reason::Complaint])))
        .await;
    assert!(matches!(again, Err(StoreError::WrongState { .. })));
    assert!(s
        .conversation(&ConversationId::parse("c_missing").expect("id"))
        .await
        .expect("read")
        .is_none());
}

/// Requirements relax by the time passed in, not by the wall clock: the store routes as of `now`.
async fn relaxation_follows_the_time_passed_in(s: Arc<dyn Store>) {
    let mut calm = agent("calm@x.org", 2, &[]);
    calm.competences = Competences {
        self_: 3,
        people: 3,
        situational: 2,
    };
    let calm = s.create_agent(calm).await.expect("calm");
    s.set_presence(calm.id, Presence::Online)
        .await
        .expect("online");
    let rules = Rules::default();
    let mut c = new_conversation("c_upset");
    c.change = Some(Change::Handoff(Needs::new(
        &rules,
        vec![Reason::NegativeSentiment],
        &[],
        &de(),
    )));
    let t0 = now_ms();
    s.create_conversation(c).await.expect("create");
    // People ≥ 4 is needed; the only agent has 3.
    assert!(s.assign_queued(&rules, t0).await.expect("now").is_empty());
    assert!(s
        .assign_queued(&rules, t0 + 30_000)
        .await
        .expect("30 s")
        .is_empty());
    // After 60 s (and a little slack for the create) the levels drop by one: people ≥ 3.
    let assigned = s.assign_queued(&rules, t0 + 65_000).await.expect("65 s");
    assert_eq!(assigned.len(), 1);
    assert_eq!(
        assigned[0].conversation.assignee.as_ref().map(|a| a.id),
        Some(calm.id)
    );
    let events = s
        .events(&ConversationId::parse("c_upset").expect("id"))
        .await
        .expect("events");
    let why = &events
        .iter()
        .find(|e| e.kind == "assigned")
        .expect("assigned event")
        .data["why"];
    assert_eq!(why["relaxed"], "levels -1");
    assert_eq!(why["levels"]["people"], 4);
    assert_eq!(why["levels_in_force"]["people"], 3);
}

async fn assignment_respects_capacity_limits_and_priority(s: Arc<dyn Store>) {
    let ben = s
        .create_agent(agent("ben@x.org", 1, &[]))
        .await
        .expect("ben");
    let cleo = s
        .create_agent(agent("cleo@x.org", 5, &["complaint"]))
        .await
        .expect("cleo");
    for (id, reasons) in [
        ("c_low", vec![Reason::LowConfidence]),
        ("c_complaint", vec![Reason::Complaint]),
        ("c_human", vec![Reason::HumanRequested]),
    ] {
        let mut c = new_conversation(id);
        c.change = Some(handoff(reasons));
        s.create_conversation(c).await.expect("create");
    }
    assert!(s
        .assign_queued(&Rules::default(), now_ms())
        .await
        .expect("nobody online")
        .is_empty());
    s.set_presence(ben.id, Presence::Online)
        .await
        .expect("online");
    s.set_presence(cleo.id, Presence::Online)
        .await
        .expect("online");
    let assigned = s
        .assign_queued(&Rules::default(), now_ms())
        .await
        .expect("assign");
    // The complaint has the highest priority; Cleo rules complaints out, so Ben (capacity 1) takes it.
    let by_id = |id: &str| {
        assigned
            .iter()
            .find(|a| a.conversation.id.as_str() == id)
            .map(|a| a.conversation.assignee.clone())
    };
    assert_eq!(by_id("c_complaint").flatten().map(|a| a.id), Some(ben.id));
    assert_eq!(by_id("c_human").flatten().map(|a| a.id), Some(cleo.id));
    assert_eq!(by_id("c_low").flatten().map(|a| a.id), Some(cleo.id));
    assert_eq!(s.assigned_to(ben.id).await.expect("ben's").len(), 1);
    // Nothing is assigned twice.
    assert!(s
        .assign_queued(&Rules::default(), now_ms())
        .await
        .expect("again")
        .is_empty());
    assert!(s.queue().await.expect("queue").is_empty());
}

async fn sessions_expire(s: Arc<dyn Store>) {
    let a = s
        .create_agent(agent("s@x.org", 1, &[]))
        .await
        .expect("agent");
    let session = Session {
        token_hash: "t1".into(),
        agent: a.id,
        kind: SessionKind::Console,
        csrf: Some("c".into()),
        expires_at_ms: 2_000,
    };
    s.create_session(session).await.expect("create");
    assert!(s.session("t1", 1_000).await.expect("read").is_some());
    assert!(s.session("t1", 3_000).await.expect("read").is_none());
    s.delete_session("t1").await.expect("delete");
    assert!(s.session("t1", 1_000).await.expect("read").is_none());
}

/// A new password ends every session of that agent, and only theirs.
async fn a_new_password_ends_the_agents_sessions(s: Arc<dyn Store>) {
    let a = s
        .create_agent(agent("pw@x.de", 3, &[]))
        .await
        .expect("agent");
    let b = s
        .create_agent(agent("other@x.de", 3, &[]))
        .await
        .expect("agent");
    let far = now_ms() + 3_600_000;
    for (hash, who) in [("t-a1", a.id), ("t-a2", a.id), ("t-b", b.id)] {
        s.create_session(Session {
            token_hash: hash.into(),
            agent: who,
            kind: SessionKind::Api,
            csrf: None,
            expires_at_ms: far,
        })
        .await
        .expect("session");
    }
    s.set_password(a.id, "$argon2id$new".into())
        .await
        .expect("set");
    let now = now_ms();
    assert!(s.session("t-a1", now).await.expect("read").is_none());
    assert!(s.session("t-a2", now).await.expect("read").is_none());
    assert!(s.session("t-b", now).await.expect("read").is_some());
    let (_, hash) = s
        .agent_credentials("pw@x.de")
        .await
        .expect("read")
        .expect("agent");
    assert_eq!(hash, "$argon2id$new");
    let missing = s.set_password(desk::AgentId::new(9_999), "h".into()).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

/// A disabled agent cannot sign in or go online and loses their sessions; enabled again, they
/// can. An erased agent is forgotten but keeps their id.
async fn agents_are_disabled_enabled_and_erased(s: Arc<dyn Store>) {
    let a = s
        .create_agent(agent("off@x.de", 3, &[]))
        .await
        .expect("agent");
    s.set_presence(a.id, Presence::Online)
        .await
        .expect("online");
    s.create_session(Session {
        token_hash: "t-off".into(),
        agent: a.id,
        kind: SessionKind::Api,
        csrf: None,
        expires_at_ms: now_ms() + 3_600_000,
    })
    .await
    .expect("session");
    s.set_disabled(a.id, true).await.expect("disable");
    assert!(s
        .agent_credentials("off@x.de")
        .await
        .expect("read")
        .is_none());
    assert!(s.session("t-off", now_ms()).await.expect("read").is_none());
    let back = s.agent(a.id).await.expect("read").expect("agent");
    assert_eq!(back.presence, Presence::Offline);
    assert!(s.set_presence(a.id, Presence::Online).await.is_err());
    assert_eq!(s.disabled_agents().await.expect("list"), vec![a.id]);

    s.set_disabled(a.id, false).await.expect("enable");
    assert!(s
        .agent_credentials("off@x.de")
        .await
        .expect("read")
        .is_some());
    s.set_presence(a.id, Presence::Online)
        .await
        .expect("online again");
    assert!(s.disabled_agents().await.expect("list").is_empty());

    s.erase_agent(a.id).await.expect("erase");
    let gone = s.agent(a.id).await.expect("read").expect("row kept");
    assert!(
        !gone.email.contains("off@x.de") && gone.name.contains("deleted"),
        "{gone:?}"
    );
    assert!(s
        .agent_credentials("off@x.de")
        .await
        .expect("read")
        .is_none());
    assert_eq!(s.disabled_agents().await.expect("list"), vec![a.id]);
    let missing = s.set_disabled(desk::AgentId::new(9_999), true).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

/// A customer's conversations are found by their e-mail, whatever its case.
async fn a_customers_conversations_are_found_by_email(s: Arc<dyn Store>) {
    for (id, email) in [
        ("c_k1", "Kim@Example.org"),
        ("c_k2", " kim@example.org"),
        ("c_x", "x@y.de"),
    ] {
        let mut c = new_conversation(id);
        c.customer = Customer {
            name: Some("Kim".into()),
            email: Some(email.into()),
        };
        s.create_conversation(c).await.expect("create");
    }
    let found = s
        .conversations_of_customer("KIM@example.org")
        .await
        .expect("find");
    let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["c_k1", "c_k2"]);
    assert!(s
        .conversations_of_customer("nobody@example.org")
        .await
        .expect("find")
        .is_empty());
}

/// Erasing a customer leaves their conversations without text, name, address or token, and
/// nobody else's changes.
async fn a_customer_is_erased(s: Arc<dyn Store>) {
    for (id, email, token) in [
        ("c_e1", "Eva@Example.org", "th-e1"),
        ("c_e2", "z@y.de", "th-e2"),
    ] {
        let mut c = new_conversation(id);
        c.token_hash = token.into();
        c.customer = Customer {
            name: Some("Eva".into()),
            email: Some(email.into()),
        };
        s.create_conversation(c).await.expect("create");
    }
    let erased = s
        .erase_customer("eva@example.org", "erased:test")
        .await
        .expect("erase");
    assert_eq!(erased, 1);
    let id = ConversationId::parse("c_e1").expect("id");
    let c = s.conversation(&id).await.expect("read").expect("kept");
    assert_eq!((c.customer.name, c.customer.email), (None, None));
    assert_ne!(c.token_hash, "th-e1");
    assert!(s
        .messages(&id)
        .await
        .expect("read")
        .iter()
        .all(|m| m.text.is_empty()));
    assert!(s
        .conversations_of_customer("eva@example.org")
        .await
        .expect("find")
        .is_empty());
    let other = ConversationId::parse("c_e2").expect("id");
    assert!(s
        .messages(&other)
        .await
        .expect("read")
        .iter()
        .any(|m| !m.text.is_empty()));
}

/// Retention erases resolved conversations older than the cutoff, and only those.
async fn retention_erases_old_resolved_conversations(s: Arc<dyn Store>) {
    for id in ["c_r1", "c_r2"] {
        let mut c = new_conversation(id);
        c.token_hash = format!("th-{id}");
        c.customer = Customer {
            name: Some("Rita".into()),
            email: Some("rita@example.org".into()),
        };
        s.create_conversation(c).await.expect("create");
    }
    let resolved = ConversationId::parse("c_r1").expect("id");
    s.append(
        &resolved,
        &[ConversationState::Bot],
        vec![],
        Some(Change::Resolve { by: None }),
    )
    .await
    .expect("resolve");
    // Nothing resolved before a cutoff long ago.
    assert_eq!(s.erase_resolved_before(1_000).await.expect("retention"), 0);
    assert_eq!(
        s.erase_resolved_before(now_ms() + 1_000)
            .await
            .expect("retention"),
        1
    );
    let gone = s
        .conversation(&resolved)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(gone.customer.email, None);
    assert!(s
        .messages(&resolved)
        .await
        .expect("read")
        .iter()
        .all(|m| m.text.is_empty()));
    let open = ConversationId::parse("c_r2").expect("id");
    let kept = s.conversation(&open).await.expect("read").expect("kept");
    assert_eq!(kept.customer.email.as_deref(), Some("rita@example.org"));
    // Erased once is enough.
    assert_eq!(
        s.erase_resolved_before(now_ms() + 1_000)
            .await
            .expect("retention"),
        0
    );
}

/// The audit log keeps what it is given and reads it back newest first, by range and actor.
async fn the_audit_log_appends_and_reads_back(s: Arc<dyn Store>) {
    let entry = |at_ms, actor: Option<i64>, action: &str| store::AuditEntry {
        at_ms,
        actor: actor.map(AgentId::new),
        action: action.into(),
        target: "agent:2".into(),
        address: Some("203.0.113.9".into()),
    };
    for e in [
        entry(1_000, Some(1), "agent_created"),
        entry(2_000, None, "login_failed"),
        entry(3_000, Some(1), "agent_disabled"),
    ] {
        s.audit(e).await.expect("append");
    }
    let all = s.audit_log(0, 10_000, None, 100).await.expect("read");
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["agent_disabled", "login_failed", "agent_created"]);
    assert_eq!(all[1], entry(2_000, None, "login_failed"));
    let mine = s
        .audit_log(0, 10_000, Some(AgentId::new(1)), 100)
        .await
        .expect("read");
    assert_eq!(mine.len(), 2);
    let window = s.audit_log(1_500, 3_000, None, 100).await.expect("read");
    assert_eq!(window.len(), 1);
    assert_eq!(
        s.audit_log(0, 10_000, None, 1).await.expect("read").len(),
        1
    );
}

async fn rate_counters_count_per_key_and_window(s: Arc<dyn Store>) {
    for expected in 1..=3 {
        assert_eq!(
            s.count_hit("login:1.2.3.4", 60_000).await.expect("hit"),
            expected
        );
    }
    assert_eq!(s.count_hit("login:5.6.7.8", 60_000).await.expect("hit"), 1);
    // Looking does not count.
    assert_eq!(s.hits("login:1.2.3.4", 60_000).await.expect("hits"), 3);
    assert_eq!(s.hits("login:1.2.3.4", 60_000).await.expect("hits"), 3);
    assert_eq!(s.hits("login:9.9.9.9", 60_000).await.expect("hits"), 0);
}

async fn notices_name_the_messages_of_a_write(s: Arc<dyn Store>) {
    let created = s
        .create_conversation(new_conversation("c_n"))
        .await
        .expect("create");
    let ids: Vec<_> = created.messages.iter().map(|m| m.id).collect();
    let again = s
        .messages_by_ids(&created.conversation.id, &ids[1..])
        .await
        .expect("by ids");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].text, "Hallo! Wie kann ich helfen?");
    let none = s
        .messages_by_ids(&ConversationId::parse("c_other").expect("id"), &ids)
        .await
        .expect("other conversation");
    assert!(none.is_empty());
}

/// Many routers at once (as after concurrent handoffs): each conversation once, no agent over
/// capacity.
async fn concurrent_routing_assigns_each_conversation_once(stores: Vec<Arc<dyn Store>>) {
    let s = &stores[0];
    let mut agents = Vec::new();
    for i in 0..3 {
        let a = s
            .create_agent(agent(&format!("r{i}@x.org"), 2, &[]))
            .await
            .expect("agent");
        s.set_presence(a.id, Presence::Online)
            .await
            .expect("online");
        agents.push(a.id);
    }
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = stores[i % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut c = new_conversation(&format!("c_r{i}"));
            c.change = Some(handoff(vec![Reason::HumanRequested]));
            s.create_conversation(c).await.expect("create");
            s.assign_queued(&Rules::default(), now_ms())
                .await
                .expect("route")
        }));
    }
    let mut assigned = Vec::new();
    for t in tasks {
        assigned.extend(t.await.expect("task"));
    }
    let mut ids: Vec<String> = assigned
        .iter()
        .map(|a| a.conversation.id.as_str().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        assigned.len(),
        "a conversation was assigned twice"
    );
    assert_eq!(assigned.len(), 6, "three agents with capacity 2");
    for a in agents {
        assert_eq!(s.assigned_to(a).await.expect("load").len(), 2);
    }
    assert_eq!(s.queue().await.expect("queue").len(), 14);
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

fn article(id: &str, title: &str, published: bool) -> store::NewArticle {
    store::NewArticle {
        id: desk::ArticleId::parse(id).expect("article id"),
        locale: Some(de()),
        title: title.into(),
        body: "Text".into(),
        category: Some("Service".into()),
        published,
    }
}

async fn articles_import_keeps_the_published_flag(s: Arc<dyn Store>) {
    s.import_articles(vec![article("a", "A", true), article("b", "B", true)])
        .await
        .expect("import");
    assert_eq!(s.articles(true).await.expect("list").len(), 2);
    let mut hidden = article("b", "B", false);
    hidden.body = "Edited".into();
    s.save_article(hidden).await.expect("unpublish");
    s.save_article(article("draft", "Draft", false))
        .await
        .expect("draft");
    // A restart imports the playbook again: new text, but the admin's unpublish stays.
    s.import_articles(vec![article("a", "A2", true), article("b", "B2", true)])
        .await
        .expect("re-import");
    let public: Vec<String> = s
        .articles(true)
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.id.into_string())
        .collect();
    assert_eq!(public, vec!["a".to_string()]);
    assert_eq!(s.articles(false).await.expect("all").len(), 3);
    let b = s.article("b").await.expect("get").expect("exists");
    assert!(!b.published);
    assert_eq!(b.title, "B2");
    assert_eq!(s.article("a").await.expect("get").expect("a").title, "A2");
    assert!(s.article("nope").await.expect("get").is_none());
}

async fn comments_are_moderated(s: Arc<dyn Store>) {
    s.import_articles(vec![article("a", "A", true)])
        .await
        .expect("import");
    let c1 = s.add_comment("a", "Kim", "<b>hi</b>").await.expect("add");
    let c2 = s.add_comment("a", "Lu", "second").await.expect("add");
    assert_eq!(c1.status, store::CommentStatus::Pending);
    assert_eq!(c1.text, "<b>hi</b>");
    assert!(matches!(
        s.add_comment("missing", "Kim", "x").await,
        Err(StoreError::NotFound)
    ));
    let approved = s
        .set_comment_status(c1.id, store::CommentStatus::Approved)
        .await
        .expect("approve");
    assert_eq!(approved.status, store::CommentStatus::Approved);
    s.set_comment_status(c2.id, store::CommentStatus::Rejected)
        .await
        .expect("reject");
    assert!(matches!(
        s.set_comment_status(9999, store::CommentStatus::Approved)
            .await,
        Err(StoreError::NotFound)
    ));
    let public = s
        .comments(Some("a"), Some(store::CommentStatus::Approved))
        .await
        .expect("list");
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].id, c1.id);
    assert!(s
        .comments(None, Some(store::CommentStatus::Pending))
        .await
        .expect("pending")
        .is_empty());
    assert_eq!(s.comments(None, None).await.expect("all").len(), 2);
}

async fn votes_are_counted(s: Arc<dyn Store>) {
    s.import_articles(vec![article("a", "A", true)])
        .await
        .expect("import");
    for helpful in [true, true, false] {
        s.vote("a", helpful).await.expect("vote");
    }
    assert_eq!(
        s.helpfulness("a").await.expect("count"),
        store::Helpfulness { yes: 2, no: 1 }
    );
    assert_eq!(
        s.helpfulness("other").await.expect("count"),
        store::Helpfulness::default()
    );
    assert!(matches!(
        s.vote("missing", true).await,
        Err(StoreError::NotFound)
    ));
}

async fn captchas_are_used_once(s: Arc<dyn Store>) {
    let later = 4_000_000_000_000;
    assert!(s.use_captcha("k1", later).await.expect("first"));
    assert!(!s.use_captcha("k1", later).await.expect("replay"));
    assert!(s.use_captcha("k2", later).await.expect("other"));
    // Concurrent uses of one key: exactly one wins.
    let tries = (0..8).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.use_captcha("k3", later).await.expect("use") })
    });
    let mut wins = 0;
    for t in tries {
        if t.await.expect("join") {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

async fn settings_keep_the_first_value(s: Arc<dyn Store>) {
    assert_eq!(
        s.setting_or_init("captcha_secret", "one")
            .await
            .expect("init"),
        "one"
    );
    assert_eq!(
        s.setting_or_init("captcha_secret", "two")
            .await
            .expect("again"),
        "one"
    );
}

/// A known mix: two bot-only conversations, three handoffs for several reasons, ratings (one
/// changed), a returning customer (by e-mail, case-insensitive), one unrated, one resolved.
async fn summary_is_computed_from_the_log(s: Arc<dyn Store>) {
    let from = now_ms() - 1_000;
    let ben = s
        .create_agent(agent("ben@x.org", 1, &[]))
        .await
        .expect("ben");
    let cleo = s
        .create_agent(agent("cleo@x.org", 5, &["complaint"]))
        .await
        .expect("cleo");
    let with = |id: &str, email: Option<&str>, reasons: Option<Vec<Reason>>| {
        let mut c = new_conversation(id);
        c.customer.email = email.map(str::to_owned);
        c.change = reasons.map(handoff);
        c
    };
    for c in [
        with("m_bot_a", Some("a@x.org"), None),
        with(
            "m_complaint",
            Some("a@x.org"),
            Some(vec![Reason::Complaint]),
        ),
        with(
            "m_human_upset",
            None,
            Some(vec![Reason::HumanRequested, Reason::NegativeSentiment]),
        ),
        with(
            "m_human",
            Some("B@x.org"),
            Some(vec![Reason::HumanRequested]),
        ),
        with("m_bot_b", Some("b@x.org"), None),
    ] {
        s.create_conversation(c).await.expect("create");
    }
    for a in [ben.id, cleo.id] {
        s.set_presence(a, Presence::Online).await.expect("online");
    }
    let assigned = s
        .assign_queued(&Rules::default(), now_ms())
        .await
        .expect("assign");
    assert_eq!(assigned.len(), 3);
    let id = |s: &str| ConversationId::parse(s).expect("id");
    s.append(
        &id("m_complaint"),
        &[ConversationState::Assigned],
        vec![NewMessage::agent(ben.id, "Das tut mir leid.")],
        None,
    )
    .await
    .expect("ben replies");
    s.append(
        &id("m_human_upset"),
        &[ConversationState::Assigned],
        vec![NewMessage::agent(cleo.id, "Ich bin da.")],
        None,
    )
    .await
    .expect("cleo replies");
    s.append(
        &id("m_complaint"),
        &[ConversationState::Assigned],
        vec![],
        Some(Change::Resolve { by: Some(ben.id) }),
    )
    .await
    .expect("resolve");
    s.rate(&id("m_complaint"), 5, None).await.expect("rate");
    s.rate(&id("m_complaint"), 2, Some("changed my mind".into()))
        .await
        .expect("rate again");
    s.rate(&id("m_human_upset"), 4, None).await.expect("rate");

    let got = s.summary(from, now_ms() + 60_000).await.expect("summary");
    assert_eq!(got.conversations, 5);
    assert_eq!(got.self_service_rate, 2.0 / 5.0);
    assert_eq!(got.handoff_rate, 3.0 / 5.0);
    let counts: Vec<(&str, u64)> = got
        .handoff_reasons
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("complaint", 1),
            ("human_requested", 2),
            ("negative_sentiment", 1)
        ]
    );
    assert_eq!(
        got.csat,
        store::Csat {
            average: Some(3.0),
            count: 2
        }
    );
    assert_eq!(got.contacts_per_customer, 5.0 / 3.0);
    let median = got.first_response_secs.median.expect("median");
    let p90 = got.first_response_secs.p90.expect("p90");
    assert!(median >= 0.0 && median <= p90, "{median} {p90}");
    let agents: Vec<(i64, u64, u64, store::Csat)> = got
        .agents
        .iter()
        .map(|a| (a.id, a.load, a.handled, a.csat))
        .collect();
    let csat = |average: f64| store::Csat {
        average: Some(average),
        count: 1,
    };
    assert_eq!(
        agents,
        vec![
            (ben.id.get(), 0, 1, csat(2.0)),
            (cleo.id.get(), 2, 2, csat(4.0))
        ]
    );
    let reasons_csat: Vec<(&str, store::Csat)> = got
        .reasons_csat
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        reasons_csat,
        vec![
            ("complaint", csat(2.0)),
            ("human_requested", csat(4.0)),
            ("negative_sentiment", csat(4.0))
        ]
    );

    // A range before any of it is empty, without dividing by zero.
    let empty = s.summary(0, from).await.expect("empty");
    assert_eq!(empty.conversations, 0);
    assert_eq!(empty.self_service_rate, 0.0);
    assert_eq!(empty.first_response_secs.median, None);
    assert_eq!(empty.csat.count, 0);
    assert_eq!(empty.agents.len(), 2);
}

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// A first-response time (s) as the rollups keep it: rounded down to the second below an hour,
/// to the minute below a day, to the hour beyond.
fn bucketed(secs: Option<f64>) -> Option<f64> {
    secs.map(|s| {
        let ms = (s * 1000.0).round() as i64;
        let b = if ms < HOUR {
            ms - ms % 1000
        } else if ms < DAY {
            ms - ms % MIN
        } else {
            ms - ms % HOUR
        };
        b as f64 / 1000.0
    })
}

/// The rollup-based summary says what a recount from the log says (first responses at the
/// rollups' resolution).
fn assert_same(got: &store::Summary, exact: &store::Summary, what: &str) {
    let mut want = exact.clone();
    want.first_response_secs.median = bucketed(exact.first_response_secs.median);
    want.first_response_secs.p90 = bucketed(exact.first_response_secs.p90);
    assert_eq!(got, &want, "{what}");
}

/// A tiny deterministic generator (no test depends on chance).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Three days of a mixed desk written through the store at controlled times: returning
/// customers (by e-mail in several spellings, and without), handoffs for several reasons,
/// assignments, late and very late first responses, transfers, handbacks, reassignments,
/// ratings changed, reopened conversations, customers writing again on later days. Every
/// summary read from the rollups must equal a recount from the log, for whole and partial days
/// and hours and for short ranges; and a rebuild (the migration's backfill) must give the same
/// rollup rows as the write-by-write maintenance.
async fn rollups_match_a_recount_over_any_range(s: Arc<dyn Store>, clock: TestClock) {
    let day0 = 20_000 * DAY;
    let t0 = day0 + 21 * HOUR + 17 * MIN + 3_417;
    clock.set(t0);
    let rules = Rules::default();
    let mut agents = Vec::new();
    for email in ["ann@x.org", "ben@x.org", "cleo@x.org"] {
        let a = s.create_agent(agent(email, 40, &[])).await.expect("agent");
        s.set_presence(a.id, Presence::Online)
            .await
            .expect("online");
        agents.push(a.id);
    }
    let emails = [
        Some("a@x.org"),
        Some(" A@X.org "),
        Some("b@x.org"),
        None,
        Some(""),
        Some("c@x.org"),
        Some("d@x.org"),
    ];
    let reason_sets = [
        vec![],
        vec![Reason::HumanRequested],
        vec![Reason::Complaint, Reason::NegativeSentiment],
        vec![],
        vec![Reason::LowConfidence],
        vec![Reason::SensitiveTopic, Reason::HumanRequested],
    ];
    let mut rng = Lcg(7);
    let mut ids: Vec<ConversationId> = Vec::new();
    for i in 0..90u64 {
        clock.advance(23 * MIN + rng.next(40) as i64 * MIN + rng.next(60_000) as i64);
        let mut c = new_conversation(&format!("r_{i}"));
        c.customer.email = emails[rng.next(emails.len() as u64) as usize].map(str::to_owned);
        let reasons = &reason_sets[rng.next(reason_sets.len() as u64) as usize];
        if !reasons.is_empty() {
            c.change = Some(handoff(reasons.clone()));
        }
        ids.push(
            s.create_conversation(c)
                .await
                .expect("create")
                .conversation
                .id,
        );
        // Something happens to two older conversations.
        for _ in 0..2 {
            let id = ids[rng.next(ids.len() as u64) as usize].clone();
            clock.advance(rng.next(5 * MIN as u64) as i64 + 1);
            let conv = s.conversation(&id).await.expect("read").expect("exists");
            let again = || {
                vec![
                    NewMessage::customer("Noch eine Frage"),
                    NewMessage::bot("Gern!", Action::Answer),
                ]
            };
            match (conv.state, rng.next(4)) {
                (ConversationState::Bot, 0) => {
                    s.append(
                        &id,
                        &[ConversationState::Bot],
                        vec![NewMessage::customer("Bitte einen Menschen")],
                        Some(handoff(vec![Reason::HumanRequested, Reason::Complaint])),
                    )
                    .await
                    .expect("handoff later");
                }
                (ConversationState::Bot | ConversationState::Queued, _) => {
                    s.append(&id, &[], again(), None)
                        .await
                        .expect("writes again");
                }
                (ConversationState::Assigned, step) => {
                    let Some(me) = conv.assignee.as_ref().map(|a| a.id) else {
                        continue;
                    };
                    match step {
                        0 => {
                            let to = agents[(agents.iter().position(|a| *a == me).unwrap_or(0)
                                + 1)
                                % agents.len()];
                            s.transfer(&id, me, TransferTo::Agent(to), clock.now())
                                .await
                                .expect("transfer");
                        }
                        1 if rng.next(3) == 0 => {
                            s.append(
                                &id,
                                &[ConversationState::Assigned],
                                vec![],
                                Some(Change::Handback { by: me }),
                            )
                            .await
                            .expect("handback");
                        }
                        1 => {
                            s.append(
                                &id,
                                &[ConversationState::Assigned],
                                vec![],
                                Some(Change::Resolve { by: Some(me) }),
                            )
                            .await
                            .expect("resolve");
                        }
                        _ => {
                            s.append(
                                &id,
                                &[ConversationState::Assigned],
                                vec![NewMessage::agent(me, "Ich kümmere mich.")],
                                None,
                            )
                            .await
                            .expect("agent replies");
                        }
                    }
                }
                (ConversationState::Resolved, 0) => {
                    s.append(
                        &id,
                        &[ConversationState::Resolved],
                        again(),
                        Some(Change::Reopen),
                    )
                    .await
                    .expect("reopen");
                }
                (ConversationState::Resolved, _) => {
                    s.rate(&id, 1 + rng.next(5) as u8, None)
                        .await
                        .expect("rate");
                }
            }
        }
        if i % 3 == 2 {
            s.assign_queued(&rules, clock.now()).await.expect("assign");
        }
        if i % 7 == 6 {
            s.reassign_unanswered(&rules, clock.now(), 40 * MIN)
                .await
                .expect("reassign");
        }
    }
    // A node whose clock lags: writes stamped hours before the latest ones, by a returning
    // customer and in a conversation that already has later messages.
    let late = clock.now();
    clock.set(late - 5 * HOUR - 7 * MIN);
    let mut c = new_conversation("r_lagging");
    c.customer.email = Some("B@x.org".into());
    s.create_conversation(c).await.expect("create");
    let last = ids[ids.len() - 1].clone();
    s.append(&last, &[], vec![NewMessage::customer("Hallo?")], None)
        .await
        .expect("late message");
    clock.set(late);
    let t1 = clock.advance(MIN);
    let mut ranges = vec![
        (t0 - 2 * HOUR, t1 + HOUR),
        (day0, day0 + DAY),
        (day0 + DAY, day0 + 3 * DAY),
        (day0 + 22 * HOUR, day0 + DAY + 5 * HOUR),
        (
            day0 + 23 * HOUR + 13 * MIN + 7,
            day0 + 2 * DAY + 3 * HOUR + 59 * MIN,
        ),
        (t0 + 10 * MIN, t0 + 80 * MIN),
        (t0 + 3 * HOUR + 1, t0 + 3 * HOUR + 40 * MIN),
        (0, t1 + DAY),
    ];
    for len in [
        10 * MIN,
        90 * MIN,
        5 * HOUR + 7,
        30 * HOUR + 11 * MIN,
        60 * HOUR,
    ] {
        for _ in 0..4 {
            let from = t0 - HOUR + rng.next((t1 - t0) as u64) as i64;
            ranges.push((from, from + len));
        }
    }
    let mut busy = 0;
    for &(from, to) in &ranges {
        let got = s.summary(from, to).await.expect("summary");
        let exact = s.summary_exact(from, to).await.expect("exact");
        assert_same(&got, &exact, &format!("[{from}, {to})"));
        busy += usize::from(got.conversations > 5 && got.csat.count > 0);
    }
    let whole = s.summary(t0 - 2 * HOUR, t1 + HOUR).await.expect("all");
    assert_eq!(whole.conversations, 91, "{whole:?}");
    assert!(
        whole.handoff_rate > 0.2 && whole.csat.count > 3,
        "{whole:?}"
    );
    assert!(whole.contacts_per_customer > 1.0, "{whole:?}");
    assert!(
        whole.first_response_secs.p90.is_some_and(|p| p > 3600.0),
        "{whole:?}"
    );
    assert!(busy > 10, "the ranges should hold something");

    // The migration's backfill gives the rows kept write by write, and the same answers.
    let kept = s.rollup_rows().await.expect("rows");
    assert!(kept.len() > 100, "{}", kept.len());
    s.rebuild_rollups().await.expect("rebuild");
    assert_eq!(s.rollup_rows().await.expect("rows"), kept);
    for &(from, to) in &ranges {
        let got = s.summary(from, to).await.expect("summary");
        let exact = s.summary_exact(from, to).await.expect("exact");
        assert_same(&got, &exact, &format!("after rebuild [{from}, {to})"));
    }
}

/// A known sequence: three handoffs, an assignment an hour later, another handoff, a
/// resolution that frees the agent for the next one. The queue length at the end of each hour
/// (and at the end of the range, in the middle of an hour) is what happened.
async fn queue_length_follows_the_queue(s: Arc<dyn Store>, clock: TestClock) {
    let h0 = 20_100 * DAY + 5 * HOUR;
    let id = |s: &str| ConversationId::parse(s).expect("id");
    let rules = Rules::default();
    clock.set(h0 + 10 * MIN);
    for c in ["q_1", "q_2", "q_3"] {
        let mut c = new_conversation(c);
        c.change = Some(handoff(vec![Reason::HumanRequested]));
        s.create_conversation(c).await.expect("create");
    }
    let ann = s
        .create_agent(agent("ann@x.org", 1, &[]))
        .await
        .expect("ann");
    clock.set(h0 + 70 * MIN);
    s.set_presence(ann.id, Presence::Online)
        .await
        .expect("online");
    assert_eq!(
        s.assign_queued(&rules, clock.now())
            .await
            .expect("assign")
            .len(),
        1
    );
    clock.set(h0 + 150 * MIN);
    let mut c = new_conversation("q_4");
    c.change = Some(handoff(vec![Reason::Complaint]));
    s.create_conversation(c).await.expect("create");
    clock.set(h0 + 190 * MIN);
    s.append(
        &id("q_1"),
        &[ConversationState::Assigned],
        vec![],
        Some(Change::Resolve { by: Some(ann.id) }),
    )
    .await
    .expect("resolve");
    assert_eq!(
        s.assign_queued(&rules, clock.now())
            .await
            .expect("assign")
            .len(),
        1
    );
    clock.set(h0 + 5 * HOUR);

    let series = |sum: &store::Summary| -> Vec<(i64, u64)> {
        sum.queue_length
            .iter()
            .map(|p| ((p.at_ms - h0) / MIN, p.length))
            .collect()
    };
    for pass in ["kept", "rebuilt"] {
        let got = s
            .summary(h0, h0 + 4 * HOUR + 20 * MIN)
            .await
            .expect("summary");
        assert_eq!(
            series(&got),
            vec![(60, 3), (120, 2), (180, 3), (240, 2), (260, 2)],
            "{pass}"
        );
        // The end of the range in the middle of an hour counts what happened in it.
        let got = s.summary(h0, h0 + 160 * MIN).await.expect("summary");
        assert_eq!(series(&got), vec![(60, 3), (120, 2), (160, 3)], "{pass}");
        // Never after now.
        let got = s
            .summary(h0 + 3 * HOUR, h0 + 9 * HOUR)
            .await
            .expect("summary");
        assert_eq!(series(&got), vec![(240, 2), (300, 2)], "{pass}");
        // Days for long ranges: the end of each day.
        let got = s
            .summary(h0 - 10 * DAY, h0 + 5 * HOUR)
            .await
            .expect("summary");
        assert_eq!(got.queue_length.len(), 11, "{pass}");
        assert!(
            got.queue_length[..10].iter().all(|p| p.length == 0),
            "{pass}"
        );
        assert_eq!(got.queue_length[10].length, 2, "{pass}");
        s.rebuild_rollups().await.expect("rebuild");
    }
}

/// Many writes at once (on PostgreSQL through two nodes): every rollup change lands, none is
/// lost or counted twice, and nothing deadlocks.
async fn concurrent_writes_keep_the_rollups_exact(stores: Vec<Arc<dyn Store>>) {
    // Whole hours around now: the rollups, not the log, answer for the current hour.
    let from = now_ms() - 3 * HOUR;
    let a = stores[0]
        .create_agent(agent("ann@x.org", 100, &[]))
        .await
        .expect("ann");
    stores[0]
        .set_presence(a.id, Presence::Online)
        .await
        .expect("online");
    let mut tasks = Vec::new();
    for t in 0..8usize {
        let s = stores[t % stores.len()].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                let mut c = new_conversation(&format!("cc_{t}_{i}"));
                c.customer.email = Some(format!("k{}@x.org", i % 3));
                if i % 2 == 0 {
                    c.change = Some(handoff(vec![Reason::HumanRequested]));
                }
                let id = s
                    .create_conversation(c)
                    .await
                    .expect("create")
                    .conversation
                    .id;
                s.append(&id, &[], vec![NewMessage::customer("Und?")], None)
                    .await
                    .expect("again");
                s.assign_queued(&Rules::default(), now_ms())
                    .await
                    .expect("assign");
                s.rate(&id, 1 + (i % 5) as u8, None).await.expect("rate");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let s = &stores[0];
    let to = now_ms() + 3 * HOUR;
    let mut got = s.summary(from, to).await.expect("summary");
    let mut exact = s.summary_exact(from, to).await.expect("exact");
    assert_eq!(got.conversations, 80);
    // The queue series ends at now, which moved between the two.
    got.queue_length.clear();
    exact.queue_length.clear();
    assert_same(&got, &exact, "all");
    let kept = s.rollup_rows().await.expect("rows");
    s.rebuild_rollups().await.expect("rebuild");
    assert_eq!(s.rollup_rows().await.expect("rows"), kept);
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
    summary_is_computed_from_the_log;
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
