//! What each write step does, computed once for both backends.
//!
//! A step (a state change, an assignment, a reassignment, a transfer, a rating) is planned here:
//! the state it moves to, the row update it needs, the events it logs (an [`EventKind`] with its
//! payload) and the system message it posts. Each backend then only runs its own SQL for the plan
//! (`sqlite/queries`, `postgres/queries`), so the two can no longer drift in what they log or
//! say. `desk::routing::plan` and the rollups' `Pending` work the same way.

use desk::routing::{Candidate, Waiting, Why};
use desk::{AgentId, ConversationState, Needs, Reason, Transition};
use serde_json::json;

use crate::{Change, Conversation, NewMessage, Result, StoreError};

/// What the events log records. The wire and the database keep the `as_str` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Handoff,
    Resolved,
    Handback,
    Reopened,
    /// Every state change, with `from` and `to`.
    State,
    Assigned,
    Reassigned,
    Transferred,
    Rating,
}

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::Created,
        EventKind::Handoff,
        EventKind::Resolved,
        EventKind::Handback,
        EventKind::Reopened,
        EventKind::State,
        EventKind::Assigned,
        EventKind::Reassigned,
        EventKind::Transferred,
        EventKind::Rating,
    ];

    /// The kind of a stored event's name (`None`: a kind this version does not know).
    pub fn parse(name: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// A person took the conversation over: assigned, reassigned or transferred to them.
    pub fn gives_a_handler(self) -> bool {
        matches!(
            self,
            EventKind::Assigned | EventKind::Reassigned | EventKind::Transferred
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Handoff => "handoff",
            EventKind::Resolved => "resolved",
            EventKind::Handback => "handback",
            EventKind::Reopened => "reopened",
            EventKind::State => "state",
            EventKind::Assigned => "assigned",
            EventKind::Reassigned => "reassigned",
            EventKind::Transferred => "transferred",
            EventKind::Rating => "rating",
        }
    }
}

/// One event to log, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub data: serde_json::Value,
}

impl NewEvent {
    fn new(kind: EventKind, data: serde_json::Value) -> Self {
        NewEvent { kind, data }
    }

    fn state(from: ConversationState, to: ConversationState) -> Self {
        Self::new(
            EventKind::State,
            json!({"from": from.as_str(), "to": to.as_str()}),
        )
    }
}

pub(crate) fn reasons_json(reasons: &[Reason]) -> serde_json::Value {
    serde_json::to_value(reasons).unwrap_or_default()
}

/// How the conversation row changes with a [`Change`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RowUpdate<'a> {
    /// Into the queue with these needs (and their priority), no assignee, queued now.
    Queue(&'a Needs),
    /// Only the state.
    State,
    /// The state, with the assignee and the needs cleared.
    Release,
}

/// A state change as both backends apply it.
#[derive(Debug, Clone)]
pub(crate) struct ChangePlan<'a> {
    pub to: ConversationState,
    /// The assignee (if any) has finished the conversation: their idle time starts now. Runs
    /// before the row update, while the row still names them.
    pub finishes: bool,
    pub row: RowUpdate<'a>,
    pub events: Vec<NewEvent>,
}

/// The state `transition` moves `from` to, or the refusal naming the state it `expected`.
fn moves(
    from: ConversationState,
    transition: Transition,
    expected: impl FnOnce() -> String,
) -> Result<ConversationState> {
    from.apply(transition).map_err(|_| StoreError::WrongState {
        expected: expected(),
        actual: from,
    })
}

/// Plans `change` from `from`; the caller has read the current state.
pub(crate) fn change(from: ConversationState, change: &Change) -> Result<ChangePlan<'_>> {
    let transition = change.transition();
    let to = moves(from, transition, || {
        format!("a state that allows {transition:?}")
    })?;
    let (finishes, row, event) = match change {
        Change::Handoff(needs) => (
            false,
            RowUpdate::Queue(needs),
            NewEvent::new(
                EventKind::Handoff,
                json!({"reasons": reasons_json(&needs.reasons), "skills": needs.skills, "locale": needs.locale}),
            ),
        ),
        Change::Resolve { by } => (
            true,
            RowUpdate::State,
            NewEvent::new(EventKind::Resolved, json!({"by": by.map(|a| a.get())})),
        ),
        Change::Handback { by } => (
            true,
            RowUpdate::Release,
            NewEvent::new(EventKind::Handback, json!({"by": by.get()})),
        ),
        Change::Reopen => (
            false,
            RowUpdate::Release,
            NewEvent::new(EventKind::Reopened, json!({})),
        ),
    };
    Ok(ChangePlan {
        to,
        finishes,
        row,
        events: vec![event, NewEvent::state(from, to)],
    })
}

