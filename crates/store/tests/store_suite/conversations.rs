//! Conversations and their messages, routing (priority, capacity, limits, relaxation, many routers at once), notices.

use super::*;

pub(super) async fn conversations_keep_messages_in_order_and_check_state(s: Arc<dyn Store>) {
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
pub(super) async fn relaxation_follows_the_time_passed_in(s: Arc<dyn Store>) {
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

pub(super) async fn assignment_respects_capacity_limits_and_priority(s: Arc<dyn Store>) {
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

pub(super) async fn notices_name_the_messages_of_a_write(s: Arc<dyn Store>) {
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
    // A batch of notices is read back in their order; a vanished conversation is left out.
    let second = s
        .create_conversation(new_conversation("c_n2"))
        .await
        .expect("create");
    let notices = [
        store::ChangeNotice::of(&second),
        store::ChangeNotice {
            conversation: ConversationId::parse("c_gone").expect("id"),
            messages: ids.clone(),
            state_changed: true,
        },
        store::ChangeNotice {
            messages: ids[..1].to_vec(),
            ..store::ChangeNotice::of(&created)
        },
    ];
    let changes = s.changes(&notices).await.expect("changes");
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].conversation.id, second.conversation.id);
    assert_eq!(changes[0].messages, second.messages);
    assert_eq!(changes[1].conversation.id, created.conversation.id);
    assert_eq!(changes[1].messages, created.messages[..1].to_vec());
}

/// Many routers at once (as after concurrent handoffs): each conversation once, no agent over
/// capacity.
pub(super) async fn concurrent_routing_assigns_each_conversation_once(stores: Vec<Arc<dyn Store>>) {
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

/// The common step (a customer message and the bot's answer, no state change: one round trip on
/// PostgreSQL) keeps order and checks; the handoff policy reads the latest messages alone.
pub(super) async fn the_common_step_appends_and_the_latest_messages_are_its_tail(
    s: Arc<dyn Store>,
) {
    let id = s
        .create_conversation(new_conversation("c_tail"))
        .await
        .expect("create")
        .conversation
        .id;
    for i in 0..3 {
        let step = s
            .append(
                &id,
                &[ConversationState::Bot],
                vec![
                    NewMessage::customer(format!("Frage {i}")),
                    NewMessage::bot(format!("Antwort {i}"), Action::Answer),
                ],
                None,
            )
            .await
            .expect("append");
        assert_eq!(step.messages.len(), 2);
        assert!(step.messages[0].id < step.messages[1].id);
        assert_eq!(step.messages[1].action, Some(Action::Answer));
        assert_eq!(step.conversation.state, ConversationState::Bot);
        assert!(!step.state_changed);
    }
    let all = s.messages(&id).await.expect("messages");
    assert_eq!(all.len(), 8);
    let tail = s.latest_messages(&id, 3).await.expect("latest");
    assert_eq!(
        tail.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["Antwort 1", "Frage 2", "Antwort 2"]
    );
    assert_eq!(s.latest_messages(&id, 100).await.expect("latest"), all);
    let missing = ConversationId::parse("c_nowhere").expect("id");
    let none = s
        .append(
            &missing,
            &[ConversationState::Bot],
            vec![NewMessage::customer("Hallo?")],
            None,
        )
        .await;
    assert!(matches!(none, Err(StoreError::NotFound)), "{none:?}");
    s.append(&id, &[], vec![], Some(Change::Resolve { by: None }))
        .await
        .expect("resolve");
    let late = s
        .append(
            &id,
            &[ConversationState::Bot],
            vec![NewMessage::customer("Noch da?")],
            None,
        )
        .await;
    assert!(
        matches!(late, Err(StoreError::WrongState { .. })),
        "{late:?}"
    );
    assert_eq!(
        s.messages(&id).await.expect("messages").len(),
        8,
        "nothing written"
    );
}
