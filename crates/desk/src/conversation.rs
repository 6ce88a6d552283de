//! Conversations: identifiers, states, message authors and the state machine.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A conversation's public identifier. Not a secret: the conversation token is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(String);

impl ConversationId {
    /// Wraps an identifier that came from the store or a URL. Ids are 1–64 chars of `[A-Za-z0-9_-]`.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub(crate) i64);

impl MessageId {
    /// Wraps a message id that came from the store or a request.
    pub const fn new(id: i64) -> Self {
        MessageId(id)
    }

    /// The number the store keeps and the wire shows.
    pub const fn get(self) -> i64 {
        self.0
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// Where a conversation stands.
    ConversationState { Bot = "bot", Queued = "queued", Assigned = "assigned", Resolved = "resolved" }
);

string_enum!(
    /// How the customer reaches the desk, and how replies reach the customer: in the chat (the
    /// widget or the API), or by e-mail (a mail that came in, the help center's contact form, or a
    /// chat the customer moved to e-mail).
    Channel { Chat = "chat", Email = "email" }
);

string_enum!(
    /// Where one outgoing mail stands: waiting in the outbox (also between retries), handed to
    /// the SMTP server, given up after the last try, or returned by the customer's mail server.
    MailState { Queued = "queued", Sending = "sending", Sent = "sent", Failed = "failed", Bounced = "bounced" }
);

string_enum!(
    /// Who wrote a message. A `note` is an agent's internal note: agents see it in the
    /// transcript, the customer never does.
    Author { Customer = "customer", Bot = "bot", Agent = "agent", System = "system", Note = "note" }
);

impl Author {
    /// Whether the customer may see a message of this author (everything but internal notes).
    pub fn customer_sees(self) -> bool {
        !matches!(self, Author::Note)
    }
}

/// What can happen to a conversation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The machine hands the conversation to people: it joins the queue.
    Handoff,
    /// The router gives a queued conversation to an agent.
    Assign,
    /// An agent gives the conversation back to the bot.
    Handback,
    /// An agent (or the customer) closes it.
    Resolve,
    /// The customer writes again after it was resolved.
    Reopen,
    /// The assignee went away; the conversation goes back to the queue.
    Requeue,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a conversation in state {from} cannot {transition:?}")]
pub struct InvalidTransition {
    pub from: ConversationState,
    pub transition: Transition,
}

impl ConversationState {
    /// The state machine: `bot → queued → assigned → resolved`, plus handback, reopen and requeue.
    pub fn apply(self, transition: Transition) -> Result<ConversationState, InvalidTransition> {
        use ConversationState::*;
        use Transition::*;
        let next = match (self, transition) {
            (Bot, Handoff) => Queued,
            (Queued, Assign) => Assigned,
            (Assigned, Handback) | (Queued, Handback) => Bot,
            (Bot | Queued | Assigned, Resolve) => Resolved,
            (Resolved, Reopen) => Bot,
            (Assigned, Requeue) => Queued,
            (from, transition) => return Err(InvalidTransition { from, transition }),
        };
        Ok(next)
    }

    /// Whether the bot answers customer messages in this state.
    pub fn bot_answers(self) -> bool {
        matches!(self, ConversationState::Bot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_and_handback() {
        let s = ConversationState::Bot;
        let s = s.apply(Transition::Handoff).expect("handoff");
        assert_eq!(s, ConversationState::Queued);
        let s = s.apply(Transition::Assign).expect("assign");
        assert_eq!(s, ConversationState::Assigned);
        assert_eq!(s.apply(Transition::Handback), Ok(ConversationState::Bot));
        assert_eq!(
            s.apply(Transition::Resolve),
            Ok(ConversationState::Resolved)
        );
        assert_eq!(
            ConversationState::Resolved.apply(Transition::Reopen),
            Ok(ConversationState::Bot)
        );
    }

    #[test]
    fn refuses_what_makes_no_sense() {
        assert!(ConversationState::Bot.apply(Transition::Assign).is_err());
        assert!(ConversationState::Resolved
            .apply(Transition::Handoff)
            .is_err());
        assert!(ConversationState::Assigned
            .apply(Transition::Handoff)
            .is_err());
        assert!(ConversationState::Resolved
            .apply(Transition::Resolve)
            .is_err());
    }

    #[test]
    fn ids_are_parsed_not_trusted() {
        assert!(ConversationId::parse("c_0123abcd").is_some());
        assert!(ConversationId::parse("").is_none());
        assert!(ConversationId::parse("../etc").is_none());
        assert!(ConversationId::parse(&"a".repeat(65)).is_none());
    }

    #[test]
    fn states_round_trip_as_text() {
        for s in ConversationState::ALL {
            assert_eq!(s.as_str().parse::<ConversationState>(), Ok(*s));
        }
        assert!("open".parse::<ConversationState>().is_err());
    }
}
