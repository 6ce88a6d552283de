//! `/console`: the agent console. Cookie session (HttpOnly, SameSite=Strict) with a CSRF token
//! on every form; the inbox and the transcript update live through SSE (assets/console.js).

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use desk::{Agent, Author, Presence, Role};
use maud::{html, Markup};
use serde::Deserialize;
use store::{Session, SessionKind};

use super::console_inbox;
use super::console_mail::{self, MailPanel};
use super::console_panes;
use super::layout::{document, lang_switch, reason_label, state_label, Lang, LangQuery};
use crate::auth::{self, Intent};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::flow;
use crate::limits::Limit;
use crate::state::AppState;

const LOGIN_COOKIE: &str = "tandem_login";

pub(super) fn lang_of(state: &AppState, q: &LangQuery, headers: &HeaderMap) -> Lang {
    Lang::pick(q, headers, state.playbook().default_locale())
}

fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: i64,
) -> String {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .path(path)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

fn with_cookie(mut res: Response, cookie: String) -> Response {
    if let Ok(v) = cookie.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let body = document(
        lang,
        lang.t("Fehler", "Error"),
        html! {},
        html! { main #main { h1 { (lang.t("Das hat nicht geklappt", "That did not work")) } p role="alert" { (message) } p { a href="/console" { (lang.t("Zur Konsole", "Back to the console")) } } } },
    );
    (status, body).into_response()
}

pub(super) fn api_error_page(lang: Lang, e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    error_page(lang, e.status, &e.message)
}

/// The signed-in agent, or a redirect to the login page.
pub(super) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Session, Agent), Response> {
    match auth::console_session(state, headers).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(Redirect::to("/console/login").into_response()),
        Err(e) => Err(e.into_response()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// The signed-in agent behind a console form, once the form's CSRF token is checked.
pub(super) async fn signed_in_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(Session, Agent), Response> {
    let (session, agent) = signed_in(state, headers).await?;
    auth::FormCsrf::check(&session, csrf).map_err(IntoResponse::into_response)?;
    Ok((session, agent))
}

fn login_form(lang: Lang, csrf: &str, error: Option<&str>) -> Markup {
    document(
        lang,
        lang.t("Anmelden", "Log in"),
        html! {},
        html! {
            header.site { p.brand { "Tandem" } (lang_switch(lang, "/console/login")) }
            main #main.narrow {
                h1 { (lang.t("Anmelden in der Konsole", "Log in to the console")) }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                form method="post" action="/console/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="lang" value=(lang.code());
                    label for="email" { (lang.t("E-Mail", "E-mail")) }
                    input #email type="email" name="email" autocomplete="username" required autofocus;
                    label for="password" { (lang.t("Passwort", "Password")) }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { (lang.t("Anmelden", "Log in")) }
                }
            }
        },
    )
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, &q, &headers);
    let csrf = auth::new_token("");
    let res = login_form(lang, &csrf, None).into_response();
    with_cookie(res, cookie(&state, LOGIN_COOKIE, csrf, "/console", 3600))
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: String,
    lang: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(
        &state,
        &LangQuery {
            lang: form.lang.clone(),
        },
        &headers,
    );
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&headers);
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !auth::same_secret(&expected, &form.csrf) {
        return error_page(
            lang,
            StatusCode::FORBIDDEN,
            lang.t(
                "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu.",
                "The form has expired. Please reload the page.",
            ),
        );
    }
    if let Err(e) = state.check_rate(Limit::Login(ip)).await {
        return api_error_page(lang, e);
    }
    let agent = match auth::login(&state, &form.email, &form.password, ip).await {
        Ok(agent) => agent,
        Err(_) => {
            let res = (
                StatusCode::UNAUTHORIZED,
                login_form(
                    lang,
                    &form.csrf,
                    Some(lang.t(
                        "E-Mail oder Passwort ist falsch.",
                        "E-mail or password is wrong.",
                    )),
                ),
            )
                .into_response();
            return res;
        }
    };
    let (token, _) = match auth::start_session(&state, &agent, SessionKind::Console).await {
        Ok(t) => t,
        Err(e) => return api_error_page(lang, e),
    };
    // Signing in means being there: the agent goes online and the queue is routed.
    if let Err(e) = crate::team::set_presence(&state, agent.id, Presence::Online).await {
        return api_error_page(lang, e);
    }
    let res = Redirect::to(&format!("/console?lang={}", lang.code())).into_response();
    let res = with_cookie(
        res,
        cookie(
            &state,
            auth::SESSION_COOKIE,
            token,
            "/",
            auth::SESSION_TTL_MS / 1000,
        ),
    );
    with_cookie(
        res,
        cookie(&state, LOGIN_COOKIE, String::new(), "/console", 0),
    )
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, agent) = match signed_in_form(&state, &headers, &form.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let _ = crate::team::set_presence(&state, agent.id, Presence::Offline).await;
    let _ = state.store.delete_session(&session.token_hash).await;
    let res = Redirect::to("/console/login").into_response();
    with_cookie(
        res,
        cookie(&state, auth::SESSION_COOKIE, String::new(), "/", 0),
    )
}

