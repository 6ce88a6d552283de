//! The conversation flow: a customer message is stored with the machine tier's answer, or
//! handed off and routed; agents reply, resolve and hand back. Every step writes to the store
//! first and publishes live events after the commit.

use std::sync::Arc;

use desk::handoff::{self, Decision, Staffed, Turn};
use desk::{AgentId, Author, ConversationState, Locale, Reason};
use nlu::MachineTier;
use store::plan::EventKind;
use store::{Appended, Change, Conversation, Customer, NewConversation, NewMessage, StoreError};

use crate::auth;
use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

/// The longest message text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Checks a message text: not too long, and not empty once what shows nothing is gone
/// (`desk::text::clean`, which also drops NUL and the bidirectional overrides).
pub fn check_text(text: &str) -> DeskResult<String> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(DeskError::TooLong(MAX_TEXT_CHARS));
    }
    desk::text::clean(text).ok_or_else(|| DeskError::invalid("text must not be empty"))
}

/// The locale a conversation runs in: the requested one if the desk speaks it, else the desk's.
pub fn desk_locale(state: &AppState, wanted: Option<&str>) -> Locale {
    wanted
        .and_then(|w| spoken_by_desk(state, w))
        .unwrap_or_else(|| Locale::trusted(state.playbook().default_locale().to_owned()))
}

/// `tag` as a locale, if the desk speaks it (the playbook's `[desk] locales`).
fn spoken_by_desk(state: &AppState, tag: &str) -> Option<Locale> {
    Locale::parse(tag).ok().filter(|l| {
        state
            .playbook()
            .desk
            .locales
            .iter()
            .any(|d| l == d.as_str())
    })
}

pub struct Started {
    pub appended: Appended,
    pub token: String,
}

/// Opens a chat, with the customer's first message if there is one.
pub async fn start(
    state: &AppState,
    locale: Option<&str>,
    customer: Customer,
    text: Option<&str>,
) -> DeskResult<Started> {
    start_on(
        state,
        Opening {
            locale,
            customer,
            channel: desk::Channel::Chat,
            subject: None,
            first: text.map(NewMessage::customer),
        },
    )
    .await
}

/// How a conversation opens: its channel, and the customer's first message if there is one.
pub struct Opening<'a> {
    pub locale: Option<&'a str>,
    pub customer: Customer,
    pub channel: desk::Channel,
    /// The subject of the mail (or contact form) that opens it.
    pub subject: Option<String>,
    pub first: Option<NewMessage>,
}

/// Opens a conversation; the machine tier answers or hands off its first message.
pub async fn start_on(state: &AppState, opening: Opening<'_>) -> DeskResult<Started> {
    let Opening {
        locale,
        customer,
        channel,
        subject,
        first,
    } = opening;
    let token = auth::new_conversation_token();
    let id = desk::ConversationId::parse(&auth::new_id("c_", state.clock.now_ms()))
        .ok_or(DeskError::Internal)?;
    let mut locale = desk_locale(state, locale);
    let (messages, change) = match first {
        Some(first) => {
            let now = state.machine.now();
            let triage = triage(&now.tier, &first.text).await?;
            if let Some(spoken) = spoken_by_desk(state, &triage.locale) {
                locale = spoken;
            }
            let decision =
                handoff::decide(&now.rules, &triage, &[], &now.playbook, &locale, |a, b| {
                    now.tier.similarity(a, b)
                });
            let staffed = staffed_for(state, &decision).await;
            reply_to(first, decision, &locale, staffed)
        }
        None => (Vec::new(), None),
    };
    let handed_off = change.is_some();
    let appended = state
        .store
        .create_conversation(NewConversation {
            id,
            token_hash: auth::token_hash(&token),
            locale,
            customer,
            channel,
            subject,
            messages,
            change,
        })
        .await?;
    let then = if handed_off { Then::Route } else { Then::Stay };
    let appended = committed(state, appended, then).await;
    Ok(Started { appended, token })
}

fn reply_to(
    first: NewMessage,
    decision: Decision,
    locale: &str,
    staffed: Staffed,
) -> (Vec<NewMessage>, Option<Change>) {
    let action = decision.action();
    let bot = NewMessage::bot(decision.reply(locale, staffed), action);
    let change = match decision {
        Decision::Handoff { needs, .. } => Some(Change::Handoff(needs)),
        _ => None,
    };
    (vec![first, bot], change)
}

