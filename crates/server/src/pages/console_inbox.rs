//! The console's inbox: the lists (mine, the queue, for admins every open one, and the resolved
//! ones), each item with its unread count, waiting time and handoff reasons; the inbox page; and
//! the server-side search over everything the agent may open.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use desk::{Agent, ConversationState, Role};
use maud::{html, Markup};
use serde::Deserialize;
use store::Conversation;

use super::console::{api_error_page, console_head, lang_of, reasons_list, signed_in, top_bar};
use super::console_mail;
use super::console_panes::{waiting, who};
use super::layout::{document, state_label, Lang, LangQuery};
use crate::error::ApiError;
use crate::inbox::{self, Unread, SEARCH_MAX_CHARS, SEARCH_MIN_CHARS};
use crate::service::DeskError;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;
/// How far back the admins' "all open" list looks, and how long it gets.
const RECENT_DAYS: i64 = 14;
const RECENT_MAX: usize = 30;

/// The inbox's lists for one agent, with their unread counts.
pub(super) struct Lists {
    pub mine: Vec<Conversation>,
    pub queue: Vec<Conversation>,
    /// Admins only: open conversations, newest first.
    pub open: Vec<Conversation>,
    /// The agent's own resolved conversations (admins: everyone's), newest first.
    pub resolved: Vec<Conversation>,
    pub unread: Unread,
}

pub(super) async fn lists(state: &AppState, agent: &Agent) -> Result<Lists, ApiError> {
    let (mine, queue, resolved) = tokio::try_join!(
        async { Ok::<_, ApiError>(state.store.assigned_to(agent.id).await?) },
        async { Ok::<_, ApiError>(state.store.queue().await?) },
        async { Ok::<_, ApiError>(inbox::resolved(state, agent).await?) },
    )?;
    let mut open = Vec::new();
    if agent.role == Role::Admin {
        let now = state.clock.now_ms();
        let recent = state
            .store
            .conversations_created(now - RECENT_DAYS * DAY_MS, now + 1, 2_000)
            .await?;
        open = recent
            .into_iter()
            .rev()
            .filter(|c| c.state != ConversationState::Resolved)
            .take(RECENT_MAX)
            .collect();
    }
    let unread = inbox::unread(
        state,
        agent,
        mine.iter().chain(&queue).chain(&open).chain(&resolved),
    )
    .await;
    Ok(Lists {
        mine,
        queue,
        open,
        resolved,
        unread,
    })
}

/// What every list item shows beside the conversation itself.
pub(super) struct Marks<'a> {
    pub now_ms: i64,
    /// The conversation open beside the list, if any.
    pub current: Option<&'a str>,
    pub unread: &'a Unread,
}

fn unread_badge(lang: Lang, n: u32) -> Markup {
    let label = match (lang, n) {
        (Lang::De, 1) => "1 ungelesene Nachricht".to_owned(),
        (Lang::De, n) => format!("{n} ungelesene Nachrichten"),
        (Lang::En, 1) => "1 unread message".to_owned(),
        (Lang::En, n) => format!("{n} unread messages"),
    };
    html! { span.unread title=(label) { span aria-hidden="true" { (n) } span.sr-only { (label) } } }
}

/// One list of the inbox, under its heading with its count.
pub(super) fn conversation_list(
    lang: Lang,
    id: &str,
    title: &str,
    list: &[Conversation],
    empty: &str,
    marks: &Marks<'_>,
) -> Markup {
    html! {
        section aria-labelledby={(id) "-h"} {
            h2 id={(id) "-h"} { (title) " " span.count { "(" (list.len()) ")" } }
            @if list.is_empty() { p.empty { (empty) } }
            ul.inbox id=(id) {
                @for c in list {
                    li.unread-item[marks.unread.contains_key(&c.id)] {
                        a href={"/console/c/" (c.id)} aria-current=[(Some(c.id.as_str()) == marks.current).then_some("page")] {
                            span.who { (who(lang, c)) }
                            " · " span.state { (state_label(lang, c.state.as_str())) }
                            " · " (console_mail::channel_badge(lang, c))
                            (console_mail::subject_line(c))
                        }
                        @if let Some(n) = marks.unread.get(&c.id) { " " (unread_badge(lang, *n)) }
                        @if let Some(w) = waiting(lang, marks.now_ms, c) { " " span.wait { (w) } }
                        (reasons_list(lang, c))
                    }
                }
            }
        }
    }
}

/// Mine and the queue, as the inbox page and the left pane draw them (the live refresh swaps
/// these two sections).
pub(super) fn live_lists(lang: Lang, lists: &Lists, marks: &Marks<'_>) -> Markup {
    html! {
        (conversation_list(lang, "mine", lang.t("Mir zugewiesen", "Assigned to me"), &lists.mine, lang.t("Keine Gespräche zugewiesen.", "No conversations assigned."), marks))
        (conversation_list(lang, "queue", lang.t("Warteschlange", "Queue"), &lists.queue, lang.t("Niemand wartet.", "Nobody is waiting."), marks))
    }
}