/// Refuses a write to a conversation that is not in one of the `expect`ed states (none: any).
pub(crate) fn expect_state(expect: &[ConversationState], state: ConversationState) -> Result<()> {
    if expect.is_empty() || expect.contains(&state) {
        return Ok(());
    }
    Err(StoreError::WrongState {
        expected: expect
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        actual: state,
    })
}

/// Who writes in an append: an agent's message is the first response (the conversation is
/// `replied`), and either may move the rollups.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Writers {
    pub agent: bool,
    pub customer: bool,
}

impl Writers {
    pub fn of(new: &[NewMessage]) -> Self {
        Writers {
            agent: new.iter().any(|m| m.author == desk::Author::Agent),
            customer: new.iter().any(|m| m.author == desk::Author::Customer),
        }
    }
}

/// The event of a new conversation.
pub(crate) fn created(locale: &str) -> NewEvent {
    NewEvent::new(EventKind::Created, json!({"locale": locale}))
}

/// The event of a customer's rating.
pub(crate) fn rating(score: u8, comment: &Option<String>) -> NewEvent {
    NewEvent::new(
        EventKind::Rating,
        json!({"score": score, "comment": comment}),
    )
}

/// A step that gives a conversation to an agent, or moves it on.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub to: ConversationState,
    pub events: Vec<NewEvent>,
    pub message: NewMessage,
}

/// A queued conversation goes to `agent`, chosen by the router for `why`.
pub(crate) fn assign(conv: &Conversation, agent: AgentId, why: &Why) -> Result<Step> {
    let to = moves(conv.state, Transition::Assign, || "queued".into())?;
    Ok(Step {
        to,
        events: vec![
            NewEvent::new(
                EventKind::Assigned,
                json!({"agent": agent.get(), "why": why}),
            ),
            NewEvent::state(conv.state, to),
        ],
        message: NewMessage::system(desk::replies::assigned(&conv.locale, &why.agent_name)),
    })
}

/// An assigned conversation nobody answered moves from `from` (their name) to `to`.
pub(crate) fn reassign(conv: &Conversation, from: (AgentId, &str), to: AgentId, why: &Why) -> Step {
    Step {
        to: conv.state,
        events: vec![NewEvent::new(
            EventKind::Reassigned,
            json!({"from": from.0 .get(), "agent": to.get(), "cause": "no_first_response", "why": why}),
        )],
        message: NewMessage::system(desk::replies::moved(&conv.locale, from.1, &why.agent_name)),
    }
}

/// How the router sees a conversation that waits (or waited) in the queue.
pub(crate) fn waiting(conv: &Conversation) -> Waiting<()> {
    Waiting {
        key: (),
        needs: conv.handoff.clone().unwrap_or_default(),
        queued_at_ms: conv.queued_at_ms.unwrap_or(conv.updated_at_ms),
    }
}

/// The queue as the router plans it: each conversation keyed by its index in `queued`.
pub(crate) fn queue(queued: &[Conversation]) -> Vec<Waiting<usize>> {
    queued
        .iter()
        .enumerate()
        .map(|(key, conv)| {
            let w = waiting(conv);
            Waiting {
                key,
                needs: w.needs,
                queued_at_ms: w.queued_at_ms,
            }
        })
        .collect()
}

/// Checks that `by` may pass the conversation on: it is assigned to them. Returns their name.
pub(crate) fn transfer_from(conv: &Conversation, by: AgentId) -> Result<String> {
    if conv.state != ConversationState::Assigned {
        return Err(StoreError::WrongState {
            expected: "assigned".into(),
            actual: conv.state,
        });
    }
    match &conv.assignee {
        Some(a) if a.id == by => Ok(a.name.clone()),
        _ => Err(StoreError::Refused(
            "only the assigned agent can pass this conversation on".into(),
        )),
    }
}

