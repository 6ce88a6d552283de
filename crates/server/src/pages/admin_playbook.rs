//! `/admin/playbook`: the playbook editor (admins; issue 15). The intents with their examples and
//! answers, a form for a new intent and one for a new example per intent, the versions with a
//! rollback, and beside them a "try it" box: the live machine tier's decision on a text (as you
//! type, through console.js and `POST /api/v1/triage`; without JavaScript by submitting), and
//! warnings about the playbook. Every change goes through `teach`, like the API's.

use std::collections::BTreeMap;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use playbook::{IntentKind, NewIntent, Playbook};
use serde::Deserialize;

use super::console::{admin_session, console_top_bar, error_response, head, signed_in_form};
use super::layout::{document, reason_label, Lang};
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::teach;

/// Fewer examples than this get a warning.
const FEW_EXAMPLES: usize = 5;
/// Examples this alike across two intents are near-duplicates.
const NEAR_DUPLICATE: f32 = 0.9;
/// An example counts as closer to another intent when its best likeness there beats the best
/// among its own by this much (and is at least [`CLOSE_TO_OTHER`]).
const CLOSER_BY: f32 = 0.1;
const CLOSE_TO_OTHER: f32 = 0.5;
/// Warnings that compare every example with every other are skipped above this many examples.
const COMPARED_AT_MOST: usize = 2_000;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    lang: Option<String>,
    /// A text to try.
    #[serde(default, rename = "try")]
    try_text: Option<String>,
    /// The version a change just made.
    #[serde(default)]
    saved: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang.as_deref(), &headers);
    page(&state, &headers, lang, &q, None).await
}

/// The page's language: the form's or query's `lang`, the browser's, the desk's.
fn lang_of(state: &AppState, wanted: Option<&str>, headers: &HeaderMap) -> Lang {
    let q = super::layout::LangQuery {
        lang: wanted.map(str::to_owned),
    };
    Lang::pick(&q, headers, state.playbook().default_locale())
}

async fn page(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    q: &PageQuery,
    problem: Option<String>,
) -> Response {
    let (session, agent) = match admin_session(state, headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let playbooks = state.store.playbooks();
    let (newest, versions) = match (
        playbooks.playbook_version(None).await,
        playbooks.playbook_versions().await,
    ) {
        (Ok(Some(n)), Ok(v)) => (n, v),
        (Err(e), _) | (_, Err(e)) => return error_response(lang, e),
        (Ok(None), _) => return error_response(lang, store::StoreError::NotFound),
    };
    let Ok(playbook) = Playbook::parse(&newest.toml) else {
        return error_response(lang, crate::error::ApiError::internal());
    };
    let now = state.machine.now();
    let tried = match q
        .try_text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(text) => match crate::flow::check_text(text) {
            Ok(text) => crate::flow::triage(&now.tier, &text).await.ok(),
            Err(_) => None,
        },
        None => None,
    };
    let training = state.teacher.status();
    let warnings = warnings(lang, &playbook, &now.tier);
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = document(
        lang,
        lang.t("Playbook", "Playbook"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/admin/playbook"))
            main #main.playbook {
                h1 { (lang.t("Playbook", "Playbook")) }
                p #version aria-live="polite" {
                    (lang.t("Version ", "Version ")) strong { (newest.info.version) }
                    @if now.version == newest.info.version {
                        (lang.t(" – der Bot antwortet damit.", " – the bot answers with it."))
                    } @else {
                        (lang.t(" – wird trainiert; der Bot antwortet noch mit Version ", " – being trained; the bot still answers with version ")) (now.version) "."
                        @if let Some([done, total]) = training.embedded {
                            " " (done) (lang.t(" von ", " of ")) (total) (lang.t(" Texten eingebettet.", " texts embedded."))
                        }
                    }
                    @if let Some(ms) = training.last_ms {
                        " " (lang.t("Letztes Training: ", "Last training: ")) (ms) " ms."
                    }
                }
                @if let Some(v) = q.saved { p.notice role="status" { (lang.t("Gespeichert als Version ", "Saved as version ")) (v) "." } }
                @if let Some(p) = &problem { p.error role="alert" { (p) } }
                (try_box(lang, q.try_text.as_deref(), tried.as_ref()))
                section aria-labelledby="warnings-h" {
                    h2 #warnings-h { (lang.t("Hinweise", "Warnings")) " (" (warnings.len()) ")" }
                    @if warnings.is_empty() { p { (lang.t("Keine.", "None.")) } }
                    ul { @for w in &warnings { li { (w) } } }
                }
                (intents(lang, &csrf, &playbook))
                (new_intent(lang, &csrf, &playbook))
                (super::playbook_settings::out_of_scope(lang, &csrf, &playbook))
                (super::playbook_settings::routing(lang, &csrf, &playbook))
                (history(lang, &csrf, &versions))
            }
        },
    );
    (status, body).into_response()
}

