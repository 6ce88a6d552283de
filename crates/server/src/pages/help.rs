//! `/help`: the public help center in German and English. Articles by category with full-text
//! search, the article page (Markdown without raw HTML, "Was this helpful?", approved comments,
//! the comment form) and the contact form. Every form works without JavaScript (the math
//! question); with JavaScript the vendored ALTCHA widget solves a proof of work instead.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;
use store::{Article, CommentStatus};

use super::layout::{document, lang_switch, Lang, LangQuery};
use crate::captcha::{self, Issued};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::help;
use crate::help::actions::{add_comment, contact_submit};
use crate::limits::Limit;
use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

fn lang_of(state: &AppState, lang: Option<String>, headers: &HeaderMap) -> Lang {
    Lang::pick(
        &LangQuery { lang },
        headers,
        state.playbook().default_locale(),
    )
}

/// The help pages' extra head: their stylesheet and the ALTCHA widget (an ES module from our
/// own origin; its worker is `/assets/altcha/worker.js`).
fn head(with_widget: bool) -> Markup {
    html! {
        link rel="stylesheet" href="/assets/help.css";
        @if with_widget {
            link rel="stylesheet" href="/assets/altcha/altcha.css";
            script type="module" src="/assets/altcha/altcha.js" {}
        }
    }
}

fn header(lang: Lang, path: &str) -> Markup {
    html! {
        header.site {
            p.brand { a href={"/help?lang=" (lang.code())} { (lang.t("Hilfe-Center", "Help center")) } }
            nav aria-label=(lang.t("Hilfe", "Help")) {
                a href={"/help?lang=" (lang.code())} { (lang.t("Artikel", "Articles")) }
                " · "
                a href={"/help/contact?lang=" (lang.code())} { (lang.t("Kontakt", "Contact")) }
            }
            (lang_switch(lang, path))
        }
    }
}

fn error_page(lang: Lang, e: impl Into<ApiError>) -> Response {
    let e: ApiError = e.into();
    let body = document(
        lang,
        lang.t("Fehler", "Error"),
        head(false),
        html! {
            (header(lang, "/help"))
            main #main.narrow {
                h1 { (lang.t("Das hat nicht geklappt", "That did not work")) }
                p.error role="alert" { (e.message) }
                p { a href={"/help?lang=" (lang.code())} { (lang.t("Zum Hilfe-Center", "Back to the help center")) } }
            }
        },
    );
    let mut res = (e.status, body).into_response();
    if e.status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("60"),
        );
    }
    res
}

fn not_found(lang: Lang) -> Response {
    error_page(
        lang,
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            lang.t("Diesen Artikel gibt es nicht.", "There is no such article."),
        ),
    )
}

/// Articles in the page's language (and those without one); all of them if none matches.
fn for_lang(articles: Vec<Article>, lang: Lang) -> Vec<Article> {
    let (mine, other): (Vec<_>, Vec<_>) = articles
        .into_iter()
        .partition(|a| a.locale.as_deref().is_none_or(|l| l == lang.code()));
    if mine.is_empty() {
        other
    } else {
        mine
    }
}