/// Checks that the colleague can take the conversation now: online, with room, and not ruled
/// out by their limits or their languages. Returns their name.
pub(crate) fn transfer_target(
    candidates: &[Candidate],
    to: AgentId,
    by: AgentId,
    needs: &Needs,
) -> Result<String> {
    let conflict = |m: &str| Err(StoreError::Refused(m.to_owned()));
    if to == by {
        return conflict("the conversation is already yours");
    }
    let Some(target) = candidates.iter().find(|c| c.agent.id == to) else {
        return conflict("that colleague is not online");
    };
    if target.load >= target.agent.capacity {
        return conflict("that colleague has no free capacity");
    }
    if !desk::routing::could_take(&target.agent, needs) {
        return conflict(
            "that colleague has ruled this out or does not speak the customer's language",
        );
    }
    Ok(target.agent.name.clone())
}

/// `by` (named `from`) passes the conversation to the colleague `to` (named `target`).
pub(crate) fn transfer_to_agent(
    conv: &Conversation,
    from: &str,
    by: AgentId,
    to: AgentId,
    target: &str,
) -> Step {
    Step {
        to: conv.state,
        events: vec![NewEvent::new(
            EventKind::Transferred,
            json!({"by": by.get(), "to": to.get()}),
        )],
        message: NewMessage::system(desk::replies::transferred(&conv.locale, from, target)),
    }
}

/// `by` (named `from`) passes the conversation back to the queue: to whoever has `skill` (it
/// joins the needs), or, without one, to whoever fits the needs it had. Returns the step and the
/// new needs.
pub(crate) fn requeue(
    conv: &Conversation,
    from: &str,
    by: AgentId,
    skill: Option<&desk::Skill>,
) -> Result<(Step, Needs)> {
    let to = moves(conv.state, Transition::Requeue, || "assigned".into())?;
    let mut needs = conv.handoff.clone().unwrap_or_default();
    if let Some(skill) = skill {
        if !needs.skills.iter().any(|s| s == skill) {
            needs.skills.push(skill.clone());
        }
    }
    let (data, message) = match skill {
        Some(skill) => (
            json!({"by": by.get(), "skill": skill}),
            desk::replies::transferred_to_skill(&conv.locale, from, skill),
        ),
        None => (
            json!({"by": by.get()}),
            desk::replies::back_to_queue(&conv.locale, from),
        ),
    };
    let step = Step {
        to,
        events: vec![
            NewEvent::state(conv.state, to),
            NewEvent::new(EventKind::Transferred, data),
        ],
        message: NewMessage::system(message),
    };
    Ok((step, needs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_kind_reads_back_from_its_name() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("unknown"), None);
    }

    #[test]
    fn a_handoff_logs_its_reasons_then_the_state_change() {
        let needs = Needs {
            reasons: vec![Reason::Complaint],
            ..Needs::default()
        };
        let handoff = Change::Handoff(needs.clone());
        let plan = change(ConversationState::Bot, &handoff).expect("bot may hand off");
        assert_eq!(plan.to, ConversationState::Queued);
        assert_eq!(plan.row, RowUpdate::Queue(&needs));
        assert!(!plan.finishes);
        let kinds: Vec<_> = plan.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["handoff", "state"]);
        assert_eq!(plan.events[0].data["reasons"], json!(["complaint"]));
        assert_eq!(plan.events[1].data, json!({"from": "bot", "to": "queued"}));
    }

    #[test]
    fn a_change_the_state_does_not_allow_is_refused() {
        let handback = Change::Handback {
            by: AgentId::new(1),
        };
        let err = change(ConversationState::Resolved, &handback);
        assert!(matches!(
            err,
            Err(StoreError::WrongState {
                actual: ConversationState::Resolved,
                ..
            })
        ));
    }

    #[test]
    fn resolving_and_handing_back_finish_the_assignee() {
        let resolve = change(ConversationState::Assigned, &Change::Resolve { by: None })
            .expect("assigned may resolve");
        assert!(resolve.finishes && resolve.row == RowUpdate::State);
        let handback = Change::Handback {
            by: AgentId::new(7),
        };
        let back = change(ConversationState::Assigned, &handback).expect("assigned may hand back");
        assert!(back.finishes && back.row == RowUpdate::Release);
        assert_eq!(back.events[0].data, json!({"by": 7}));
    }
}
