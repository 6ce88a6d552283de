//! Routing, simple version: a handed-off conversation goes to an online agent with free
//! capacity who has not ruled out any of its needs; among those, the best fit, then the least
//! loaded. Competence-based scoring (issue "routing by competence") slots into [`fit`].

use crate::agent::{Agent, AgentId, Presence};
use crate::handoff::Needs;

/// An agent as the router sees them: profile plus current load.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub agent: Agent,
    /// Conversations currently assigned to the agent.
    pub load: u32,
}

/// A queued conversation waiting for a person.
#[derive(Debug, Clone)]
pub struct Waiting<K> {
    pub key: K,
    pub needs: Needs,
}

/// Whether the agent may take a conversation with these needs at all. Limits are never relaxed.
pub fn eligible(c: &Candidate, needs: &Needs) -> bool {
    c.agent.presence == Presence::Online
        && c.load < c.agent.capacity
        && !needs.reasons.iter().any(|r| c.agent.rules_out(r.as_str()))
        && !needs.skills.iter().any(|s| c.agent.rules_out(s))
}

/// How well the agent fits the needs: matching locale and skills count.
pub fn fit(agent: &Agent, needs: &Needs) -> u32 {
    let locale = agent.locales.iter().any(|l| l == &needs.locale) as u32 * 2;
    let skills = needs
        .skills
        .iter()
        .filter(|s| agent.skills.contains(s))
        .count() as u32;
    locale + skills
}

/// Picks the agent for one conversation.
pub fn pick(needs: &Needs, candidates: &[Candidate]) -> Option<AgentId> {
    candidates
        .iter()
        .filter(|c| eligible(c, needs))
        .max_by(|a, b| {
            let load = |c: &Candidate| c.load as f64 / c.agent.capacity.max(1) as f64;
            fit(&a.agent, needs)
                .cmp(&fit(&b.agent, needs))
                .then(load(b).total_cmp(&load(a)))
                .then(b.agent.id.cmp(&a.agent.id))
        })
        .map(|c| c.agent.id)
}

/// Plans assignments for a queue (already ordered by priority, then age): each conversation in
/// turn gets the best eligible agent, whose load then grows. Pure: the store applies the plan
/// atomically.
pub fn plan<K: Clone>(queue: &[Waiting<K>], candidates: &mut [Candidate]) -> Vec<(K, AgentId)> {
    let mut out = Vec::new();
    for waiting in queue {
        if let Some(id) = pick(&waiting.needs, candidates) {
            if let Some(c) = candidates.iter_mut().find(|c| c.agent.id == id) {
                c.load += 1;
            }
            out.push((waiting.key.clone(), id));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Competences, Role};
    use nlu::Reason;

    fn agent(id: i64, presence: Presence, capacity: u32, limits: &[&str]) -> Agent {
        Agent {
            id: AgentId(id),
            name: format!("a{id}"),
            email: format!("a{id}@x"),
            role: Role::Agent,
            locales: vec!["de".into()],
            skills: vec![],
            competences: Competences::default(),
            limits: limits.iter().map(|s| s.to_string()).collect(),
            capacity,
            presence,
        }
    }

    fn needs(reasons: Vec<Reason>) -> Needs {
        Needs {
            reasons,
            skills: vec![],
            locale: "de".into(),
            priority: 0,
        }
    }

    #[test]
    fn least_loaded_online_agent_wins() {
        let c = vec![
            Candidate {
                agent: agent(1, Presence::Online, 2, &[]),
                load: 1,
            },
            Candidate {
                agent: agent(2, Presence::Online, 2, &[]),
                load: 0,
            },
            Candidate {
                agent: agent(3, Presence::Away, 2, &[]),
                load: 0,
            },
        ];
        assert_eq!(pick(&needs(vec![]), &c), Some(AgentId(2)));
    }

    #[test]
    fn limits_and_capacity_are_never_relaxed() {
        let c = vec![
            Candidate {
                agent: agent(1, Presence::Online, 1, &[]),
                load: 1,
            },
            Candidate {
                agent: agent(2, Presence::Online, 3, &["complaint"]),
                load: 0,
            },
        ];
        assert_eq!(pick(&needs(vec![Reason::Complaint]), &c), None);
    }

    #[test]
    fn plan_spreads_a_queue_and_respects_capacity() {
        let mut c = vec![
            Candidate {
                agent: agent(1, Presence::Online, 1, &[]),
                load: 0,
            },
            Candidate {
                agent: agent(2, Presence::Online, 1, &[]),
                load: 0,
            },
        ];
        let queue: Vec<_> = (0..3)
            .map(|k| Waiting {
                key: k,
                needs: needs(vec![]),
            })
            .collect();
        let plan = plan(&queue, &mut c);
        assert_eq!(plan.len(), 2);
        assert_ne!(plan[0].1, plan[1].1);
    }
}
