//! Routing by competence: a handoff's reasons become needs (competence levels, skills, locale),
//! and each queued conversation goes to the online agent with free capacity who meets them and
//! fits best. Requirements relax in steps as the wait grows; limits and locale never relax.
//! Every decision carries its explanation ([`Why`]). Pure: time comes in as `now_ms`, and the
//! store applies a [`plan`] atomically.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agent::{Agent, AgentId, Competences, Presence};
use crate::handoff::Needs;
use crate::verdict::Reason;
use crate::words::{Locale, Skill};

/// Minimum competence levels a conversation needs; 0 means no requirement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Levels {
    #[serde(rename = "self", default)]
    pub self_: u8,
    #[serde(default)]
    pub people: u8,
    #[serde(default)]
    pub situational: u8,
}

impl Levels {
    /// The stricter of both, level by level.
    pub fn max(self, o: Levels) -> Levels {
        Levels {
            self_: self.self_.max(o.self_),
            people: self.people.max(o.people),
            situational: self.situational.max(o.situational),
        }
    }

    /// Every required level lowered by `by` (a requirement never drops below level 1).
    pub fn lowered(self, by: u8) -> Levels {
        let low = |v: u8| {
            if v == 0 {
                0
            } else {
                v.saturating_sub(by).max(1)
            }
        };
        Levels {
            self_: low(self.self_),
            people: low(self.people),
            situational: low(self.situational),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Levels::default()
    }

    /// The competences with a requirement, as (name, required, what the agent has).
    fn pairs(self, c: &Competences) -> [(&'static str, u8, u8); 3] {
        [
            ("people", self.people, c.people),
            ("situational", self.situational, c.situational),
            ("self", self.self_, c.self_),
        ]
    }
}

/// What one reason needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReasonNeeds {
    pub levels: Levels,
    pub skills: Vec<Skill>,
}

/// One relaxation step (see `playbook::RelaxStep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelaxStep {
    pub after_ms: i64,
    /// How far competence levels drop.
    pub lower_levels: u8,
    /// Any agent who speaks the locale and has not ruled the conversation out will do: levels
    /// and skills become preferences.
    pub any: bool,
}

/// The desk's routing rules: reason → needs, and the relaxation steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub needs: BTreeMap<Reason, ReasonNeeds>,
    /// Ordered by waiting time.
    pub relax: Vec<RelaxStep>,
}

impl Default for Rules {
    /// The defaults of the "routing by competence" table: levels −1 after 60 s, any fit agent
    /// after 180 s.
    fn default() -> Self {
        let lv = |people, situational| Levels {
            self_: 0,
            people,
            situational,
        };
        let mut needs = BTreeMap::new();
        let mut put = |r, levels, skills: &[&str]| {
            needs.insert(
                r,
                ReasonNeeds {
                    levels,
                    skills: skills
                        .iter()
                        .map(|s| Skill::trusted(s.to_string()))
                        .collect(),
                },
            );
        };
        put(Reason::NegativeSentiment, lv(4, 0), &[]);
        put(Reason::Complaint, lv(3, 4), &[]);
        put(Reason::ComplexSales, lv(0, 4), &["sales"]);
        put(Reason::SensitiveTopic, lv(0, 4), &[]);
        put(Reason::RepeatedFailure, lv(3, 0), &[]);
        // intent_requires_human: the intent's skills (added by the handoff policy);
        // human_requested, low_confidence: anyone who speaks the locale.
        Rules {
            needs,
            relax: vec![
                RelaxStep {
                    after_ms: 60_000,
                    lower_levels: 1,
                    any: false,
                },
                RelaxStep {
                    after_ms: 180_000,
                    lower_levels: 0,
                    any: true,
                },
            ],
        }
    }
}