/// A console session of an admin; a page for anyone else.
pub(super) async fn admin_session(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<(Session, Agent), Response> {
    let (session, agent) = require_console(state, headers).await?;
    if agent.role != Role::Admin {
        return Err(error_response(
            lang,
            ApiError::forbidden(lang.t("Nur für Administratoren.", "Admins only.")),
        ));
    }
    Ok((session, agent))
}

pub(super) fn console_head(csrf: &str) -> Markup {
    html! {
        meta name="csrf-token" content=(csrf);
        script src="/assets/console.js" defer {}
    }
}

pub(super) fn top_bar(lang: Lang, agent: &Agent, csrf: &str, path: &str) -> Markup {
    html! {
        header.site {
            p.brand { a href="/console" { "Tandem" } }
            nav aria-label=(lang.t("Hauptmenü", "Main menu")) {
                a href="/console" { (lang.t("Posteingang", "Inbox")) }
                @if agent.role == Role::Admin { " · " a href="/admin" { (lang.t("Verwaltung", "Admin")) } }
                @if agent.role == Role::Admin { " · " a href="/admin/dashboard" { (lang.t("Auswertung", "Dashboard")) } }
                @if agent.role == Role::Admin { " · " a href="/admin/audit" { (lang.t("Protokoll", "Audit log")) } }
                @if agent.role == Role::Admin { " · " a href="/admin/playbook" { "Playbook" } }
                @if agent.role == Role::Admin { " · " a href="/admin/suggestions" { (lang.t("Vorschläge", "Suggestions")) } }
                " · " a href="/console/comments" { (lang.t("Kommentare", "Comments")) }
                @if agent.role == Role::Admin { " · " a href="/admin/articles" { (lang.t("Artikel", "Articles")) } }
            }
            form.presence method="post" action="/console/presence" {
                input type="hidden" name="csrf" value=(csrf);
                label for="presence" { (lang.t("Status", "Status")) }
                select #presence name="status" {
                    @for (value, de, en) in [("online", "online", "online"), ("away", "abwesend", "away"), ("offline", "offline", "offline")] {
                        option value=(value) selected[agent.presence.as_str() == value] { (lang.t(de, en)) }
                    }
                }
                button type="submit" { (lang.t("Setzen", "Set")) }
            }
            // Shown by console.js: asking for desktop notifications, and an optional sound.
            button #alerts type="button" hidden { (lang.t("Benachrichtigungen erlauben", "Allow notifications")) }
            label #alert-sound-label hidden { input #alert-sound type="checkbox"; " " (lang.t("Ton", "Sound")) }
            span.me { (agent.name) }
            form method="post" action="/console/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { (lang.t("Abmelden", "Log out")) }
            }
            (lang_switch(lang, path))
        }
        (super::console_keys::overlay(lang))
    }
}