/// What the conversation's history says for the handoff policy.
fn turns(messages: &[store::Message]) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for m in messages {
        match m.author {
            Author::Customer => turns.push(Turn {
                customer_text: m.text.clone(),
                bot_action: None,
            }),
            Author::Bot => {
                if let Some(last) = turns.last_mut() {
                    last.bot_action = m.action;
                }
            }
            _ => {}
        }
    }
    turns
}

/// A customer message. While the bot has the conversation it answers or hands off; while a
/// person has it, the message is simply stored; a resolved conversation reopens.
pub async fn customer_message(
    state: &AppState,
    conversation: &Conversation,
    text: &str,
) -> DeskResult<Appended> {
    customer_message_with(state, conversation, NewMessage::customer(text)).await
}

/// A customer message that may carry more than text (a mail's id and attachments).
pub async fn customer_message_with(
    state: &AppState,
    conversation: &Conversation,
    first: NewMessage,
) -> DeskResult<Appended> {
    let text = first.text.clone();
    let text = text.as_str();
    let mut state_now = conversation.state;
    let mut reopened = None;
    if state_now == ConversationState::Resolved {
        let appended = state
            .store
            .append(
                &conversation.id,
                &[ConversationState::Resolved],
                vec![],
                Some(Change::Reopen),
            )
            .await?;
        let appended = committed(state, appended, Then::Stay).await;
        state_now = appended.conversation.state;
        reopened = Some(appended);
    }
    if !state_now.bot_answers() {
        let appended = state
            .store
            .append(&conversation.id, &[], vec![first.clone()], None)
            .await?;
        return Ok(committed(state, appended, Then::Stay).await);
    }
    // The transcript's read goes out first and travels while the machine tier reads the text.
    let now = state.machine.now();
    let (history, triage) = tokio::join!(
        biased;
        state
            .store
            .latest_messages(&conversation.id, handoff::HISTORY_MESSAGES),
        triage(&now.tier, text)
    );
    let (history, triage) = (history?, triage?);
    let decision = handoff::decide(
        &now.rules,
        &triage,
        &turns(&history),
        &now.playbook,
        &conversation.locale,
        |a, b| now.tier.similarity(a, b),
    );
    let staffed = staffed_for(state, &decision).await;
    let (messages, change) = reply_to(first.clone(), decision, &conversation.locale, staffed);
    let handed_off = change.is_some();
    let result = state
        .store
        .append(
            &conversation.id,
            &[ConversationState::Bot],
            messages,
            change,
        )
        .await;
    let appended = match result {
        Ok(a) => a,
        // Someone changed the state meanwhile (e.g. an agent took over): keep the message.
        Err(StoreError::WrongState { .. }) => {
            state
                .store
                .append(&conversation.id, &[], vec![first.clone()], None)
                .await?
        }
        Err(e) => return Err(e.into()),
    };
    let then = if handed_off { Then::Route } else { Then::Stay };
    let mut appended = committed(state, appended, then).await;
    if let Some(mut reopened) = reopened {
        reopened.messages.append(&mut appended.messages);
        reopened.conversation = appended.conversation;
        reopened.state_changed |= appended.state_changed;
        return Ok(reopened);
    }
    Ok(appended)
}

/// A message stored without the machine tier (an automatic mail that threads into its
/// conversation: kept for the record, never answered).
pub async fn note(
    state: &AppState,
    conversation: &Conversation,
    message: NewMessage,
) -> DeskResult<Appended> {
    let appended = state
        .store
        .append(&conversation.id, &[], vec![message], None)
        .await?;
    Ok(committed(state, appended, Then::Stay).await)
}

pub async fn agent_message(
    state: &AppState,
    conversation: &Conversation,
    agent: AgentId,
    text: &str,
) -> DeskResult<Appended> {
    let appended = state
        .store
        .append(
            &conversation.id,
            &[
                ConversationState::Assigned,
                ConversationState::Queued,
                ConversationState::Bot,
            ],
            vec![NewMessage::agent(agent, text)],
            None,
        )
        .await?;
    Ok(committed(state, appended, Then::Stay).await)
}

