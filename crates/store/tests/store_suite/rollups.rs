//! Analytics: the summary from the log, the rollups against a recount, the queue series, concurrent writers.

use super::*;

/// A known mix: two bot-only conversations, three handoffs for several reasons, ratings (one
/// changed), a returning customer (by e-mail, case-insensitive), one unrated, one resolved.
pub(super) async fn summary_is_computed_from_the_log(s: Arc<dyn Store>) {
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
pub(super) async fn rollups_match_a_recount_over_any_range(s: Arc<dyn Store>, clock: TestClock) {
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
pub(super) async fn queue_length_follows_the_queue(s: Arc<dyn Store>, clock: TestClock) {
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
pub(super) async fn concurrent_writes_keep_the_rollups_exact(stores: Vec<Arc<dyn Store>>) {
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