impl Rules {
    /// The defaults with the playbook's `[routing]` overrides applied. The playbook has
    /// validated the section, so unknown reasons cannot occur (they would be ignored).
    pub fn from_playbook(playbook: &playbook::Playbook) -> Rules {
        let mut rules = Rules::default();
        let Some(section) = &playbook.routing else {
            return rules;
        };
        for (name, n) in &section.needs {
            let Some(reason) = Reason::ALL.iter().find(|r| r.as_str() == name) else {
                continue;
            };
            rules.needs.insert(
                *reason,
                ReasonNeeds {
                    levels: Levels {
                        self_: n.self_.unwrap_or(0),
                        people: n.people.unwrap_or(0),
                        situational: n.situational.unwrap_or(0),
                    },
                    skills: n.skills.iter().cloned().map(Skill::trusted).collect(),
                },
            );
        }
        if let Some(steps) = &section.relax {
            rules.relax = steps
                .iter()
                .map(|s| RelaxStep {
                    after_ms: i64::try_from(s.after_secs.saturating_mul(1000)).unwrap_or(i64::MAX),
                    lower_levels: s.levels.unsigned_abs(),
                    any: s.any,
                })
                .collect();
        }
        rules
    }

    /// The levels and skills these reasons need. The intent's skills count when the intent is
    /// why a person must take it (`intent_requires_human`); a complaint that merely mentions
    /// a metering question does not need a metering expert.
    pub fn needs_of(&self, reasons: &[Reason], intent_skills: &[String]) -> (Levels, Vec<Skill>) {
        let mut levels = Levels::default();
        let mut skills: Vec<Skill> = if reasons.contains(&Reason::IntentRequiresHuman) {
            intent_skills.iter().cloned().map(Skill::trusted).collect()
        } else {
            Vec::new()
        };
        for r in reasons {
            if let Some(n) = self.needs.get(r) {
                levels = levels.max(n.levels);
                skills.extend(n.skills.iter().cloned());
            }
        }
        skills.sort();
        skills.dedup();
        (levels, skills)
    }

    /// The relaxation step in force after waiting `waited_ms`, if any.
    pub fn step(&self, waited_ms: i64) -> Option<&RelaxStep> {
        self.relax.iter().rev().find(|s| waited_ms >= s.after_ms)
    }
}

/// An agent as the router sees them: profile plus current load.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub agent: Agent,
    /// Conversations currently assigned to the agent.
    pub load: u32,
    /// When the agent last got or finished a conversation (ms); lower means idle longer.
    pub idle_since_ms: i64,
}

/// A queued conversation waiting for a person.
#[derive(Debug, Clone)]
pub struct Waiting<K> {
    pub key: K,
    pub needs: Needs,
    pub queued_at_ms: i64,
}

/// The requirements in force for one conversation at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub levels: Levels,
    /// Whether skills are required (else they are a preference).
    pub skills_required: bool,
    pub step: Option<RelaxStep>,
}

impl Effective {
    pub fn of(needs: &Needs, rules: &Rules, waited_ms: i64) -> Effective {
        match rules.step(waited_ms) {
            Some(s) if s.any => Effective {
                levels: Levels::default(),
                skills_required: false,
                step: Some(*s),
            },
            Some(s) => Effective {
                levels: needs.levels.lowered(s.lower_levels),
                skills_required: true,
                step: Some(*s),
            },
            None => Effective {
                levels: needs.levels,
                skills_required: true,
                step: None,
            },
        }
    }
}

/// Why an agent could not take a conversation, or lost to the chosen one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "lost", rename_all = "snake_case")]
pub enum Lost {
    NotOnline,
    AtCapacity,
    /// The agent ruled this reason or skill out.
    RulesOut {
        what: String,
    },
    Locale {
        locale: Locale,
    },
    Skill {
        skill: Skill,
    },
    Level {
        competence: String,
        has: u8,
        needs: u8,
    },
    /// Fit, but a lower relevant competence (or fewer matching skills).
    LowerFit,
    MoreLoad,
    LessIdle,
}

