//! The desk's domain: what a conversation is, how it moves between states, when the machine
//! hands it to a person and which person gets it. Pure logic: no IO, no HTTP, no storage.

pub mod agent;
pub mod conversation;
pub mod email;
pub mod handoff;
pub mod mask;
pub mod password;
pub mod replies;
pub mod routing;
pub mod text;
pub mod verdict;
pub mod words;

pub use agent::{Agent, AgentId, Competences, Presence, Role};
pub use conversation::{
    Author, Channel, ConversationId, ConversationState, MailState, MessageId, Transition,
};
pub use email::Email;
pub use handoff::{Decision, Guess, Needs, Staffed};
pub use verdict::{Action, Candidate, Reason, Triage, UnknownReason};
pub use words::{ArticleId, Locale, Skill};
