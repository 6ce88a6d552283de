//! The help center behind the login: comment moderation for agents (`/console/comments`) and
//! the article editor for admins (`/admin/articles`: create, edit, publish, unpublish), with
//! the console's cookie session and a CSRF token on every form.

use axum::extract::{Form, Path, Query, State};

use crate::extract::ClientIp;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use desk::Locale;
use maud::html;
use serde::Deserialize;
use store::CommentStatus;

use super::console::{admin_session, console_top_bar, error_response, head, require_console};
use super::layout::{document, Lang, LangQuery};
use crate::auth::FormCsrf;
use crate::error::ApiError;
use crate::help::actions::{save_article, ArticleDraft};
use crate::state::AppState;

fn lang_of(state: &AppState, lang: Option<String>, headers: &HeaderMap) -> Lang {
    Lang::pick(
        &LangQuery { lang },
        headers,
        state.playbook().default_locale(),
    )
}

pub async fn comments(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang, &headers);
    let (session, agent) = match require_console(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let pending = match state
        .store
        .comments(None, Some(CommentStatus::Pending))
        .await
    {
        Ok(c) => c,
        Err(e) => return error_response(lang, e),
    };
    document(
        lang,
        lang.t("Kommentare", "Comments"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/console/comments"))
            main #main {
                h1 { (lang.t("Kommentare zur Freigabe", "Comments awaiting approval")) }
                @if pending.is_empty() {
                    p { (lang.t("Keine offenen Kommentare.", "No pending comments.")) }
                } @else {
                    ul.moderation {
                        @for c in &pending {
                            li.pending-comment {
                                p { strong { (c.author) } " " (lang.t("zu", "on")) " " a href={"/help/" (c.article_id)} { (c.article_id) } }
                                p.comment-text { (c.text) }
                                div.actions {
                                    form method="post" action={"/console/comments/" (c.id) "/approve"} {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button type="submit" aria-label={(lang.t("Freigeben: Kommentar von ", "Approve: comment by ")) (c.author)} { (lang.t("Freigeben", "Approve")) }
                                    }
                                    form method="post" action={"/console/comments/" (c.id) "/reject"} {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button.secondary type="submit" aria-label={(lang.t("Ablehnen: Kommentar von ", "Reject: comment by ")) (c.author)} { (lang.t("Ablehnen", "Reject")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

async fn moderate(
    state: AppState,
    headers: HeaderMap,
    id: String,
    csrf: String,
    status: CommentStatus,
    ip: std::net::IpAddr,
) -> Response {
    let lang = lang_of(&state, None, &headers);
    let (session, moderator) = match require_console(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = FormCsrf::check(&session, &csrf) {
        return error_response(lang, e);
    }
    let Ok(id) = id.parse::<i64>() else {
        return error_response(lang, ApiError::not_found());
    };
    match state.store.set_comment_status(id, status).await {
        Ok(_) => {
            let action = match status {
                CommentStatus::Approved => "comment_approved",
                _ => "comment_rejected",
            };
            let target = format!("comment:{id}");
            crate::audit::record(&state, Some(moderator.id), action, target, Some(ip)).await;
            Redirect::to("/console/comments").into_response()
        }
        Err(e) => error_response(lang, e),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Response {
    moderate(state, headers, id, f.csrf, CommentStatus::Approved, ip).await
}

pub async fn reject(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Response {
    moderate(state, headers, id, f.csrf, CommentStatus::Rejected, ip).await
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    lang: Option<String>,
    id: Option<String>,
}

/// The article list (with helpfulness counts) and the editor for one article.
pub async fn articles(
    State(state): State<AppState>,
    Query(q): Query<EditQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&state, q.lang.clone(), &headers);
    editor(&state, &headers, lang, q.id.as_deref(), None, None).await
}

async fn editor(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    editing: Option<&str>,
    draft: Option<&ArticleForm>,
    problem: Option<String>,
) -> Response {
    let (session, agent) = match admin_session(state, headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let all = match state.store.articles(false).await {
        Ok(a) => a,
        Err(e) => return error_response(lang, e),
    };
    let mut counts = Vec::with_capacity(all.len());
    for a in &all {
        match state.store.helpfulness(&a.id).await {
            Ok(h) => counts.push(h),
            Err(e) => return error_response(lang, e),
        }
    }
    let current = editing.and_then(|id| all.iter().find(|a| a.id == id));
    let form = match (draft, current) {
        (Some(d), _) => ArticleForm {
            csrf: String::new(),
            ..d.clone()
        },
        (None, Some(a)) => ArticleForm {
            csrf: String::new(),
            id: a.id.to_string(),
            locale: a.locale.as_ref().map(Locale::to_string).unwrap_or_default(),
            title: a.title.clone(),
            body: a.body.clone(),
            category: a.category.clone().unwrap_or_default(),
            published: a.published.then(|| "on".into()),
        },
        (None, None) => ArticleForm::default(),
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = document(
        lang,
        lang.t("Artikel", "Articles"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/admin/articles"))
            main #main {
                h1 { (lang.t("Hilfe-Artikel", "Help articles")) }
                table {
                    caption { (lang.t("Alle Artikel, auch unveröffentlichte", "All articles, unpublished ones too")) }
                    thead { tr {
                        th scope="col" { (lang.t("Titel", "Title")) } th scope="col" { "Id" }
                        th scope="col" { (lang.t("Sprache", "Language")) } th scope="col" { (lang.t("Kategorie", "Category")) }
                        th scope="col" { (lang.t("Status", "Status")) } th scope="col" { (lang.t("Hilfreich ja / nein", "Helpful yes / no")) }
                        th scope="col" { (lang.t("Aktionen", "Actions")) }
                    } }
                    tbody {
                        @for (a, h) in all.iter().zip(&counts) {
                            tr {
                                td { (a.title) } td { code { (a.id) } }
                                td { (a.locale.as_deref().unwrap_or("–")) } td { (a.category.as_deref().unwrap_or("–")) }
                                td { @if a.published { (lang.t("veröffentlicht", "published")) } @else { (lang.t("Entwurf", "draft")) } }
                                td { (h.yes) " / " (h.no) }
                                td.actions {
                                    a href={"/admin/articles?id=" (a.id)} { (lang.t("Bearbeiten", "Edit")) }
                                    form method="post" action={"/admin/articles/" (a.id) "/publish"} {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @if a.published {
                                            input type="hidden" name="published" value="false";
                                            button.secondary type="submit" { (lang.t("Zurückziehen", "Unpublish")) }
                                        } @else {
                                            input type="hidden" name="published" value="true";
                                            button type="submit" { (lang.t("Veröffentlichen", "Publish")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h2 #editor { @if current.is_some() { (lang.t("Artikel bearbeiten", "Edit article")) } @else { (lang.t("Neuer Artikel", "New article")) } }
                @if let Some(p) = &problem { p.error role="alert" { (p) } }
                form method="post" action="/admin/articles" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="a-id" { (lang.t("Id (a–z, 0–9, _ und -)", "Id (a–z, 0–9, _ and -)")) }
                    input #a-id type="text" name="id" required pattern="[a-z0-9_\\-]{1,64}" value=(form.id);
                    label for="a-title" { (lang.t("Titel", "Title")) }
                    input #a-title type="text" name="title" required value=(form.title);
                    label for="a-locale" { (lang.t("Sprache (de, en; leer = alle)", "Language (de, en; empty = all)")) }
                    input #a-locale type="text" name="locale" value=(form.locale);
                    label for="a-category" { (lang.t("Kategorie", "Category")) }
                    input #a-category type="text" name="category" value=(form.category);
                    label for="a-body" { (lang.t("Text (Markdown, kein HTML)", "Text (Markdown, no HTML)")) }
                    textarea #a-body name="body" rows="12" required { (form.body) }
                    label.check for="a-published" {
                        input #a-published type="checkbox" name="published" checked[form.published.is_some()];
                        " " (lang.t("Veröffentlicht", "Published"))
                    }
                    button type="submit" { (lang.t("Speichern", "Save")) }
                }
            }
        },
    );
    (status, body).into_response()
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArticleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    category: String,
    published: Option<String>,
}

pub async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<ArticleForm>,
) -> Response {
    let lang = lang_of(&state, None, &headers);
    let (session, admin) = match admin_session(&state, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = FormCsrf::check(&session, &f.csrf) {
        return error_response(lang, e);
    }
    let body = ArticleDraft {
        locale: Some(f.locale.clone()),
        title: f.title.clone(),
        body: f.body.clone(),
        category: Some(f.category.clone()),
        published: f.published.is_some(),
    };
    match save_article(&state, f.id.trim(), body).await {
        Ok(a) => {
            let target = format!("article:{}", a.id);
            crate::audit::record(&state, Some(admin.id), "article_saved", target, Some(ip)).await;
            Redirect::to(&format!("/admin/articles?id={}", a.id)).into_response()
        }
        Err(e) => {
            editor(
                &state,
                &headers,
                lang,
                None,
                Some(&f),
                Some(crate::error::ApiError::from(e).message),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct PublishForm {
    csrf: String,
    published: String,
}

pub async fn publish(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(f): Form<PublishForm>,
) -> Response {
    let lang = lang_of(&state, None, &headers);
    let (session, admin) = match admin_session(&state, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = FormCsrf::check(&session, &f.csrf) {
        return error_response(lang, e);
    }
    let article = match state.store.article(&id).await {
        Ok(Some(a)) => a,
        Ok(None) => return error_response(lang, ApiError::not_found()),
        Err(e) => return error_response(lang, e),
    };
    let body = ArticleDraft {
        locale: article.locale.map(String::from),
        title: article.title,
        body: article.body,
        category: article.category,
        published: f.published == "true",
    };
    match save_article(&state, &id, body).await {
        Ok(a) => {
            let target = format!("article:{}", a.id);
            crate::audit::record(&state, Some(admin.id), "article_saved", target, Some(ip)).await;
            Redirect::to("/admin/articles").into_response()
        }
        Err(e) => error_response(lang, e),
    }
}