/// The admins' open conversations and the resolved ones, folded.
pub(super) fn more_lists(lang: Lang, lists: &Lists, marks: &Marks<'_>) -> Markup {
    html! {
        @for (id, title, list) in [("all-open", lang.t("Alle offenen", "All open"), &lists.open), ("resolved", lang.t("Erledigt", "Resolved"), &lists.resolved)] {
            @if !list.is_empty() {
                details.more {
                    summary { (title) " (" (list.len()) ")" }
                    ul.inbox.compact id=(id) {
                        @for c in list {
                            li {
                                a href={"/console/c/" (c.id)} aria-current=[(Some(c.id.as_str()) == marks.current).then_some("page")] {
                                    span.who { (who(lang, c)) } " · " span.state { (state_label(lang, c.state.as_str())) }
                                }
                                @if let Some(n) = marks.unread.get(&c.id) { " " (unread_badge(lang, *n)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The search field: typing filters the lists on the page (console.js), Enter searches every
/// conversation the agent may open on the server.
pub(super) fn search_form(lang: Lang, q: &str) -> Markup {
    html! {
        form.search role="search" method="get" action="/console/search" {
            input type="hidden" name="lang" value=(lang.code());
            label for="inbox-filter" { (lang.t("Filtern, mit Enter überall suchen", "Filter, or press Enter to search everything")) }
            input #inbox-filter type="search" name="q" autocomplete="off" value=(q)
                minlength=(SEARCH_MIN_CHARS) maxlength=(SEARCH_MAX_CHARS)
                placeholder=(lang.t("Name, E-Mail, Betreff, Nachricht", "Name, e-mail, subject, message"));
            button.secondary type="submit" { (lang.t("Suchen", "Search")) }
        }
    }
}

pub async fn page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, &q, &headers);
    let (session, agent) = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let lists = match lists(&state, &agent).await {
        Ok(l) => l,
        Err(e) => return api_error_page(lang, e),
    };
    let marks = Marks {
        now_ms: state.clock.now_ms(),
        current: None,
        unread: &lists.unread,
    };
    document(
        lang,
        lang.t("Posteingang", "Inbox"),
        console_head(&csrf),
        html! {
            (top_bar(lang, &agent, &csrf, "/console"))
            main #main data-page="inbox" {
                h1 { (lang.t("Posteingang", "Inbox")) }
                (console_mail::mail_off(lang, state.mail.as_deref()))
                p #live-status.live role="status" aria-live="polite" {}
                (search_form(lang, ""))
                (live_lists(lang, &lists, &marks))
                (more_lists(lang, &lists, &marks))
                section aria-labelledby="limits-h" {
                    h2 #limits-h { (lang.t("Meine Grenzen", "My limits")) }
                    form #limits.limits method="post" action="/console/limits" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="my-limits" { (lang.t("Gründe oder Skills, die ich ausschließe (mit Komma getrennt)", "Reasons or skills I rule out (comma-separated)")) }
                        input #my-limits type="text" name="limits" value=(agent.limits.join(", "));
                        label for="my-capacity" { (lang.t("Gleichzeitige Gespräche", "Conversations at once")) }
                        input #my-capacity type="number" name="capacity" min="1" max="100" value=(agent.capacity);
                        button type="submit" { (lang.t("Speichern", "Save")) }
                    }
                }
            }
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct SearchQuery {
    pub lang: Option<String>,
    pub q: Option<String>,
}

/// `/console/search?q=`: every conversation the agent may open whose customer, subject or
/// messages hold the words, newest first.
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, &LangQuery { lang: q.lang }, &headers);
    let (session, agent) = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let words = q.q.unwrap_or_default();
    let found = match inbox::search(&state, &agent, &words).await {
        Ok(found) => Ok(found),
        Err(DeskError::Invalid(_)) => Err(lang.t(
            "Bitte 2 bis 200 Zeichen eingeben.",
            "Please enter 2 to 200 characters.",
        )),
        Err(e) => return api_error_page(lang, e),
    };
    let unread = match &found {
        Ok(list) => inbox::unread(&state, &agent, list).await,
        Err(_) => Unread::new(),
    };
    let marks = Marks {
        now_ms: state.clock.now_ms(),
        current: None,
        unread: &unread,
    };
    // The language switch keeps the words.
    let path = format!(
        "/console/search?q={}",
        percent_encoding::utf8_percent_encode(words.trim(), percent_encoding::NON_ALPHANUMERIC)
    );
    document(
        lang,
        lang.t("Suche", "Search"),
        console_head(&csrf),
        html! {
            (top_bar(lang, &agent, &csrf, &path))
            main #main data-page="search" {
                h1 { (lang.t("Suche", "Search")) }
                (search_form(lang, words.trim()))
                @match &found {
                    Err(message) => { @if !words.trim().is_empty() { p.error role="alert" { (message) } } }
                    Ok(list) => {
                        p #search-status role="status" {
                            @if list.len() as u32 == inbox::SEARCH_LIMIT {
                                (lang.t("Die neuesten 50 Treffer.", "The newest 50 matches."))
                            }
                        }
                        (conversation_list(lang, "results", lang.t("Treffer", "Matches"), list, lang.t("Nichts gefunden.", "Nothing found."), &marks))
                    }
                }
            }
        },
    )
    .into_response()
}