/// The CAPTCHA inside a form: the ALTCHA widget (proof of work, solved in the browser) and,
/// without JavaScript, the math question. Plus the honeypot that people never see.
fn captcha_fields(lang: Lang, issued: &Issued) -> Markup {
    let challenge = serde_json::to_string(&issued.altcha).unwrap_or_default();
    let strings = match lang {
        Lang::De => serde_json::json!({
            "label": "Ich bin kein Roboter",
            "verified": "Bestätigt",
            "verifying": "Wird geprüft …",
            "error": "Die Prüfung ist fehlgeschlagen. Bitte später erneut versuchen.",
            "expired": "Die Prüfung ist abgelaufen. Bitte erneut bestätigen.",
            "waitAlert": "Wird geprüft … bitte warten.",
            "verificationRequired": "Bitte bestätigen Sie zuerst, dass Sie ein Mensch sind.",
            "ariaLinkLabel": "Besuchen Sie altcha.org",
            "footer": "Geschützt durch ALTCHA",
            "loading": "Lädt …",
            "reload": "Neu laden",
            "enterCode": "Code eingeben",
            "enterCodeAria": "Geben Sie den Code ein, den Sie hören.",
            "getAudioChallenge": "Audio-Aufgabe abspielen"
        })
        .to_string(),
        Lang::En => String::new(),
    };
    html! {
        div.hp aria-hidden="true" {
            label for="website" { (lang.t("Webseite (bitte leer lassen)", "Website (leave empty)")) }
            input #website type="text" name="website" tabindex="-1" autocomplete="off";
        }
        fieldset.captcha {
            legend { (lang.t("Sicherheitsprüfung", "Security check")) }
            p #captcha-help {
                (lang.t(
                    "Ihr Browser löst eine kleine Rechenaufgabe (Proof of Work), sobald Sie das Kästchen ankreuzen. Es werden keine Cookies gesetzt und keine Daten an Dritte gesendet.",
                    "Your browser solves a small computing task (proof of work) once you tick the box. No cookies are set and no data goes to third parties."))
            }
            div role="group" aria-describedby="captcha-help" aria-label=(lang.t("Bestätigung, dass Sie ein Mensch sind", "Confirmation that you are human")) {
                @if lang == Lang::De {
                    altcha-widget name="altcha" challengejson=(challenge) strings=(strings) hidelogo disablerefetchonexpire {}
                } @else {
                    altcha-widget name="altcha" challengejson=(challenge) hidelogo disablerefetchonexpire {}
                }
            }
            noscript {
                input type="hidden" name="captcha_id" value=(issued.id);
                label for="captcha_answer" {
                    (lang.t("Bitte rechnen Sie: ", "Please work out: ")) (issued.math.question)
                }
                input #captcha_answer type="text" name="captcha_answer" inputmode="numeric" autocomplete="off" required;
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct IndexQuery {
    lang: Option<String>,
    q: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    Query(q): Query<IndexQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang.clone(), &headers);
    let all = match state.store.articles(true).await {
        Ok(a) => a,
        Err(e) => return error_page(lang, e),
    };
    let query = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let results: Option<Vec<Article>> = query.map(|text| {
        state
            .help
            .search(&all, text, 10)
            .iter()
            .filter_map(|id| all.iter().find(|a| &a.id == id).cloned())
            .collect()
    });
    let mut by_category: BTreeMap<String, Vec<Article>> = BTreeMap::new();
    for a in for_lang(all, lang) {
        let cat = a
            .category
            .clone()
            .unwrap_or_else(|| lang.t("Allgemein", "General").to_owned());
        by_category.entry(cat).or_default().push(a);
    }
    let link = |a: &Article| format!("/help/{}?lang={}", a.id, lang.code());
    document(
        lang,
        lang.t("Hilfe-Center", "Help center"),
        head(false),
        html! {
            (header(lang, "/help"))
            main #main {
                h1 { (lang.t("Wie können wir helfen?", "How can we help?")) }
                form.search method="get" action="/help" role="search" {
                    input type="hidden" name="lang" value=(lang.code());
                    label for="q" { (lang.t("Artikel durchsuchen", "Search the articles")) }
                    input #q type="search" name="q" value=(query.unwrap_or(""));
                    button type="submit" { (lang.t("Suchen", "Search")) }
                }
                @if let Some(results) = &results {
                    section aria-labelledby="results-h" {
                        h2 #results-h { (lang.t("Suchergebnisse", "Search results")) }
                        @if results.is_empty() {
                            p { (lang.t("Keine passenden Artikel. Schreiben Sie uns gern über das ", "No matching articles. Feel free to write to us through the "))
                                a href={"/help/contact?lang=" (lang.code())} { (lang.t("Kontaktformular", "contact form")) } "." }
                        } @else {
                            ul.articles { @for a in results { li { a href=(link(a)) { (a.title) } } } }
                        }
                    }
                }
                @for (category, articles) in &by_category {
                    section {
                        h2 { (category) }
                        ul.articles { @for a in articles { li { a href=(link(a)) { (a.title) } } } }
                    }
                }
                p { (lang.t("Nichts gefunden? ", "Found nothing? ")) a href={"/help/contact?lang=" (lang.code())} { (lang.t("Schreiben Sie uns.", "Write to us.")) } }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ArticleQuery {
    lang: Option<String>,
    posted: Option<String>,
    voted: Option<String>,
}

/// What the comment form shows again after a refusal.
#[derive(Default)]
struct Draft {
    author: String,
    text: String,
    error: Option<String>,
}

async fn article_page(
    state: &AppState,
    ip: std::net::IpAddr,
    lang: Lang,
    id: &str,
    q: &ArticleQuery,
    draft: Draft,
) -> Response {
    let article = match help::published_article(state, id).await {
        Ok(a) => a,
        Err(DeskError::NotFound) => return not_found(lang),
        Err(e) => return error_page(lang, e),
    };
    if let Err(e) = state.check_rate(Limit::Captcha(ip)).await {
        return error_page(lang, e);
    }
    let comments = match state
        .store
        .comments(Some(&article.id), Some(CommentStatus::Approved))
        .await
    {
        Ok(c) => c,
        Err(e) => return error_page(lang, e),
    };
    let issued = state
        .help
        .captcha
        .issue(state.now_secs(), captcha::TTL_SECS);
    let path = format!("/help/{}", article.id);
    let status = if draft.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = document(
        lang,
        &article.title,
        head(true),
        html! {
            (header(lang, &path))
            main #main.narrow {
                article.help-article {
                    h1 { (article.title) }
                    @if let Some(c) = &article.category { p.category { (c) } }
                    div.body { (PreEscaped(help::render_markdown(&article.body))) }
                }
                section.helpful aria-labelledby="helpful-h" {
                    h2 #helpful-h { (lang.t("War dieser Artikel hilfreich?", "Was this helpful?")) }
                    @if q.voted.is_some() {
                        p role="status" { (lang.t("Danke für Ihre Rückmeldung!", "Thank you for your feedback!")) }
                    } @else {
                        form method="post" action={(path) "/helpful"} {
                            input type="hidden" name="lang" value=(lang.code());
                            button type="submit" name="helpful" value="yes" { (lang.t("Ja", "Yes")) }
                            " "
                            button.secondary type="submit" name="helpful" value="no" { (lang.t("Nein", "No")) }
                        }
                    }
                }
                section #comments.comments aria-labelledby="comments-h" {
                    h2 #comments-h { (lang.t("Kommentare", "Comments")) }
                    @if comments.is_empty() {
                        p { (lang.t("Noch keine Kommentare.", "No comments yet.")) }
                    } @else {
                        ol.comment-list {
                            @for c in &comments {
                                li.comment {
                                    p.comment-author { strong { (c.author) } " · " time datetime=(crate::wire::rfc3339(c.created_at_ms)) { (crate::wire::rfc3339(c.created_at_ms).get(..10).unwrap_or("")) } }
                                    p.comment-text { (c.text) }
                                }
                            }
                        }
                    }
                    @if q.posted.is_some() {
                        p.notice role="status" { (lang.t("Danke! Ihr Kommentar erscheint, sobald ihn jemand aus dem Team freigegeben hat.", "Thank you! Your comment appears once someone from the team has approved it.")) }
                    }
                    h3 { (lang.t("Kommentar schreiben", "Write a comment")) }
                    @if let Some(e) = &draft.error { p.error role="alert" { (e) } }
                    form.comment-form method="post" action={(path) "/comments"} {
                        input type="hidden" name="lang" value=(lang.code());
                        label for="author" { (lang.t("Ihr Name", "Your name")) }
                        input #author type="text" name="author" autocomplete="name" maxlength="200" required value=(draft.author);
                        label for="text" { (lang.t("Ihr Kommentar", "Your comment")) }
                        textarea #text name="text" rows="5" maxlength="10000" required { (draft.text) }
                        (captcha_fields(lang, &issued))
                        button type="submit" { (lang.t("Kommentar senden", "Post comment")) }
                    }
                }
            }
        },
    );
    (status, body).into_response()
}

pub async fn article(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Query(q): Query<ArticleQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang.clone(), &headers);
    article_page(&state, ip, lang, &id, &q, Draft::default()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct CommentForm {
    lang: Option<String>,
    #[serde(default)]
    author: String,
    #[serde(default)]
    text: String,
    website: Option<String>,
    altcha: Option<String>,
    captcha_id: Option<String>,
    captcha_answer: Option<String>,
}

fn form_answer(
    website: Option<&str>,
    altcha: Option<&str>,
    id: Option<&str>,
    answer: Option<&str>,
) -> DeskResult<captcha::Answer> {
    if website.is_some_and(|w| !w.trim().is_empty()) {
        return Err(captcha::invalid("this looks automated"));
    }
    captcha::answer_of(altcha, id, answer)
}

fn captcha_message(lang: Lang, e: DeskError) -> String {
    if matches!(e, DeskError::Captcha(_)) {
        lang.t(
            "Die Sicherheitsprüfung ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.",
            "The security check failed. Please try again.",
        )
        .to_owned()
    } else {
        ApiError::from(e).message
    }
}

pub async fn post_comment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CommentForm>,
) -> Response {
    let lang = lang_of(&state, f.lang.clone(), &headers);
    let answer = form_answer(
        f.website.as_deref(),
        f.altcha.as_deref(),
        f.captcha_id.as_deref(),
        f.captcha_answer.as_deref(),
    );
    match add_comment(&state, ip, &id, &f.author, &f.text, answer).await {
        Ok(_) => Redirect::to(&format!(
            "/help/{id}?lang={}&posted=1#comments",
            lang.code()
        ))
        .into_response(),
        Err(DeskError::NotFound) => not_found(lang),
        Err(DeskError::RateLimited) => error_page(lang, DeskError::RateLimited),
        Err(e) => {
            let draft = Draft {
                author: f.author,
                text: f.text,
                error: Some(captcha_message(lang, e)),
            };
            article_page(&state, ip, lang, &id, &ArticleQuery::default(), draft).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct VoteForm {
    lang: Option<String>,
    helpful: Option<String>,
}

pub async fn post_vote(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<VoteForm>,
) -> Response {
    let lang = lang_of(&state, f.lang.clone(), &headers);
    let helpful = match f.helpful.as_deref() {
        Some("yes") => true,
        Some("no") => false,
        _ => return error_page(lang, ApiError::bad_request("helpful is yes or no")),
    };
    if let Err(e) = state.check_rate(Limit::HelpPost(ip)).await {
        return error_page(lang, e);
    }
    let article = match help::published_article(&state, &id).await {
        Ok(a) => a,
        Err(_) => return not_found(lang),
    };
    if let Err(e) = state.store.vote(&article.id, helpful).await {
        return error_page(lang, e);
    }
    Redirect::to(&format!("/help/{id}?lang={}&voted=1", lang.code())).into_response()
}

#[derive(Default)]
struct ContactDraft {
    name: String,
    email: String,
    text: String,
    error: Option<String>,
}

async fn contact_page(
    state: &AppState,
    ip: std::net::IpAddr,
    lang: Lang,
    draft: ContactDraft,
) -> Response {
    if let Err(e) = state.check_rate(Limit::Captcha(ip)).await {
        return error_page(lang, e);
    }
    let issued = state
        .help
        .captcha
        .issue(state.now_secs(), captcha::TTL_SECS);
    let status = if draft.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = document(
        lang,
        lang.t("Kontakt", "Contact"),
        head(true),
        html! {
            (header(lang, "/help/contact"))
            main #main.narrow {
                h1 { (lang.t("Schreiben Sie uns", "Write to us")) }
                p { (lang.t("Unser Assistent antwortet sofort, wenn er kann; sonst übernimmt jemand aus dem Team und antwortet per E-Mail.",
                            "Our assistant answers at once when it can; otherwise someone from the team takes over and answers by e-mail.")) }
                @if let Some(e) = &draft.error { p.error role="alert" { (e) } }
                form.contact-form method="post" action="/help/contact" {
                    input type="hidden" name="lang" value=(lang.code());
                    label for="name" { (lang.t("Ihr Name", "Your name")) }
                    input #name type="text" name="name" autocomplete="name" maxlength="200" required value=(draft.name);
                    label for="email" { (lang.t("Ihre E-Mail", "Your e-mail")) }
                    input #email type="email" name="email" autocomplete="email" maxlength="200" required value=(draft.email);
                    label for="text" { (lang.t("Ihre Nachricht", "Your message")) }
                    textarea #text name="text" rows="6" maxlength="10000" required { (draft.text) }
                    (captcha_fields(lang, &issued))
                    button type="submit" { (lang.t("Senden", "Send")) }
                }
            }
        },
    );
    (status, body).into_response()
}

pub async fn contact(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang, &headers);
    contact_page(&state, ip, lang, ContactDraft::default()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ContactForm {
    lang: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    text: String,
    website: Option<String>,
    altcha: Option<String>,
    captcha_id: Option<String>,
    captcha_answer: Option<String>,
}

pub async fn post_contact(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ContactForm>,
) -> Response {
    let lang = lang_of(&state, f.lang.clone(), &headers);
    let answer = form_answer(
        f.website.as_deref(),
        f.altcha.as_deref(),
        f.captcha_id.as_deref(),
        f.captcha_answer.as_deref(),
    );
    let started = match contact_submit(
        &state,
        ip,
        &f.name,
        &f.email,
        &f.text,
        Some(lang.code()),
        answer,
    )
    .await
    {
        Ok(s) => s,
        Err(DeskError::RateLimited) => return error_page(lang, DeskError::RateLimited),
        Err(e) => {
            let draft = ContactDraft {
                name: f.name,
                email: f.email,
                text: f.text,
                error: Some(captcha_message(lang, e)),
            };
            return contact_page(&state, ip, lang, draft).await;
        }
    };
    let c = &started.appended.conversation;
    let handed_off = c.state != desk::ConversationState::Bot;
    let answer = started
        .appended
        .messages
        .iter()
        .filter(|m| m.author == desk::Author::Bot)
        .map(|m| m.text.clone())
        .next_back();
    (
        StatusCode::CREATED,
        document(
            lang,
            lang.t("Nachricht gesendet", "Message sent"),
            head(false),
            html! {
                (header(lang, "/help/contact"))
                main #main.narrow {
                    h1 { (lang.t("Danke für Ihre Nachricht", "Thank you for your message")) }
                    @if handed_off {
                        p role="status" { (lang.t("Jemand aus unserem Team kümmert sich darum und antwortet Ihnen per E-Mail.",
                                                  "Someone from our team takes care of it and will answer you by e-mail.")) }
                    } @else if let Some(a) = &answer {
                        p { (lang.t("Unser Assistent antwortet:", "Our assistant answers:")) }
                        blockquote.bot-answer role="status" { (a) }
                        p { (lang.t("Hilft das nicht weiter? Schreiben Sie uns einfach noch einmal – dann übernimmt ein Mensch.",
                                    "Does that not help? Just write to us again – then a person takes over.")) }
                    }
                    p.small { (lang.t("Vorgangsnummer: ", "Reference: ")) code { (c.id.to_string()) } }
                }
            },
        ),
    )
        .into_response()
}
