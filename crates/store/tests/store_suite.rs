//! One storage suite, written against the `Store` trait so every backend runs the same tests.
//! Today it runs on SQLite; each backend added later gets its own `#[tokio::test]` runner.

use std::sync::Arc;

use desk::{
    AgentId, Competences, ConversationId, ConversationState, Needs, Presence, Reason, Role,
};
use nlu::Action;
use store::sqlite::SqliteStore;
use store::{
    Change, Customer, NewAgent, NewConversation, NewMessage, Session, SessionKind, Store,
    StoreError,
};

fn agent(email: &str, capacity: u32, limits: &[&str]) -> NewAgent {
    NewAgent {
        name: email.split('@').next().unwrap_or("x").into(),
        email: email.into(),
        password_hash: "$argon2id$test".into(),
        role: Role::Agent,
        locales: vec!["de".into()],
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
        locale: "de".into(),
        customer: Customer {
            name: Some("Kim".into()),
            email: None,
        },
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
        locale: "de".into(),
    })
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
    assert!(s.agent(AgentId(999)).await.expect("lookup").is_none());
    assert!(matches!(
        s.set_presence(AgentId(999), Presence::Online).await,
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
    assert!(s.assign_queued().await.expect("nobody online").is_empty());
    s.set_presence(ben.id, Presence::Online)
        .await
        .expect("online");
    s.set_presence(cleo.id, Presence::Online)
        .await
        .expect("online");
    let assigned = s.assign_queued().await.expect("assign");
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
    assert!(s.assign_queued().await.expect("again").is_empty());
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

fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("suite.db")).expect("open");
    (Arc::new(store), dir)
}

macro_rules! on_sqlite {
    ($($name:ident),+) => {
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    let (store, _dir) = super::sqlite();
                    super::$name(store).await;
                }
            )+
        }
    };
}

on_sqlite!(
    agents_are_unique_by_email,
    conversations_keep_messages_in_order_and_check_state,
    assignment_respects_capacity_limits_and_priority,
    sessions_expire
);

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
