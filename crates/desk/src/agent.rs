//! Agents: the people of the desk, with their role, presence, competences, skills and limits.

use std::str::FromStr as _;

use serde::{Deserialize, Serialize};

use crate::conversation::string_enum;
use crate::words::{Locale, Skill};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentId(pub(crate) i64);

impl AgentId {
    /// Wraps an agent id that came from the store or a URL (parsed at the edge).
    pub const fn new(id: i64) -> Self {
        AgentId(id)
    }

    /// The number the store keeps and the wire shows.
    pub const fn get(self) -> i64 {
        self.0
    }
}

string_enum!(Role { Agent = "agent", Admin = "admin" });
string_enum!(Presence { Online = "online", Away = "away", Offline = "offline" });

/// The three competences of the essay, each 1–5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competences {
    #[serde(rename = "self")]
    pub self_: u8,
    pub people: u8,
    pub situational: u8,
}

impl Default for Competences {
    fn default() -> Self {
        Self {
            self_: 3,
            people: 3,
            situational: 3,
        }
    }
}

impl Competences {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("self", self.self_),
            ("people", self.people),
            ("situational", self.situational),
        ] {
            if !(1..=5).contains(&v) {
                return Err(format!("competence {name} must be 1–5, got {v}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub locales: Vec<Locale>,
    pub skills: Vec<Skill>,
    pub competences: Competences,
    /// Skills or handoff reasons the agent rules out for themselves. Never relaxed.
    pub limits: Vec<String>,
    pub capacity: u32,
    pub presence: Presence,
}

impl Agent {
    /// Whether the agent has ruled out `what` (a skill or a reason) for themselves.
    pub fn rules_out(&self, what: &str) -> bool {
        self.limits.iter().any(|l| l == what)
    }
}

/// Parses a comma-separated list from a form field, dropping blanks.
pub fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Role {
    pub fn parse_form(s: &str) -> Option<Self> {
        Self::from_str(s).ok()
    }
}
