use super::*;
use crate::agent::{Competences, Role};

fn agent(id: i64, presence: Presence, capacity: u32, limits: &[&str]) -> Agent {
    Agent {
        id: AgentId(id),
        name: format!("a{id}"),
        email: format!("a{id}@x"),
        role: Role::Agent,
        locales: vec![Locale::trusted("de".into())],
        skills: vec![],
        competences: Competences::default(),
        limits: limits.iter().map(|s| s.to_string()).collect(),
        capacity,
        presence,
    }
}

fn cand(agent: Agent, load: u32) -> Candidate {
    Candidate {
        agent,
        load,
        idle_since_ms: 0,
    }
}

fn needs(reasons: Vec<Reason>) -> Needs {
    let rules = Rules::default();
    let (levels, skills) = rules.needs_of(&reasons, &[]);
    Needs {
        priority: crate::handoff::priority(&reasons),
        reasons,
        skills,
        locale: Locale::trusted("de".into()),
        levels,
        guesses: vec![],
    }
}

fn waiting(needs: Needs, queued_at_ms: i64) -> Waiting<u32> {
    Waiting {
        key: 0,
        needs,
        queued_at_ms,
    }
}

fn pick(n: Needs, c: &[Candidate], now: i64) -> Option<AgentId> {
    decide(&waiting(n, 0), c, &Rules::default(), now).map(|(i, _)| c[i].agent.id)
}

fn with_comp(mut a: Agent, people: u8, situational: u8) -> Agent {
    a.competences = Competences {
        self_: 3,
        people,
        situational,
    };
    a
}

#[test]
fn reasons_become_levels_and_skills() {
    let r = Rules::default();
    let (l, s) = r.needs_of(&[Reason::Complaint, Reason::NegativeSentiment], &[]);
    assert_eq!((l.people, l.situational), (4, 4));
    assert!(s.is_empty());
    let solar = ["solar".to_string()];
    let (l, s) = r.needs_of(&[Reason::ComplexSales, Reason::IntentRequiresHuman], &solar);
    assert_eq!(l.situational, 4);
    assert_eq!(s, vec!["sales".to_string(), "solar".to_string()]);
    // The intent's skills only when the intent is why a person must take it.
    assert_eq!(
        r.needs_of(&[Reason::Complaint], &solar).1,
        Vec::<String>::new()
    );
    let (l, s) = r.needs_of(&[Reason::HumanRequested], &[]);
    assert!(l.is_empty() && s.is_empty());
}

#[test]
fn playbook_overrides_replace_defaults() {
    let p = playbook::Playbook::parse(
        "[desk]\nname = \"x\"\n[routing]\nrelax = [{ after_secs = 10, any = true }]\n[routing.needs.human_requested]\npeople = 2\nskills = [\"vip\"]\n",
    )
    .expect("playbook");
    let r = Rules::from_playbook(&p);
    let (l, s) = r.needs_of(&[Reason::HumanRequested], &[]);
    assert_eq!(l.people, 2);
    assert_eq!(s, vec!["vip".to_string()]);
    assert_eq!(r.relax.len(), 1);
    assert!(r.step(10_000).is_some_and(|s| s.any));
    // Reasons not overridden keep their defaults.
    assert_eq!(r.needs_of(&[Reason::Complaint], &[]).0.situational, 4);
}

#[test]
fn upset_customer_goes_to_the_highest_people_competence() {
    let c = vec![
        cand(with_comp(agent(1, Presence::Online, 2, &[]), 4, 3), 0),
        cand(with_comp(agent(2, Presence::Online, 2, &[]), 5, 1), 1),
        cand(with_comp(agent(3, Presence::Online, 2, &[]), 3, 5), 0),
    ];
    assert_eq!(
        pick(needs(vec![Reason::NegativeSentiment]), &c, 0),
        Some(AgentId(2))
    );
}

#[test]
fn least_load_then_longest_idle_break_ties() {
    let mut c = vec![
        cand(agent(1, Presence::Online, 2, &[]), 1),
        cand(agent(2, Presence::Online, 2, &[]), 0),
        cand(agent(3, Presence::Away, 2, &[]), 0),
        cand(agent(4, Presence::Online, 2, &[]), 0),
    ];
    c[1].idle_since_ms = 500;
    c[3].idle_since_ms = 100;
    assert_eq!(pick(needs(vec![]), &c, 0), Some(AgentId(4)));
}