pub(super) fn reasons_list(lang: Lang, c: &store::Conversation) -> Markup {
    html! {
        @if let Some(needs) = &c.handoff {
            ul.reasons aria-label=(lang.t("Übergabegründe", "Handoff reasons")) {
                @for r in &needs.reasons { li.reason data-reason=(r.as_str()) { (reason_label(lang, r.as_str())) } }
                @for s in &needs.skills { li.skill { (s) } }
            }
            @if !needs.guesses.is_empty() {
                p.guesses {
                    (lang.t("Der Bot vermutete: ", "The bot thought: "))
                    @for (i, g) in needs.guesses.iter().enumerate() {
                        @if i > 0 { ", " }
                        span.guess data-intent=(g.intent) { (g.intent) " (" (confidence(lang, g.confidence)) ")" }
                    }
                }
            }
        }
    }
}

/// A confidence with two decimals, in the page's notation ("0,31" / "0.31").
fn confidence(lang: Lang, value: f32) -> String {
    let text = format!("{value:.2}");
    match lang {
        Lang::De => text.replace('.', ","),
        Lang::En => text,
    }
}

pub async fn conversation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, &q, &headers);
    let (session, agent) = match signed_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let c = match auth::conversation_access(&state, &headers, &id, Intent::Read).await {
        Ok((c, _)) => c,
        Err(e) => return api_error_page(lang, e),
    };
    let messages = match state.store.messages(&c.id).await {
        Ok(m) => m,
        Err(e) => return api_error_page(lang, e),
    };
    // What is shown here is read: before the inbox's counts are taken.
    if let Some(last) = messages.last() {
        if let Err(e) = crate::inbox::mark_read(&state, &agent, &c.id, Some(last.id)).await {
            tracing::warn!(error = %e, "could not mark a conversation read");
        }
    }
    let suggestions = flow::suggestions(&state, &c).await.unwrap_or_default();
    let why = flow::why_assigned(&state, &c).await.unwrap_or_default();
    let colleagues: Vec<Agent> = state
        .store
        .agents()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.presence == Presence::Online && a.id != agent.id)
        .collect();
    let mine = c.assignee.as_ref().is_some_and(|a| a.id == agent.id) || agent.role == Role::Admin;
    let canned: Vec<(String, String)> = state
        .store
        .canned()
        .canned_for(agent.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| crate::canned::for_locale(r, c.locale.as_str()))
        .map(|r| {
            let text = crate::canned::render(&r.text, c.customer.name.as_deref(), &agent.name);
            (r.title, text)
        })
        .collect();
    let mail = match c.channel {
        desk::Channel::Email => {
            let mailbox = state.store.mailbox();
            Some(MailPanel {
                sending: state.mail.as_ref().is_some_and(|m| m.sends()),
                status: mailbox.mail_status(&c.id).await.unwrap_or_default(),
                attachments: mailbox.attachments(&c.id).await.unwrap_or_default(),
            })
        }
        desk::Channel::Chat => None,
    };
    let path = format!("/console/c/{}", c.id);
    let now = state.clock.now_ms();
    let lists = match console_inbox::lists(&state, &agent).await {
        Ok(l) => l,
        Err(e) => return api_error_page(lang, e),
    };
    let earlier = console_panes::earlier(&state, &c).await;
    let offers = console_panes::offers(&state.playbook(), &c);
    let machine = html! {
        (reasons_list(lang, &c))
        @if let Some(why) = &why { p #why.why { (why.line(lang.code())) } }
    };
    let context = console_panes::Context {
        conversation: &c,
        earlier: &earlier,
        offers: &offers,
        articles: &suggestions,
        may_open_others: agent.role == Role::Admin,
        now_ms: now,
    };
    document(
        lang,
        lang.t("Gespräch", "Conversation"),
        console_head(&csrf),
        html! {
            (top_bar(lang, &agent, &csrf, &path))
            main #main.conversation.panes data-page="conversation" data-conversation=(c.id) {
              (console_panes::inbox_pane(lang, &lists, c.id.as_str(), now))
              div.pane-talk {
                h1 { (lang.t("Gespräch mit ", "Conversation with ")) (console_panes::who(lang, &c)) }
                p { (lang.t("Status: ", "State: ")) span #conv-state { (state_label(lang, c.state.as_str())) } " · " (lang.t("Sprache: ", "Language: ")) (c.locale) " · " (console_mail::channel_badge(lang, &c)) }
                (console_mail::header(lang, &c, mail.as_ref()))
                p #live-status.live role="status" aria-live="polite" {}
                p #typing.typing aria-live="polite" {}
                // The live region around the list (a list keeps its list role for its items).
                div.transcript-box role="log" tabindex="0" aria-label=(lang.t("Verlauf", "Transcript")) {
                    ol #transcript.transcript {
                        @for m in &messages {
                            li class={"msg " (m.author.as_str())} data-id=(m.id.get()) {
                                span.author { (author_label(lang, m.author)) }
                                p.text { (m.text) }
                                (console_mail::delivery(lang, mail.as_ref(), m))
                            }
                        }
                    }
                }
                @if mine {
                    form #reply method="post" action={(path) "/reply"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="reply-text" { (console_mail::reply_label(lang, &c)) }
                        textarea #reply-text name="text" rows="3" required maxlength="10000" {}
                        button type="submit" { (lang.t("Senden", "Send")) }
                    }
                    (super::console_canned::picker(lang, &canned))
                    form #note.note method="post" action={(path) "/note"} {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="note-text" { (lang.t("Interne Notiz (nur für Kolleginnen und Kollegen, nie für den Kunden)", "Internal note (for colleagues only, never for the customer)")) }
                        textarea #note-text name="text" rows="2" required maxlength="10000" {}
                        button type="submit" { (lang.t("Notiz speichern", "Save note")) }
                    }
                    div.actions {
                        form method="post" action={(path) "/resolve"} {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { (lang.t("Erledigt", "Resolve")) }
                        }
                        form method="post" action={(path) "/handback"} {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { (lang.t("An den Bot zurückgeben", "Hand back to the bot")) }
                        }
                    }
                    @if c.state == desk::ConversationState::Assigned {
                        form #transfer.transfer method="post" action={(path) "/transfer"} {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="transfer-agent" { (lang.t("Übergeben an", "Transfer to")) }
                            select #transfer-agent name="agent" {
                                option value="" { (lang.t("– Kollegin/Kollege –", "– colleague –")) }
                                @for a in &colleagues { option value=(a.id.get()) { (a.name) } }
                            }
                            label for="transfer-skill" { (lang.t("oder an Skill", "or to skill")) }
                            input #transfer-skill type="text" name="skill" maxlength="64";
                            button type="submit" { (lang.t("Übergeben", "Transfer")) }
                        }
                    }
                } @else {
                    p.note { (lang.t("Dieses Gespräch ist Ihnen nicht zugewiesen.", "This conversation is not assigned to you.")) }
                }
              }
              (console_panes::context_pane(lang, &context, machine))
            }
        },
    )
    .into_response()
}

