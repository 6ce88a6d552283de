//! The console's three panes around a conversation: the inbox on the left (mine, the queue, the
//! resolved ones and, for admins, every open one, with a filter and search), the conversation
//! in the middle, and its context on the right (the customer and their earlier conversations,
//! the machine's view, answers and articles to insert into the reply).

use desk::ConversationState;
use maud::{html, Markup};
use store::Conversation;

use super::console_inbox::{live_lists, more_lists, search_form, Lists, Marks};
use super::layout::{reason_label, state_label, Lang};
use crate::state::AppState;

/// The customer's name, else e-mail, else "customer".
pub(super) fn who(lang: Lang, c: &Conversation) -> String {
    c.customer
        .name
        .clone()
        .or_else(|| c.customer.email.clone())
        .unwrap_or_else(|| lang.t("Kunde", "Customer").to_owned())
}

/// "5 min", "3 h", "2 d": how long since `ms`.
pub(super) fn since(lang: Lang, now_ms: i64, ms: i64) -> String {
    let minutes = ((now_ms - ms).max(0) / 60_000) as u64;
    match minutes {
        0 => lang.t("gerade eben", "just now").to_owned(),
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} {}", m / (24 * 60), lang.t("Tg.", "d")),
    }
}

/// How long the conversation has waited for a person, or been with its assignee.
pub(super) fn waiting(lang: Lang, now_ms: i64, c: &Conversation) -> Option<String> {
    match c.state {
        ConversationState::Queued => c.queued_at_ms.map(|t| {
            format!(
                "{} {}",
                lang.t("wartet seit", "waiting"),
                since(lang, now_ms, t)
            )
        }),
        ConversationState::Assigned => c.assigned_at_ms.map(|t| {
            format!(
                "{} {}",
                lang.t("zugewiesen seit", "assigned for"),
                since(lang, now_ms, t)
            )
        }),
        _ => None,
    }
}

/// The left pane: the inbox's lists (`mine` and `queue` exactly as the inbox page draws them, so
/// the live refresh swaps the same sections), the filter and search, and the wider lists folded.
pub(super) fn inbox_pane(lang: Lang, lists: &Lists, current: &str, now_ms: i64) -> Markup {
    let marks = Marks {
        now_ms,
        current: Some(current),
        unread: &lists.unread,
    };
    html! {
        nav.pane-inbox aria-label=(lang.t("Posteingang", "Inbox")) {
            (search_form(lang, ""))
            (live_lists(lang, lists, &marks))
            (more_lists(lang, lists, &marks))
        }
    }
}

/// One answer the agent can take into the reply: the playbook's answer for a guessed intent.
pub(super) struct Offer {
    pub label: String,
    pub text: String,
    pub locale: String,
}

/// The playbook's answers for the bot's guesses (best first), in the conversation's locale, as
/// the bot would have answered: a start for the agent's reply.
pub(super) fn offers(playbook: &playbook::Playbook, c: &Conversation) -> Vec<Offer> {
    let Some(needs) = &c.handoff else {
        return Vec::new();
    };
    needs
        .guesses
        .iter()
        .filter_map(|g| {
            let intent = playbook.intent(&g.intent)?;
            let text = intent.answer_in(&c.locale, &playbook.desk.locales)?;
            let locale = intent.answer.iter().find(|(_, t)| t.as_str() == text)?.0;
            Some(Offer {
                label: g.intent.clone(),
                text: text.to_owned(),
                locale: locale.to_string(),
            })
        })
        .collect()
}

/// Most earlier conversations the context pane lists.
const EARLIER_MAX: usize = 10;

/// The customer's other conversations (by e-mail), newest first, each with its rating if given.
pub(super) async fn earlier(
    state: &AppState,
    c: &Conversation,
) -> Vec<(Conversation, Option<u64>)> {
    let Some(email) = &c.customer.email else {
        return Vec::new();
    };
    let mut others: Vec<Conversation> = state
        .store
        .conversations_of_customer(email)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.id != c.id)
        .collect();
    others.sort_by_key(|e| std::cmp::Reverse(e.created_at_ms));
    others.truncate(EARLIER_MAX);
    // Each one's events at once, not one after the other.
    let ratings = futures_util::future::join_all(others.iter().map(|e| async move {
        state
            .store
            .events(&e.id)
            .await
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|ev| ev.kind == "rating")
            .and_then(|ev| ev.data["score"].as_u64())
    }))
    .await;
    others.into_iter().zip(ratings).collect()
}

/// The right pane.
pub(super) struct Context<'a> {
    pub conversation: &'a Conversation,
    pub earlier: &'a [(Conversation, Option<u64>)],
    pub offers: &'a [Offer],
    pub articles: &'a [crate::wire::ArticleSuggestion],
    pub may_open_others: bool,
    pub now_ms: i64,
}

pub(super) fn context_pane(lang: Lang, cx: &Context<'_>, machine: Markup) -> Markup {
    let c = cx.conversation;
    html! {
        aside.pane-context aria-label=(lang.t("Kontext", "Context")) {
            section aria-labelledby="ctx-customer" {
                h2 #ctx-customer { (lang.t("Kunde", "Customer")) }
                @if let Some(name) = &c.customer.name { p.customer-name { (name) } }
                @if let Some(email) = &c.customer.email { p.customer-email { (email) } }
                @if c.customer.name.is_none() && c.customer.email.is_none() { p.customer-name { (who(lang, c)) } }
                @if cx.earlier.is_empty() {
                    p.empty { (lang.t("Keine früheren Gespräche.", "No earlier conversations.")) }
                } @else {
                    h3 { (lang.t("Frühere Gespräche", "Earlier conversations")) }
                    ul.earlier {
                        @for (e, rating) in cx.earlier {
                            li {
                                @let line = format!("{} · {}", super::super::wire::rfc3339(e.created_at_ms).get(..10).unwrap_or(""), state_label(lang, e.state.as_str()));
                                @if cx.may_open_others { a href={"/console/c/" (e.id)} { (line) } } @else { (line) }
                                @if let Some(s) = &e.subject { " · " (s) }
                                @if let Some(r) = rating { " · " span.rating { (lang.t("Bewertung ", "Rating ")) (r) "/5" } }
                                @if let Some(needs) = &e.handoff {
                                    @for r in &needs.reasons { " · " span.badge { (reason_label(lang, r.as_str())) } }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="ctx-machine" {
                h2 #ctx-machine { (lang.t("Sicht der Maschine", "The machine's view")) }
                (machine)
                @if let Some(w) = waiting(lang, cx.now_ms, c) { p.waited { (w) } }
            }
            @if !cx.offers.is_empty() || !cx.articles.is_empty() {
                section aria-labelledby="ctx-suggest" {
                    h2 #ctx-suggest { (lang.t("Vorschläge", "Suggestions")) }
                    ul.offers {
                        @for o in cx.offers {
                            li {
                                p.offer-label { (lang.t("Antwort zu ", "Answer for ")) code { (o.label) } }
                                p.offer-text lang=(o.locale) { (o.text) }
                                button.insert.secondary type="button" hidden data-text=(o.text) { (lang.t("In die Antwort übernehmen", "Insert into reply")) }
                            }
                        }
                        @for a in cx.articles {
                            @let link = format!("{}: /help/{}", a.title, a.id);
                            li {
                                p.offer-label { (lang.t("Artikel ", "Article ")) a href={"/help/" (a.id)} { (a.title) } }
                                button.insert.secondary type="button" hidden data-text=(link) { (lang.t("Link einfügen", "Insert link")) }
                            }
                        }
                    }
                }
            }
        }
    }
}