fn try_box(lang: Lang, text: Option<&str>, tried: Option<&nlu::Triage>) -> Markup {
    html! {
        section.try aria-labelledby="try-h" {
            h2 #try-h { (lang.t("Ausprobieren", "Try it")) }
            form #try-form method="get" action="/admin/playbook" {
                input type="hidden" name="lang" value=(lang.code());
                label for="try-text" { (lang.t("Eine Kundennachricht", "A customer message")) }
                input #try-text name="try" value=(text.unwrap_or_default()) maxlength="4000" autocomplete="off";
                button type="submit" { (lang.t("Prüfen", "Check")) }
            }
            div #try-result aria-live="polite" {
                @if let Some(t) = tried {
                    p {
                        strong { (action_label(lang, t.action)) }
                        @if let Some(i) = &t.intent { " · " code { (i) } }
                        " · " (lang.t("Sicherheit ", "confidence ")) (format!("{:.2}", t.confidence))
                    }
                    @if !t.candidates.is_empty() {
                        ol.candidates aria-label=(lang.t("Beste Kandidaten", "Best candidates")) {
                            @for c in &t.candidates { li { code { (c.intent) } " " (format!("{:.2}", c.confidence)) } }
                        }
                    }
                    @if !t.reasons.is_empty() {
                        p { (lang.t("Gründe: ", "Reasons: "))
                            @for (i, r) in t.reasons.iter().enumerate() { @if i > 0 { ", " } (reason_label(lang, r.as_str())) } }
                    }
                }
            }
        }
    }
}

fn action_label(lang: Lang, action: desk::Action) -> &'static str {
    match action {
        desk::Action::Answer => lang.t("Antwortet", "Answers"),
        desk::Action::Clarify => lang.t("Fragt nach", "Asks back"),
        desk::Action::Handoff => lang.t("Übergibt an einen Menschen", "Hands off to a person"),
    }
}

/// The hidden fields every form of the editor carries.
pub(super) fn hidden(lang: Lang, csrf: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="lang" value=(lang.code());
    }
}

/// What an admin should look at: examples nearer another intent, near-duplicates across
/// intents, intents with few examples, desk locales without an answer.
fn warnings(lang: Lang, playbook: &Playbook, tier: &nlu::MachineTier) -> Vec<String> {
    let mut out = Vec::new();
    for intent in &playbook.intents {
        if intent.examples.len() < FEW_EXAMPLES {
            out.push(format!(
                "{} {}: {} {}",
                lang.t("Intent", "Intent"),
                intent.id,
                intent.examples.len(),
                lang.t(
                    "Beispiele – fünf bis acht helfen dem Bot.",
                    "examples – five to eight help the bot."
                )
            ));
        }
        if !intent.handoff {
            for locale in &playbook.desk.locales {
                if !intent.answer.contains_key(locale) {
                    out.push(format!(
                        "{} {}: {} {locale}.",
                        lang.t("Intent", "Intent"),
                        intent.id,
                        lang.t("keine Antwort auf", "no answer in")
                    ));
                }
            }
        }
    }
    let examples: Vec<(&str, &str)> = playbook
        .intents
        .iter()
        .flat_map(|i| i.examples.iter().map(move |e| (i.id.as_str(), e.as_str())))
        .collect();
    if examples.len() > COMPARED_AT_MOST {
        out.push(
            lang.t(
                "Zu viele Beispiele, um jedes mit jedem zu vergleichen.",
                "Too many examples to compare each with each.",
            )
            .into(),
        );
        return out;
    }
    let vectors: Vec<_> = examples.iter().map(|(_, e)| tier.likeness(e)).collect();
    for (i, (intent, text)) in examples.iter().enumerate() {
        let (mut own, mut other): (f32, Option<(&str, f32)>) = (0.0, None);
        for (j, (their, _)) in examples.iter().enumerate() {
            if i == j {
                continue;
            }
            let s = vectors[i].similarity(&vectors[j]);
            if their == intent {
                own = own.max(s);
            } else if other.is_none_or(|o| s > o.1) {
                other = Some((their, s));
                if s >= NEAR_DUPLICATE && i < j {
                    out.push(format!(
                        "„{text}“ ({intent}) {} „{}“ ({their}).",
                        lang.t("gleicht fast", "nearly equals"),
                        examples[j].1
                    ));
                }
            }
        }
        if let Some((their, s)) = other {
            if s >= CLOSE_TO_OTHER && s > own + CLOSER_BY && s < NEAR_DUPLICATE {
                out.push(format!(
                    "„{text}“ ({intent}) {} {their}.",
                    lang.t("liegt näher an", "is closer to")
                ));
            }
        }
    }
    out
}