fn author_label(lang: Lang, a: Author) -> &'static str {
    match a {
        Author::Customer => lang.t("Kunde", "Customer"),
        Author::Bot => "Bot",
        Author::Agent => lang.t("Mitarbeiter", "Agent"),
        Author::System => "System",
        Author::Note => lang.t("Interne Notiz", "Internal note"),
    }
}

#[derive(Deserialize)]
pub struct ReplyForm {
    csrf: String,
    text: String,
}

/// The form actions of the console, for browsers without JavaScript.
async fn form_action(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
    act: Action<'_>,
) -> Response {
    let lang = lang_of(state, &LangQuery::default(), headers);
    let proof = match signed_in(state, headers).await {
        Ok((session, _)) => match auth::FormCsrf::check(&session, csrf) {
            Ok(proof) => proof,
            Err(e) => return e.into_response(),
        },
        Err(r) => return r,
    };
    // A note needs only read access (a colleague on the queue may leave one); the rest, write.
    let intent = match act {
        Action::Note(_) => Intent::Read,
        _ => Intent::Write,
    };
    let (c, agent) =
        match auth::conversation_access_by_form(state, headers, id, intent, &proof).await {
            Ok((c, auth::Access::Agent(a))) => (c, a),
            Ok(_) => return api_error_page(lang, ApiError::forbidden("agents only")),
            Err(e) => return api_error_page(lang, e),
        };
    let done = match act {
        Action::Reply(text) => match flow::check_text(text) {
            Ok(text) => flow::agent_message(state, &c, agent.id, &text).await,
            Err(e) => Err(e),
        },
        Action::Note(text) => match flow::check_text(text) {
            Ok(text) => flow::note(state, &c, store::NewMessage::note(agent.id, text)).await,
            Err(e) => Err(e),
        },
        Action::Resolve => flow::resolve(state, &c, Some(agent.id)).await,
        Action::Handback => flow::handback(state, &c, agent.id).await,
        Action::Transfer(colleague, skill) => {
            let colleague = colleague.filter(|s| !s.trim().is_empty());
            let skill = Some(skill.trim()).filter(|s| !s.is_empty());
            let target = crate::wire::TransferIn {
                agent: match colleague.map(|s| s.trim().parse::<i64>()) {
                    Some(Ok(id)) => Some(id),
                    Some(Err(_)) => {
                        return api_error_page(lang, ApiError::bad_request("unknown colleague"))
                    }
                    None => None,
                },
                skill: skill.map(str::to_owned),
            }
            .target();
            match target {
                Ok(to) => flow::transfer(state, &c, agent.id, to).await,
                Err(m) => Err(crate::service::DeskError::invalid(m)),
            }
        }
    };
    match (done, act) {
        (Err(e), _) => api_error_page(lang, e),
        (Ok(_), Action::Reply(_) | Action::Note(_)) => {
            Redirect::to(&format!("/console/c/{}", c.id)).into_response()
        }
        (Ok(_), _) => Redirect::to("/console").into_response(),
    }
}