/// Checks the hard requirements; `None` means the agent may take the conversation.
pub fn unfit(c: &Candidate, needs: &Needs, eff: &Effective) -> Option<Lost> {
    let a = &c.agent;
    if a.presence != Presence::Online {
        return Some(Lost::NotOnline);
    }
    if c.load >= a.capacity {
        return Some(Lost::AtCapacity);
    }
    // Limits never relax.
    if let Some(r) = needs.reasons.iter().find(|r| a.rules_out(r.as_str())) {
        return Some(Lost::RulesOut {
            what: r.as_str().to_owned(),
        });
    }
    if let Some(s) = needs.skills.iter().find(|s| a.rules_out(s)) {
        return Some(Lost::RulesOut {
            what: s.to_string(),
        });
    }
    // Neither does the locale.
    if !needs.locale.is_empty() && !a.locales.iter().any(|l| l == &needs.locale) {
        return Some(Lost::Locale {
            locale: needs.locale.clone(),
        });
    }
    if eff.skills_required {
        if let Some(s) = needs.skills.iter().find(|s| !a.skills.contains(s)) {
            return Some(Lost::Skill { skill: s.clone() });
        }
    }
    for (name, needed, has) in eff.levels.pairs(&a.competences) {
        if has < needed {
            return Some(Lost::Level {
                competence: name.to_owned(),
                has,
                needs: needed,
            });
        }
    }
    None
}

/// The ranking of a fit agent, best first when compared descending: matching skills, the sum of
/// the competences the needs name, then free capacity (least load), then the longest idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    skills: u32,
    competence: u32,
    /// Free share of capacity, in thousandths (higher = less loaded).
    free: u32,
    /// Negated idle-since: higher = idle longer.
    idle: i64,
    /// Negated id: a stable tie-break.
    id: i64,
}

fn rank(c: &Candidate, needs: &Needs) -> Rank {
    let a = &c.agent;
    let skills = needs.skills.iter().filter(|s| a.skills.contains(s)).count() as u32;
    let competence = needs
        .levels
        .pairs(&a.competences)
        .iter()
        .filter(|(_, needed, _)| *needed > 0)
        .map(|(_, _, has)| u32::from(*has))
        .sum();
    let cap = u64::from(a.capacity.max(1));
    let free = (cap.saturating_sub(u64::from(c.load)) * 1000 / cap) as u32;
    Rank {
        skills,
        competence,
        free,
        idle: -c.idle_since_ms,
        id: -a.id.0,
    }
}

fn lost_to(winner: Rank, other: Rank) -> Lost {
    if (other.skills, other.competence) != (winner.skills, winner.competence) {
        Lost::LowerFit
    } else if other.free != winner.free {
        Lost::MoreLoad
    } else {
        Lost::LessIdle
    }
}

/// One agent who did not get the conversation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Other {
    pub agent: AgentId,
    pub name: String,
    #[serde(flatten)]
    pub lost: Lost,
}

/// How many of the agents who did not get a conversation its explanation names.
pub const OTHERS_SHOWN: usize = 6;

/// Why a conversation went where it did: stored with the `assigned` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Why {
    pub reasons: Vec<Reason>,
    /// The needs as they were handed off.
    pub levels: Levels,
    pub skills: Vec<Skill>,
    pub locale: Locale,
    /// The levels in force when it was assigned (after relaxation).
    pub levels_in_force: Levels,
    pub skills_required: bool,
    pub waited_secs: i64,
    /// The relaxation step in force, as "levels -N" or "any".
    pub relaxed: Option<String>,
    pub agent: AgentId,
    pub agent_name: String,
    /// Agents looked at, and how many of them were fit.
    pub considered: u32,
    pub fit: u32,
    /// The best runners-up first, then agents who could not take it.
    pub others: Vec<Other>,
}

impl Why {
    /// The explanation in one line, for the console ("de" or "en").
    pub fn line(&self, locale: &str) -> String {
        let de = locale == "de";
        let mut needs: Vec<String> = Vec::new();
        for (name, v) in [
            ("people", self.levels.people),
            ("situational", self.levels.situational),
            ("self", self.levels.self_),
        ] {
            if v > 0 {
                needs.push(format!("{} ≥ {v}", competence_word(name, de)));
            }
        }
        needs.extend(self.skills.iter().map(Skill::to_string));
        needs.push(self.locale.to_string());
        let reasons: Vec<&str> = self.reasons.iter().map(|r| r.as_str()).collect();
        let mut line = format!(
            "{}: {} → {}",
            if de { "Warum" } else { "Why" },
            if reasons.is_empty() {
                "-".to_owned()
            } else {
                reasons.join(", ")
            },
            needs.join(", ")
        );
        if let Some(r) = &self.relaxed {
            line.push_str(&if de {
                format!(" (gelockert nach {} s: {r})", self.waited_secs)
            } else {
                format!(" (relaxed after {} s: {r})", self.waited_secs)
            });
        }
        line.push_str(&if de {
            format!(
                " · {} passt am besten ({} von {} Personen passten)",
                self.agent_name, self.fit, self.considered
            )
        } else {
            format!(
                " · {} fits best ({} of {} people fit)",
                self.agent_name, self.fit, self.considered
            )
        });
        for o in &self.others {
            line.push_str(" · ");
            line.push_str(&o.name);
            line.push(' ');
            line.push_str(&lost_words(&o.lost, de));
        }
        line
    }
}