fn intents(lang: Lang, csrf: &str, playbook: &Playbook) -> Markup {
    html! {
        section aria-labelledby="intents-h" {
            h2 #intents-h { (lang.t("Intents", "Intents")) " (" (playbook.intents.len()) ")" }
            @for intent in &playbook.intents {
                details.intent {
                    summary {
                        code { (intent.id) } " · " (intent.examples.len()) " " (lang.t("Beispiele", "examples"))
                        @if intent.handoff { " · " (lang.t("immer an einen Menschen", "always to a person")) }
                        @if intent.kind == IntentKind::Sales { " · " (lang.t("Vertrieb", "sales")) }
                    }
                    ul.examples {
                        @for e in &intent.examples {
                            li {
                                (e) " "
                                form.inline method="post" action="/admin/playbook/examples/remove" {
                                    (hidden(lang, csrf))
                                    input type="hidden" name="intent" value=(intent.id);
                                    input type="hidden" name="text" value=(e);
                                    button.small type="submit" aria-label={(lang.t("Entfernen: ", "Remove: ")) (e)} { (lang.t("Entfernen", "Remove")) }
                                }
                            }
                        }
                    }
                    @for locale in &playbook.desk.locales {
                        form.grid method="post" action="/admin/playbook/answer" {
                            (hidden(lang, csrf))
                            input type="hidden" name="intent" value=(intent.id);
                            input type="hidden" name="locale" value=(locale);
                            label for={"answer-" (intent.id) "-" (locale)} { (lang.t("Antwort", "Answer")) " (" (locale) ")" }
                            textarea id={"answer-" (intent.id) "-" (locale)} name="text" rows="3" maxlength="4000" {
                                (intent.answer.get(locale).map(String::as_str).unwrap_or_default())
                            }
                            button type="submit" { (lang.t("Antwort speichern", "Save the answer")) }
                        }
                    }
                    form.inline method="post" action="/admin/playbook/examples" {
                        (hidden(lang, csrf))
                        input type="hidden" name="intent" value=(intent.id);
                        label for={"ex-" (intent.id)} { (lang.t("Neues Beispiel", "New example")) }
                        input id={"ex-" (intent.id)} name="text" required maxlength="1000";
                        button type="submit" { (lang.t("Hinzufügen", "Add")) }
                    }
                    (super::playbook_settings::intent_settings(lang, csrf, intent))
                }
            }
        }
    }
}

fn new_intent(lang: Lang, csrf: &str, playbook: &Playbook) -> Markup {
    html! {
        section aria-labelledby="new-intent-h" {
            h2 #new-intent-h { (lang.t("Neuer Intent", "New intent")) }
            form.grid method="post" action="/admin/playbook/intents" aria-labelledby="new-intent-h" {
                (hidden(lang, csrf))
                label for="ni-id" { (lang.t("Kennung (a–z, 0–9, _)", "Id (a–z, 0–9, _)")) }
                input #ni-id name="id" required pattern="[a-z0-9_]+" maxlength="80";
                label for="ni-kind" { (lang.t("Art", "Kind")) }
                select #ni-kind name="kind" {
                    option value="service" { (lang.t("Service", "service")) }
                    option value="sales" { (lang.t("Vertrieb", "sales")) }
                }
                label for="ni-examples" { (lang.t("Beispiele, eines pro Zeile", "Examples, one per line")) }
                textarea #ni-examples name="examples" rows="6" required {}
                @for locale in &playbook.desk.locales {
                    label for={"ni-answer-" (locale)} { (lang.t("Antwort", "Answer")) " (" (locale) ")" }
                    textarea id={"ni-answer-" (locale)} name={"answer_" (locale)} rows="3" {}
                }
                label for="ni-skills" { (lang.t("Skills (kommagetrennt)", "Skills (comma-separated)")) }
                input #ni-skills name="skills";
                label for="ni-handoff" { input #ni-handoff type="checkbox" name="handoff" value="true"; " " (lang.t("Immer an einen Menschen", "Always to a person")) }
                button type="submit" { (lang.t("Anlegen", "Create")) }
            }
        }
    }
}