pub async fn resolve(
    state: &AppState,
    conversation: &Conversation,
    by: Option<AgentId>,
) -> DeskResult<Appended> {
    let text = desk::replies::resolved(&conversation.locale);
    let appended = state
        .store
        .append(
            &conversation.id,
            &[
                ConversationState::Bot,
                ConversationState::Queued,
                ConversationState::Assigned,
            ],
            vec![NewMessage::system(text)],
            Some(Change::Resolve { by }),
        )
        .await?;
    if by.is_some() {
        // What an agent answered after the machine was unsure may teach it (in the background).
        let (state, conversation) = (state.clone(), conversation.clone());
        tokio::spawn(async move { crate::suggestions::learn_from(&state, &conversation).await });
    }
    Ok(committed(state, appended, Then::Route).await)
}

pub async fn handback(
    state: &AppState,
    conversation: &Conversation,
    by: AgentId,
) -> DeskResult<Appended> {
    let text = desk::replies::handed_back(&conversation.locale);
    let appended = state
        .store
        .append(
            &conversation.id,
            &[ConversationState::Assigned, ConversationState::Queued],
            vec![NewMessage::system(text)],
            Some(Change::Handback { by }),
        )
        .await?;
    Ok(committed(state, appended, Then::Route).await)
}

/// The assignee passes the conversation to a colleague (who gets it at once) or to a skill
/// (it is routed again with the skill needed).
pub async fn transfer(
    state: &AppState,
    conversation: &Conversation,
    by: AgentId,
    to: store::TransferTo,
) -> DeskResult<Appended> {
    let appended = state
        .store
        .transfer(&conversation.id, by, to, state.clock.now_ms())
        .await?;
    Ok(committed(state, appended, Then::Route).await)
}

/// What follows a committed write besides publishing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    Stay,
    /// The write queued a conversation or freed an agent: route the queue.
    Route,
}

/// After a commit: publish the write live (and count it), then route the queue if `then` says
/// so. Every write of the flow goes through here, in this order.
async fn committed(state: &AppState, appended: Appended, then: Then) -> Appended {
    state.hub.publish_write(&appended);
    if let Some(mail) = &state.mail {
        let replies = appended
            .messages
            .iter()
            .any(|m| matches!(m.author, Author::Bot | Author::Agent));
        if replies && appended.conversation.channel == desk::Channel::Email {
            mail.wake();
        }
    }
    if then == Then::Route {
        route(state).await;
    }
    appended
}

/// Gives queued conversations to free agents. Failures are logged; the queue stays intact and
/// the next event retries.
pub async fn route(state: &AppState) {
    match state
        .store
        .assign_queued(&state.rules(), state.clock.now_ms())
        .await
    {
        Ok(assigned) => {
            for a in &assigned {
                state.hub.publish_write(a);
            }
        }
        Err(e) => tracing::error!(error = %e, "routing the queue failed"),
    }
}

/// One routing tick at the desk's current time: conversations whose assignee has not replied
/// within the first-response timeout move on, then the queue is routed (with the requirements
/// relaxed as far as each wait allows).
pub async fn tick(state: &AppState) {
    if let Some(timeout_ms) = state.first_response_timeout_ms {
        match state
            .store
            .reassign_unanswered(&state.rules(), state.clock.now_ms(), timeout_ms)
            .await
        {
            Ok(moved) => {
                for a in &moved {
                    state.hub.publish_write(a);
                }
            }
            Err(e) => tracing::error!(error = %e, "moving unanswered conversations failed"),
        }
    }
    route(state).await;
}

/// The periodic routing tick: requirements relax as conversations wait, so the queue is routed
/// again now and then even when no event drains it. On PostgreSQL every node ticks; the
/// routing lock in the store makes concurrent ticks safe (one plans, the others find nothing).
pub async fn tick_every(state: AppState, period: std::time::Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        tick(&state).await;
    }
}

/// Why the conversation went to its current assignee: the explanation stored with its latest
/// `assigned` (or `reassigned`) event, while a person has it.
pub async fn why_assigned(
    state: &AppState,
    conversation: &Conversation,
) -> DeskResult<Option<desk::routing::Why>> {
    if conversation.state != ConversationState::Assigned {
        return Ok(None);
    }
    let events = state.store.events(&conversation.id).await?;
    Ok(events
        .iter()
        .rev()
        .find(|e| {
            matches!(
                EventKind::parse(&e.kind),
                Some(EventKind::Assigned | EventKind::Reassigned)
            )
        })
        .and_then(|e| serde_json::from_value(e.data.get("why")?.clone()).ok()))
}