fn competence_word(name: &str, de: bool) -> &str {
    match (name, de) {
        ("people", true) => "Menschen",
        ("situational", true) => "Situativ",
        ("self", true) => "Selbst",
        (n, _) => n,
    }
}

fn lost_words(l: &Lost, de: bool) -> String {
    match (l, de) {
        (Lost::NotOnline, true) => "nicht online".into(),
        (Lost::NotOnline, false) => "not online".into(),
        (Lost::AtCapacity, true) => "ausgelastet".into(),
        (Lost::AtCapacity, false) => "at capacity".into(),
        (Lost::RulesOut { what }, true) => format!("schließt {what} aus"),
        (Lost::RulesOut { what }, false) => format!("rules out {what}"),
        (Lost::Locale { locale }, true) => format!("spricht kein {locale}"),
        (Lost::Locale { locale }, false) => format!("does not speak {locale}"),
        (Lost::Skill { skill }, true) => format!("ohne Skill {skill}"),
        (Lost::Skill { skill }, false) => format!("lacks skill {skill}"),
        (
            Lost::Level {
                competence,
                has,
                needs,
            },
            de,
        ) => format!("{} {has} < {needs}", competence_word(competence, de)),
        (Lost::LowerFit, true) => "passt weniger gut".into(),
        (Lost::LowerFit, false) => "fits less well".into(),
        (Lost::MoreLoad, true) => "hat mehr zu tun".into(),
        (Lost::MoreLoad, false) => "has more load".into(),
        (Lost::LessIdle, true) => "war kürzer frei".into(),
        (Lost::LessIdle, false) => "was idle less long".into(),
    }
}

/// Picks the agent for one conversation at `now_ms`: the index into `candidates`, with the
/// explanation. `None` when nobody fit is free; the conversation keeps waiting.
pub fn decide(
    waiting: &Waiting<impl Sized>,
    candidates: &[Candidate],
    rules: &Rules,
    now_ms: i64,
) -> Option<(usize, Why)> {
    let needs = &waiting.needs;
    let waited_ms = now_ms.saturating_sub(waiting.queued_at_ms).max(0);
    let eff = Effective::of(needs, rules, waited_ms);
    let mut best: Option<(usize, Rank)> = None;
    let mut fit = 0u32;
    for (i, c) in candidates.iter().enumerate() {
        if unfit(c, needs, &eff).is_some() {
            continue;
        }
        fit += 1;
        let r = rank(c, needs);
        if best.is_none_or(|(_, b)| r > b) {
            best = Some((i, r));
        }
    }
    let (winner, winner_rank) = best?;
    // The explanation: the best runners-up, then those who could not take it.
    let mut runners: Vec<(Rank, usize)> = Vec::new();
    let mut unfit_shown: Vec<Other> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        if i == winner {
            continue;
        }
        match unfit(c, needs, &eff) {
            None => {
                runners.push((rank(c, needs), i));
            }
            Some(lost) if unfit_shown.len() < OTHERS_SHOWN && lost != Lost::NotOnline => {
                unfit_shown.push(Other {
                    agent: c.agent.id,
                    name: c.agent.name.clone(),
                    lost,
                })
            }
            Some(_) => {}
        }
    }
    runners.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
    let mut others: Vec<Other> = runners
        .iter()
        .take(OTHERS_SHOWN / 2)
        .map(|(r, i)| Other {
            agent: candidates[*i].agent.id,
            name: candidates[*i].agent.name.clone(),
            lost: lost_to(winner_rank, *r),
        })
        .collect();
    let room = OTHERS_SHOWN.saturating_sub(others.len());
    others.extend(unfit_shown.into_iter().take(room));
    let chosen = &candidates[winner].agent;
    let why = Why {
        reasons: needs.reasons.clone(),
        levels: needs.levels,
        skills: needs.skills.clone(),
        locale: needs.locale.clone(),
        levels_in_force: eff.levels,
        skills_required: eff.skills_required,
        waited_secs: waited_ms / 1000,
        // Named only when the step changed what was required.
        relaxed: eff
            .step
            .filter(|_| {
                eff.levels != needs.levels || (!eff.skills_required && !needs.skills.is_empty())
            })
            .map(|s| {
                if s.any {
                    "any".to_owned()
                } else {
                    format!("levels -{}", s.lower_levels)
                }
            }),
        agent: chosen.id,
        agent_name: chosen.name.clone(),
        considered: candidates.len() as u32,
        fit,
        others,
    };
    Some((winner, why))
}