fn history(lang: Lang, csrf: &str, versions: &[store::VersionInfo]) -> Markup {
    html! {
        section aria-labelledby="versions-h" {
            h2 #versions-h { (lang.t("Versionen", "Versions")) }
            table {
                caption { (lang.t("Neueste zuerst", "Newest first")) }
                thead { tr {
                    th scope="col" { "#" } th scope="col" { (lang.t("Zeit", "Time")) }
                    th scope="col" { (lang.t("Von", "By")) } th scope="col" { (lang.t("Änderung", "Change")) }
                    th scope="col" { (lang.t("Zurück zu", "Back to")) }
                    th scope="col" { (lang.t("Unterschied", "Difference")) }
                } }
                tbody {
                    @for (i, v) in versions.iter().enumerate() {
                        tr {
                            td { (v.version) } td { (crate::wire::rfc3339(v.created_at_ms)) }
                            td { (v.author) } td { (v.summary) }
                            td {
                                @if i > 0 {
                                    form.inline method="post" action="/admin/playbook/rollback" {
                                        (hidden(lang, csrf))
                                        input type="hidden" name="version" value=(v.version);
                                        button type="submit" {
                                            (lang.t("Zurück zu Version ", "Roll back to version ")) (v.version)
                                        }
                                    }
                                }
                            }
                            td {
                                @if v.version > 1 {
                                    a href={"/admin/playbook/diff?to=" (v.version) "&lang=" (lang.code())} {
                                        (lang.t("Änderungen in Version ", "Changes in version ")) (v.version)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DiffQuery {
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
}

/// `/admin/playbook/diff?from=&to=`: what changed between two versions.
pub async fn diff(
    State(state): State<AppState>,
    Query(q): Query<DiffQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang.as_deref(), &headers);
    let (session, agent) = match admin_session(&state, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let (from, to, text) = match teach::diff(&state, q.from, q.to).await {
        Ok(d) => d,
        Err(e) => return error_response(lang, crate::error::ApiError::from(e)),
    };
    let body = document(
        lang,
        lang.t("Änderungen am Playbook", "Changes to the playbook"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/admin/playbook/diff"))
            main #main {
                h1 { (lang.t("Änderungen von Version ", "Changes from version ")) (from) (lang.t(" zu ", " to ")) (to) }
                p { a href={"/admin/playbook?lang=" (lang.code())} { (lang.t("Zurück zum Playbook", "Back to the playbook")) } }
                @if text.is_empty() { p { (lang.t("Keine Änderungen.", "No changes.")) } }
                pre.diff role="region" tabindex="0" aria-label=(lang.t("Unterschiede, Zeile für Zeile", "Differences, line by line")) {
                    @for line in text.lines() {
                        @if line.starts_with('+') && !line.starts_with("+++") { ins { (line) } "\n" }
                        @else if line.starts_with('-') && !line.starts_with("---") { del { (line) } "\n" }
                        @else { (line) "\n" }
                    }
                }
            }
        },
    );
    body.into_response()
}

#[derive(Deserialize)]
pub struct ExampleForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    intent: String,
    text: String,
}

#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    intent: String,
    locale: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
pub struct IntentForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    examples: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    handoff: Option<String>,
    /// `answer_<locale>` fields.
    #[serde(flatten)]
    rest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
pub struct RollbackForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    version: i64,
}

/// After a change: back to the editor, or the editor with the refusal.
pub(super) async fn after(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    done: crate::service::DeskResult<store::VersionInfo>,
    agent: &desk::Agent,
    ip: std::net::IpAddr,
) -> Response {
    match done {
        Ok(v) => {
            let target = format!("playbook:{}", v.version);
            crate::audit::record(state, Some(agent.id), "playbook_changed", target, Some(ip)).await;
            let to = format!("/admin/playbook?lang={}&saved={}", lang.code(), v.version);
            Redirect::to(&to).into_response()
        }
        Err(e) => {
            let message = crate::error::ApiError::from(e).message;
            page(state, headers, lang, &PageQuery::default(), Some(message)).await
        }
    }
}

/// The page's language (the form's `lang` first) and the admin behind a form, once its CSRF
/// token is checked.
pub(super) async fn admin_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    wanted: Option<&str>,
) -> Result<(Lang, desk::Agent), Response> {
    let lang = lang_of(state, wanted, headers);
    let (_, agent) = signed_in_form(state, headers, csrf).await?;
    if agent.role != desk::Role::Admin {
        return Err(error_response(
            lang,
            crate::error::ApiError::forbidden(lang.t("Nur für Administratoren.", "Admins only.")),
        ));
    }
    Ok((lang, agent))
}

/// A form's change to the playbook: the admin and CSRF token checked, `change` made as a new
/// version summed up by `summary`, then back to the editor (or the editor with the refusal).
pub(super) async fn edit(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    (csrf, wanted): (&str, Option<&str>),
    summary: String,
    change: impl Fn(&mut Playbook) -> Result<(), playbook::EditError>,
) -> Response {
    let (lang, agent) = match admin_form(state, headers, csrf, wanted).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let done = teach::change(state, &agent, summary, change).await;
    after(state, headers, lang, done, &agent, ip).await
}

pub async fn add_example(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ExampleForm>,
) -> Response {
    let text = desk::text::clean(&f.text).unwrap_or_default();
    let summary = format!("Example added to {}", f.intent);
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.add_example(&f.intent, &text),
    )
    .await
}

pub async fn remove_example(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ExampleForm>,
) -> Response {
    let summary = format!("Example removed from {}", f.intent);
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.remove_example(&f.intent, &f.text),
    )
    .await
}

pub async fn set_answer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<AnswerForm>,
) -> Response {
    let text = desk::text::clean(&f.text).unwrap_or_default();
    let summary = format!("Answer of {} ({}) changed", f.intent, f.locale);
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.set_answer(&f.intent, &f.locale, &text),
    )
    .await
}

pub async fn add_intent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<IntentForm>,
) -> Response {
    let clean = |t: &str| desk::text::clean(t).unwrap_or_default();
    let new = NewIntent {
        id: f.id.trim().to_owned(),
        kind: IntentKind::parse(&f.kind).unwrap_or_default(),
        examples: f
            .examples
            .lines()
            .map(clean)
            .filter(|e| !e.is_empty())
            .collect(),
        answer: f
            .rest
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("answer_")?.to_owned(), clean(v))))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        handoff: f.handoff.is_some(),
        skills: desk::agent::parse_list(&f.skills),
    };
    let summary = format!("Intent {} added", new.id);
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.add_intent(new.clone()),
    )
    .await
}

