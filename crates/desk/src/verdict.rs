//! The machine's verdict on one message: what to do with it ([`Action`]), why a person should
//! take over ([`Reason`]), and the whole decision ([`Triage`]) with the machine's best guesses.
//! The machine tier (`nlu`) produces these; the desk decides with them and the store keeps
//! them. They are the desk's words, so they live here and not in the machine-learning crate.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Answer,
    Clarify,
    Handoff,
}

/// Why a person should take over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    HumanRequested,
    LowConfidence,
    NegativeSentiment,
    /// Conversation level: produced by the desk, never by single-message triage.
    RepeatedFailure,
    Complaint,
    ComplexSales,
    SensitiveTopic,
    IntentRequiresHuman,
}

impl Reason {
    pub const ALL: [Reason; 8] = [
        Reason::HumanRequested,
        Reason::LowConfidence,
        Reason::NegativeSentiment,
        Reason::RepeatedFailure,
        Reason::Complaint,
        Reason::ComplexSales,
        Reason::SensitiveTopic,
        Reason::IntentRequiresHuman,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::HumanRequested => "human_requested",
            Reason::LowConfidence => "low_confidence",
            Reason::NegativeSentiment => "negative_sentiment",
            Reason::RepeatedFailure => "repeated_failure",
            Reason::Complaint => "complaint",
            Reason::ComplexSales => "complex_sales",
            Reason::SensitiveTopic => "sensitive_topic",
            Reason::IntentRequiresHuman => "intent_requires_human",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown handoff reason {0:?}")]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReason(s.to_string()))
    }
}

/// One triage decision (the `tandem triage --json` object).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Triage {
    pub text: String,
    /// The recognised intent (also on handoff and clarify when known).
    pub intent: Option<String>,
    /// Calibrated probability that answering with `intent` is right (0..1).
    pub confidence: f32,
    pub action: Action,
    /// Why a person should take over; empty unless `action` is `handoff`.
    pub reasons: Vec<Reason>,
    pub locale: String,
    /// The article the bot answers with when no intent fits but an article clearly does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    /// -1 (very negative) .. 1 (very positive).
    #[serde(default)]
    pub sentiment: f32,
    /// The machine's best guesses, best first (at most three intents), whatever the action: on
    /// `clarify` the first two are the choices put to the customer; on `handoff` they show the
    /// agent where the machine would have started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
}

/// One of the machine's best guesses for a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub intent: String,
    /// The calibrated confidence for the best-ranked class, scaled by the ranking score for the
    /// others (0..1).
    pub confidence: f32,
}
