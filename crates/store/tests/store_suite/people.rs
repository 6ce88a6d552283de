//! Agents, sessions and passwords; customers' rights (lookup, erasure, retention); the audit log; rate counters.

use super::*;

pub(super) async fn agents_are_unique_by_email(s: Arc<dyn Store>) {
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

pub(super) async fn sessions_expire(s: Arc<dyn Store>) {
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
pub(super) async fn a_new_password_ends_the_agents_sessions(s: Arc<dyn Store>) {
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
pub(super) async fn agents_are_disabled_enabled_and_erased(s: Arc<dyn Store>) {
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
pub(super) async fn a_customers_conversations_are_found_by_email(s: Arc<dyn Store>) {
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
pub(super) async fn a_customer_is_erased(s: Arc<dyn Store>) {
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
pub(super) async fn retention_erases_old_resolved_conversations(s: Arc<dyn Store>) {
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
pub(super) async fn the_audit_log_appends_and_reads_back(s: Arc<dyn Store>) {
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

pub(super) async fn rate_counters_count_per_key_and_window(s: Arc<dyn Store>) {
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