/// How long a person takes for a conversation, on average, for the customer's wait estimate.
pub const AVERAGE_HANDLE_SECS: u32 = 300;

/// Where a queued conversation stands: its position, and the expected wait from the free places
/// of the people online who could take it.
pub async fn queue_info(
    state: &AppState,
    conversation: &Conversation,
) -> DeskResult<Option<crate::wire::Queue>> {
    if conversation.state != ConversationState::Queued {
        return Ok(None);
    }
    let queue = state.store.queue().await?;
    let position = queue
        .iter()
        .position(|c| c.id == conversation.id)
        .map_or(queue.len() + 1, |i| i + 1);
    let needs = conversation.handoff.clone().unwrap_or_default();
    let places: u32 = state
        .store
        .agents()
        .await?
        .iter()
        .filter(|a| a.presence == desk::Presence::Online && desk::routing::could_take(a, &needs))
        .map(|a| a.capacity)
        .sum();
    Ok(Some(crate::wire::Queue {
        position: u32::try_from(position).unwrap_or(u32::MAX),
        expected_wait_secs: (places > 0)
            .then(|| desk::routing::expected_wait_secs(position, places, AVERAGE_HANDLE_SECS)),
    }))
}

/// Whether anyone online could take a conversation with these needs (however long it waits).
async fn anyone_online_for(state: &AppState, needs: &desk::Needs) -> bool {
    match state.store.agents().await {
        Ok(agents) => agents
            .iter()
            .any(|a| a.presence == desk::Presence::Online && desk::routing::could_take(a, needs)),
        // Unknown: say the usual words rather than claim nobody is there.
        Err(_) => true,
    }
}

/// For a handoff, whether anyone who could take it is online (one read of the team); the desk
/// words its reply by that ([`Decision::reply`]).
async fn staffed_for(state: &AppState, decision: &Decision) -> Staffed {
    match decision {
        Decision::Handoff { needs } if !anyone_online_for(state, needs).await => Staffed::Nobody,
        _ => Staffed::Yes,
    }
}

/// The handoff reasons a response reports for a conversation.
pub fn reasons(c: &Conversation) -> Option<Vec<Reason>> {
    c.handoff.as_ref().map(|n| n.reasons.clone())
}

/// Triage one customer message. With a sentence encoder the decision may take milliseconds of
/// CPU, so it runs on the blocking pool instead of holding up the async workers.
pub(crate) async fn triage(tier: &Arc<MachineTier>, text: &str) -> DeskResult<nlu::Triage> {
    let _timer = crate::telemetry::triage_timer();
    let text = text.to_string();
    with_tier(tier, move |tier| tier.triage(&text)).await
}

/// Run `work` on the machine tier: inline when it takes microseconds, on the blocking pool when
/// a sentence encoder may make it take milliseconds of CPU.
async fn with_tier<T: Send + 'static>(
    tier: &Arc<MachineTier>,
    work: impl FnOnce(&MachineTier) -> T + Send + 'static,
) -> DeskResult<T> {
    if !tier.has_encoder() {
        return Ok(work(tier));
    }
    let tier = tier.clone();
    tokio::task::spawn_blocking(move || work(&tier))
        .await
        .map_err(|_| DeskError::Internal)
}

/// Articles that may help the agent: searched with everything the customer wrote.
pub async fn suggestions(
    state: &AppState,
    conversation: &Conversation,
) -> DeskResult<Vec<crate::wire::ArticleSuggestion>> {
    let messages = state.store.messages(&conversation.id).await?;
    let text: Vec<&str> = messages
        .iter()
        .filter(|m| m.author == Author::Customer)
        .map(|m| m.text.as_str())
        .collect();
    let locale = &conversation.locale;
    let joined = text.join("\n");
    let now = state.machine.now();
    let hits = with_tier(&now.tier, move |tier| tier.suggest_articles(&joined, 6)).await?;
    Ok(hits
        .into_iter()
        // Only articles in the customer's language (or in none in particular).
        .filter(|hit| {
            now.playbook
                .article(&hit.id)
                .is_some_and(|a| a.locale.as_deref().is_none_or(|l| l == locale.as_str()))
        })
        .take(3)
        .map(|hit| crate::wire::ArticleSuggestion {
            id: hit.id,
            title: hit.title,
            score: hit.score,
        })
        .collect())
}