#[derive(Clone, Copy)]
enum Action<'a> {
    Reply(&'a str),
    Note(&'a str),
    Resolve,
    Handback,
    /// To a colleague (their id) or to a skill.
    Transfer(Option<&'a str>, &'a str),
}

#[derive(Deserialize)]
pub struct TransferForm {
    csrf: String,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    skill: String,
}

pub async fn transfer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<TransferForm>,
) -> Response {
    let act = Action::Transfer(f.agent.as_deref(), &f.skill);
    form_action(&state, &headers, &id, &f.csrf, act).await
}

pub async fn note(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ReplyForm>,
) -> Response {
    form_action(&state, &headers, &id, &f.csrf, Action::Note(&f.text)).await
}

pub async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<ReplyForm>,
) -> Response {
    form_action(&state, &headers, &id, &f.csrf, Action::Reply(&f.text)).await
}

pub async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    form_action(&state, &headers, &id, &f.csrf, Action::Resolve).await
}

pub async fn handback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    form_action(&state, &headers, &id, &f.csrf, Action::Handback).await
}

#[derive(Deserialize)]
pub struct LimitsForm {
    csrf: String,
    limits: String,
    capacity: String,
}

/// The agent's own limits and capacity (the self competence made concrete).
pub async fn limits(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LimitsForm>,
) -> Response {
    let lang = lang_of(&state, &LangQuery::default(), &headers);
    let (_, agent) = match signed_in_form(&state, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(capacity) = f.capacity.trim().parse::<u32>() else {
        return error_page(lang, StatusCode::BAD_REQUEST, "capacity: 1–100");
    };
    let limits = desk::agent::parse_list(&f.limits);
    match crate::team::set_limits(&state, agent.id, limits, capacity).await {
        Ok(()) => {
            let target = crate::audit::agent(agent.id);
            crate::audit::record(
                &state,
                Some(agent.id),
                "agent_limits_changed",
                target,
                Some(ip),
            )
            .await;
            Redirect::to("/console").into_response()
        }
        Err(e) => api_error_page(lang, e),
    }
}

#[derive(Deserialize)]
pub struct PresenceForm {
    csrf: String,
    status: String,
}

pub async fn presence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<PresenceForm>,
) -> Response {
    let lang = lang_of(&state, &LangQuery::default(), &headers);
    let (_, agent) = match signed_in_form(&state, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(presence) = f.status.parse::<Presence>() else {
        return error_page(lang, StatusCode::BAD_REQUEST, "online | away | offline");
    };
    match crate::team::set_presence(&state, agent.id, presence).await {
        Ok(()) => Redirect::to("/console").into_response(),
        Err(e) => api_error_page(lang, e),
    }
}

pub(super) use api_error_page as error_response;
pub(super) use console_head as head;
pub(super) use signed_in as require_console;
pub(super) use top_bar as console_top_bar;