pub async fn rollback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<RollbackForm>,
) -> Response {
    let (lang, agent) = match admin_form(&state, &headers, &f.csrf, f.lang.as_deref()).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let done = teach::rollback(&state, &agent, f.version).await;
    after(&state, &headers, lang, done, &agent, ip).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warnings_name_what_an_admin_should_look_at_and_little_else() {
        let mut p = Playbook::demo();
        let tier = nlu::MachineTier::train(&p).expect("trains");
        let calm = warnings(Lang::En, &p, &tier);
        assert!(calm.len() <= 5, "the demo is a careful playbook: {calm:#?}");
        p.add_intent(NewIntent {
            id: "newsletter".into(),
            examples: vec![
                "Newsletter abonnieren".into(),
                "Wo kann ich mich für den Newsletter anmelden?".into(),
            ],
            answer: BTreeMap::from([("de".into(), "Unten auf jeder Seite.".into())]),
            ..NewIntent::default()
        })
        .expect("valid");
        p.intents[0].examples.push("Newsletter abonnieren!".into());
        let tier = nlu::MachineTier::train(&p).expect("trains");
        let said = warnings(Lang::En, &p, &tier).join("\n");
        assert!(said.contains("Intent newsletter: 2 examples"), "{said}");
        assert!(said.contains("newsletter: no answer in en"), "{said}");
        assert!(
            said.contains("„Newsletter abonnieren!“ (order_status) nearly equals"),
            "{said}"
        );
        assert!(
            said.contains("(delivery_time) is closer to refund_status"),
            "{said}"
        );
    }
}