/// One planned assignment.
#[derive(Debug, Clone)]
pub struct Assignment<K> {
    pub key: K,
    pub agent: AgentId,
    pub why: Why,
}

/// Plans assignments for a queue (already ordered by priority, then age): each conversation in
/// turn gets the best fit agent, whose load then grows and whose idle time restarts. Pure: the
/// store applies the plan atomically.
pub fn plan<K: Clone>(
    queue: &[Waiting<K>],
    candidates: &mut [Candidate],
    rules: &Rules,
    now_ms: i64,
) -> Vec<Assignment<K>> {
    let mut out = Vec::new();
    for waiting in queue {
        // Nobody has room left: the rest of the queue keeps waiting.
        if !candidates
            .iter()
            .any(|c| c.agent.presence == Presence::Online && c.load < c.agent.capacity)
        {
            break;
        }
        if let Some((i, why)) = decide(waiting, candidates, rules, now_ms) {
            let c = &mut candidates[i];
            c.load += 1;
            c.idle_since_ms = now_ms;
            out.push(Assignment {
                key: waiting.key.clone(),
                agent: c.agent.id,
                why,
            });
        }
    }
    out
}

/// Picks another agent for a conversation its assignee `from` did not answer in time: the same
/// rules, with `from` left out. The candidates' loads follow the move.
pub fn reassign<K>(
    waiting: &Waiting<K>,
    candidates: &mut [Candidate],
    from: AgentId,
    rules: &Rules,
    now_ms: i64,
) -> Option<(AgentId, Why)> {
    let others: Vec<Candidate> = candidates
        .iter()
        .filter(|c| c.agent.id != from)
        .cloned()
        .collect();
    let (i, why) = decide(waiting, &others, rules, now_ms)?;
    let to = others[i].agent.id;
    for c in candidates.iter_mut() {
        if c.agent.id == to {
            c.load += 1;
            c.idle_since_ms = now_ms;
        } else if c.agent.id == from {
            c.load = c.load.saturating_sub(1);
        }
    }
    Some((to, why))
}

/// Whether the agent could ever take a conversation with these needs while online, however long
/// it waits: only what never relaxes counts (limits, locale), not load.
pub fn could_take(agent: &Agent, needs: &Needs) -> bool {
    let c = Candidate {
        agent: Agent {
            presence: Presence::Online,
            ..agent.clone()
        },
        load: 0,
        idle_since_ms: 0,
    };
    let most_relaxed = Effective {
        levels: Levels::default(),
        skills_required: false,
        step: None,
    };
    agent.capacity > 0 && unfit(&c, needs, &most_relaxed).is_none()
}

/// How long a conversation at `position` (1-based) in the queue can expect to wait: the
/// conversations ahead are shared among the free places of the fit people online, each taking
/// about `avg_handle_secs`. An estimate for the customer, not a promise.
pub fn expected_wait_secs(position: usize, online_capacity: u32, avg_handle_secs: u32) -> u64 {
    let lanes = u64::from(online_capacity.max(1));
    (position as u64).div_ceil(lanes) * u64::from(avg_handle_secs)
}

#[cfg(test)]
mod tests;