#[test]
fn limits_capacity_and_locale_are_never_relaxed() {
    let mut en = agent(3, Presence::Online, 3, &[]);
    en.locales = vec![Locale::trusted("en".into())];
    let c = vec![
        cand(agent(1, Presence::Online, 1, &[]), 1),
        cand(agent(2, Presence::Online, 3, &["complaint"]), 0),
        cand(en, 0),
    ];
    // Not even after an hour.
    assert_eq!(pick(needs(vec![Reason::Complaint]), &c, 3_600_000), None);
}

#[test]
fn requirements_relax_over_time() {
    // Only a people-3 agent is online; the upset customer needs people ≥ 4.
    let c = vec![cand(with_comp(agent(1, Presence::Online, 2, &[]), 3, 3), 0)];
    let n = needs(vec![Reason::NegativeSentiment]);
    assert_eq!(pick(n.clone(), &c, 59_999), None);
    let (_, why) = decide(&waiting(n.clone(), 0), &c, &Rules::default(), 60_000)
        .expect("levels -1 after 60 s");
    assert_eq!(why.relaxed.as_deref(), Some("levels -1"));
    assert_eq!(why.levels_in_force.people, 3);
    // A people-2 agent only after 180 s, when any fit agent will do.
    let c = vec![cand(with_comp(agent(1, Presence::Online, 2, &[]), 2, 3), 0)];
    assert_eq!(pick(n.clone(), &c, 179_000), None);
    assert_eq!(pick(n, &c, 180_000), Some(AgentId(1)));
    // A wait that relaxed nothing is not called a relaxation.
    let (_, why) =
        decide(&waiting(needs(vec![]), 0), &c, &Rules::default(), 200_000).expect("anyone");
    assert_eq!(why.relaxed, None);
    // Skills too become preferences then.
    let mut s = needs(vec![Reason::ComplexSales]);
    s.skills = vec![Skill::trusted("sales".into())];
    assert_eq!(pick(s.clone(), &c, 179_000), None);
    assert_eq!(pick(s, &c, 180_000), Some(AgentId(1)));
}

#[test]
fn skills_decide_a_quote() {
    let mut sales = with_comp(agent(1, Presence::Online, 2, &[]), 3, 4);
    sales.skills = vec![
        Skill::trusted("sales".into()),
        Skill::trusted("solar".into()),
    ];
    let mut other = with_comp(agent(2, Presence::Online, 2, &[]), 5, 5);
    other.skills = vec![Skill::trusted("sales".into())];
    let c = vec![cand(other, 0), cand(sales, 1)];
    let mut n = needs(vec![Reason::ComplexSales]);
    n.skills.push(Skill::trusted("solar".into()));
    let (i, why) = decide(&waiting(n, 0), &c, &Rules::default(), 0).expect("fit agent");
    assert_eq!(c[i].agent.id, AgentId(1));
    assert_eq!(
        why.others[0].lost,
        Lost::Skill {
            skill: Skill::trusted("solar".into())
        }
    );
    assert!(
        why.line("en").contains("a2 lacks skill solar"),
        "{}",
        why.line("en")
    );
    assert!(why.line("de").contains("a2 ohne Skill solar"));
}

#[test]
fn plan_spreads_a_queue_and_respects_capacity() {
    let mut c = vec![
        cand(agent(1, Presence::Online, 1, &[]), 0),
        cand(agent(2, Presence::Online, 1, &[]), 0),
    ];
    let queue: Vec<_> = (0..3)
        .map(|k| Waiting {
            key: k,
            needs: needs(vec![]),
            queued_at_ms: 0,
        })
        .collect();
    let plan = plan(&queue, &mut c, &Rules::default(), 0);
    assert_eq!(plan.len(), 2);
    assert_ne!(plan[0].agent, plan[1].agent);
}

#[test]
fn old_stored_needs_without_levels_still_read() {
    let n: Needs =
        serde_json::from_str(r#"{"reasons":["complaint"],"skills":[],"locale":"de","priority":2}"#)
            .expect("old needs");
    assert!(n.levels.is_empty());
}
