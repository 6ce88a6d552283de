//! `/admin/suggestions`: what the people's work suggests for the playbook (admins; issue 15).
//! Each group shows how many customers asked, their questions, the agents' answers and the
//! intents it is closest to; an admin adds the questions to an intent, makes a new intent (its
//! answer drafted from the agents' first answer, to edit), or rejects the group.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::admin_playbook::admin_form;
use super::console::{admin_session, console_top_bar, error_response, head};
use super::layout::{document, Lang, LangQuery};
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::suggestions::{self, Acceptance, Kind};

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(&q, &headers, state.playbook().default_locale());
    page(&state, &headers, lang, None).await
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    problem: Option<String>,
) -> Response {
    let (session, agent) = match admin_session(state, headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let all = match suggestions::suggestions(state).await {
        Ok(s) => s,
        Err(e) => return error_response(lang, crate::error::ApiError::from(e)),
    };
    let playbook = state.playbook();
    let status = if problem.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let body = document(
        lang,
        lang.t("Vorschläge", "Suggestions"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/admin/suggestions"))
            main #main.suggestions {
                h1 { (lang.t("Vorschläge aus der Arbeit des Teams", "Suggestions from the team's work")) }
                p { (lang.t(
                    "Fragen, bei denen der Bot unsicher war und die jemand aus dem Team beantwortet hat – ohne persönliche Daten. Nichts kommt ohne Ihre Zustimmung ins Playbook.",
                    "Questions the bot was unsure of and someone on the team answered – without personal data. Nothing enters the playbook without your approval.")) }
                @if let Some(p) = &problem { p.error role="alert" { (p) } }
                @if all.is_empty() { p { (lang.t("Zurzeit keine Vorschläge.", "No suggestions right now.")) } }
                @for s in &all {
                    @let h = format!("{}-h", s.id);
                    section.suggestion aria-labelledby=(h) {
                        h2 id=(h) {
                            (match s.kind { Kind::NewIntent => lang.t("Neuer Intent?", "A new intent?"), Kind::AddExamples => lang.t("Neue Beispiele?", "New examples?") })
                            " · " (s.count()) " " (lang.t("Kund:innen", "customers"))
                        }
                        h3 { (lang.t("Fragen", "Questions")) }
                        ul { @for q in s.questions() { li { (q) } } }
                        h3 { (lang.t("Antworten des Teams", "The team's answers")) }
                        ul { @for a in s.answers() { li { (a) } } }
                        @if !s.candidates.is_empty() {
                            p { (lang.t("Am nächsten: ", "Closest: "))
                                @for (i, (intent, score)) in s.candidates.iter().enumerate() {
                                    @if i > 0 { ", " } code { (intent) } " " (format!("{score:.2}"))
                                } }
                        }
                        form.inline method="post" action={"/admin/suggestions/" (s.id) "/accept"} {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="lang" value=(lang.code());
                            label for={(s.id) "-intent"} { (lang.t("Als Beispiele zu", "As examples of")) }
                            select id={(s.id) "-intent"} name="intent" {
                                @for (intent, _) in &s.candidates { option value=(intent) { (intent) } }
                                @for i in playbook.intents.iter().filter(|i| !s.candidates.iter().any(|c| c.0 == i.id)) {
                                    option value=(i.id) { (i.id) }
                                }
                            }
                            button type="submit" { (lang.t("Übernehmen", "Accept")) }
                        }
                        form.grid method="post" action={"/admin/suggestions/" (s.id) "/accept"} {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="lang" value=(lang.code());
                            label for={(s.id) "-new"} { (lang.t("Als neuer Intent (Kennung)", "As a new intent (id)")) }
                            input id={(s.id) "-new"} name="new_id" required pattern="[a-z0-9_]+";
                            @for locale in &playbook.desk.locales {
                                label for={(s.id) "-answer-" (locale)} { (lang.t("Antwort", "Answer")) " (" (locale) ")" }
                                textarea id={(s.id) "-answer-" (locale)} name={"answer_" (locale)} rows="3" {
                                    @if let Some(l) = s.lessons.iter().find(|l| l.new.locale.as_str() == locale.as_str()) {
                                        (l.new.answer)
                                    }
                                }
                            }
                            button type="submit" { (lang.t("Intent anlegen", "Create the intent")) }
                        }
                        form.inline method="post" action={"/admin/suggestions/" (s.id) "/accept"} {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="lang" value=(lang.code());
                            input type="hidden" name="out_of_scope" value="true";
                            button type="submit" { (lang.t("Nicht unser Thema: nie beantworten", "Not ours: never answer")) }
                        }
                        form.inline method="post" action={"/admin/suggestions/" (s.id) "/reject"} {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="lang" value=(lang.code());
                            button type="submit" { (lang.t("Verwerfen", "Reject")) }
                        }
                    }
                }
            }
        },
    );
    (status, body).into_response()
}

#[derive(Deserialize)]
pub struct AcceptForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    new_id: Option<String>,
    #[serde(default)]
    out_of_scope: Option<String>,
    /// `answer_<locale>` fields.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
pub struct RejectForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
}

pub async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<AcceptForm>,
) -> Response {
    let (lang, agent) = match admin_form(&state, &headers, &f.csrf, f.lang.as_deref()).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let how = match (f.new_id.filter(|n| !n.trim().is_empty()), f.intent) {
        _ if f.out_of_scope.is_some() => Acceptance::OutOfScope,
        (Some(new_id), _) => Acceptance::NewIntent {
            id: new_id.trim().to_owned(),
            answer: f
                .rest
                .iter()
                .filter_map(|(k, v)| {
                    let text = desk::text::clean(v)?;
                    Some((k.strip_prefix("answer_")?.to_owned(), text))
                })
                .collect(),
        },
        (None, Some(intent)) => Acceptance::Examples { intent },
        (None, None) => {
            let said = lang.t(
                "Bitte einen Intent wählen oder anlegen.",
                "Please choose or create an intent.",
            );
            return page(&state, &headers, lang, Some(said.into())).await;
        }
    };
    let done = suggestions::accept(&state, &agent, &id, how, None, ip).await;
    settled(&state, &headers, lang, done.map(|_| ())).await
}

/// After an accept or a reject: back to the list, or the list with the refusal.
async fn settled(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    done: crate::service::DeskResult<()>,
) -> Response {
    match done {
        Ok(()) => Redirect::to(&format!("/admin/suggestions?lang={}", lang.code())).into_response(),
        Err(e) => {
            let message = crate::error::ApiError::from(e).message;
            page(state, headers, lang, Some(message)).await
        }
    }
}

pub async fn reject(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<RejectForm>,
) -> Response {
    let (lang, agent) = match admin_form(&state, &headers, &f.csrf, f.lang.as_deref()).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let done = suggestions::reject(&state, &agent, &id, ip).await;
    settled(&state, &headers, lang, done).await
}
