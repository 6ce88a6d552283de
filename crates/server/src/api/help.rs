//! Help-center endpoints: the CAPTCHA, published articles, comments (public, CAPTCHA-guarded;
//! moderated by agents), helpfulness votes, the contact form, and the admin's article upsert.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use store::{Article, Comment, CommentStatus};
use utoipa::ToSchema;

use crate::auth::{self, Admin, SignedIn};
use crate::captcha::{self, Answer, Issued};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::extract::ClientIp;
use crate::help;
use crate::help::actions::{add_comment, contact_submit, save_article, ArticleDraft};
use crate::limits::Limit;
use crate::service::DeskResult;
use crate::state::AppState;

/// The CAPTCHA part of a public form: `"captcha": {"id", "answer"}` (the math answer, as a
/// number or a string) or the ALTCHA widget's payload, as `"altcha": "<base64>"` (also accepted
/// as `"captcha": {"altcha": …}` or `"captcha": "<base64>"`), plus the honeypot (`website`),
/// which people leave empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CaptchaFields {
    #[schema(value_type = Object)]
    pub captcha: Option<serde_json::Value>,
    /// base64 of the ALTCHA payload JSON `{algorithm, challenge, number, salt, signature}`.
    pub altcha: Option<String>,
    /// Honeypot: must be absent or empty.
    pub website: Option<String>,
}

fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl CaptchaFields {
    fn answer(&self) -> DeskResult<Answer> {
        if self
            .website
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
        {
            return Err(captcha::invalid("this looks automated"));
        }
        let mut altcha = self.altcha.clone();
        let (mut id, mut answer) = (None, None);
        match &self.captcha {
            Some(serde_json::Value::Object(o)) => {
                if altcha.is_none() {
                    altcha = o.get("altcha").and_then(text_of);
                }
                id = o.get("id").and_then(text_of);
                answer = o.get("answer").and_then(text_of);
            }
            Some(serde_json::Value::String(s)) if altcha.is_none() => altcha = Some(s.clone()),
            _ => {}
        }
        captcha::answer_of(altcha.as_deref(), id.as_deref(), answer.as_deref())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewComment {
    pub author: String,
    pub text: String,
    #[serde(flatten)]
    pub guard: CaptchaFields,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentCreated {
    pub id: i64,
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub article_id: String,
    pub author: String,
    pub text: String,
    pub status: String,
    pub created_at: String,
}

impl From<Comment> for CommentOut {
    fn from(c: Comment) -> Self {
        Self {
            id: c.id,
            article_id: c.article_id,
            author: c.author,
            text: c.text,
            status: c.status.as_str().into(),
            created_at: crate::wire::rfc3339(c.created_at_ms),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub comments: Vec<CommentOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    #[schema(value_type = String, example = "returns")]
    pub id: desk::ArticleId,
    #[schema(value_type = Option<String>, example = "de")]
    pub locale: Option<desk::Locale>,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category: Option<String>,
    pub updated_at: String,
}

impl From<Article> for ArticleOut {
    fn from(a: Article) -> Self {
        Self {
            id: a.id,
            locale: a.locale,
            title: a.title,
            body: a.body,
            category: a.category,
            updated_at: crate::wire::rfc3339(a.updated_at_ms),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub articles: Vec<ArticleOut>,
}

#[derive(Debug, Deserialize)]
pub struct ArticleQuery {
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ArticleIn {
    pub locale: Option<String>,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    #[serde(default)]
    pub published: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Vote {
    pub helpful: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactIn {
    pub name: String,
    pub email: String,
    pub text: String,
    pub locale: Option<String>,
    #[serde(flatten)]
    pub guard: CaptchaFields,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactCreated {
    pub conversation_id: String,
}

/// A fresh CAPTCHA: a math question and an ALTCHA proof-of-work challenge.
#[utoipa::path(get, path = "/api/v1/captcha",
    responses((status = 200, body = Issued), (status = 429)))]
pub async fn issue(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
) -> ApiResult<Json<Issued>> {
    state.check_rate(Limit::Captcha(ip)).await?;
    Ok(Json(
        state
            .help
            .captcha
            .issue(state.now_secs(), captcha::TTL_SECS),
    ))
}

/// The published articles (optionally matching `q`). Unpublished articles never appear.
#[utoipa::path(get, path = "/api/v1/articles", params(("q" = Option<String>, Query)),
    responses((status = 200, body = ArticleList)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ArticleQuery>,
) -> ApiResult<Json<ArticleList>> {
    let mut articles = state.store.articles(true).await?;
    if let Some(q) = q.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let ids = state.help.search(&articles, q, 20);
        articles = ids
            .iter()
            .filter_map(|id| articles.iter().find(|a| &a.id == id).cloned())
            .collect();
    }
    Ok(Json(ArticleList {
        articles: articles.into_iter().map(ArticleOut::from).collect(),
    }))
}

/// One published article; an unpublished one is 404, like a missing one.
#[utoipa::path(get, path = "/api/v1/articles/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ArticleOut), (status = 404)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ArticleOut>> {
    Ok(Json(help::published_article(&state, &id).await?.into()))
}

/// Creates or replaces an article (admins).
#[utoipa::path(put, path = "/api/v1/articles/{id}", params(("id" = String, Path)),
    request_body = ArticleIn,
    responses((status = 200, body = ArticleOut), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<ArticleIn>,
) -> ApiResult<Json<serde_json::Value>> {
    let draft = ArticleDraft {
        locale: body.locale,
        title: body.title,
        body: body.body,
        category: body.category,
        published: body.published,
    };
    let saved = save_article(&state, &id, draft).await?;
    let target = format!("article:{}", saved.id);
    crate::audit::record(&state, Some(admin.id), "article_saved", target, Some(ip)).await;
    let published = saved.published;
    let mut out =
        serde_json::to_value(ArticleOut::from(saved)).map_err(|_| ApiError::internal())?;
    out["published"] = published.into();
    Ok(Json(out))
}

/// A reader's comment: stored as pending until an agent approves it.
#[utoipa::path(post, path = "/api/v1/articles/{id}/comments", params(("id" = String, Path)),
    request_body = NewComment,
    responses((status = 201, body = CommentCreated), (status = 400), (status = 404), (status = 429)))]
pub async fn comment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewComment>,
) -> ApiResult<(StatusCode, Json<CommentCreated>)> {
    let c = add_comment(
        &state,
        ip,
        &id,
        &body.author,
        &body.text,
        body.guard.answer(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CommentCreated {
            id: c.id,
            status: c.status.as_str().into(),
        }),
    ))
}

/// "Was this helpful?"
#[utoipa::path(post, path = "/api/v1/articles/{id}/helpful", params(("id" = String, Path)),
    request_body = Vote, responses((status = 204), (status = 404), (status = 429)))]
pub async fn vote(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Vote>,
) -> ApiResult<StatusCode> {
    state.check_rate(Limit::HelpPost(ip)).await?;
    let article = help::published_article(&state, &id).await?;
    state.store.vote(&article.id, body.helpful).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The contact form: the message becomes a conversation that goes through triage.
#[utoipa::path(post, path = "/api/v1/contact", request_body = ContactIn,
    responses((status = 201, body = ContactCreated), (status = 400), (status = 413), (status = 429)))]
pub async fn contact(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ContactIn>,
) -> ApiResult<(StatusCode, Json<ContactCreated>)> {
    let started = contact_submit(
        &state,
        ip,
        &body.name,
        &body.email,
        &body.text,
        body.locale.as_deref(),
        body.guard.answer(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ContactCreated {
            conversation_id: started.appended.conversation.id.to_string(),
        }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct StatusQuery {
    pub status: Option<String>,
}

/// Comments for moderation (agents): pending ones by default.
#[utoipa::path(get, path = "/api/v1/comments", params(("status" = Option<String>, Query)),
    responses((status = 200, body = CommentList), (status = 401)), security(("bearer" = [])))]
pub async fn comments(
    State(state): State<AppState>,
    Query(q): Query<StatusQuery>,
    SignedIn(_agent): SignedIn,
) -> ApiResult<Json<CommentList>> {
    let status = match q.status.as_deref() {
        None => CommentStatus::Pending,
        Some(s) => CommentStatus::parse(s)
            .ok_or_else(|| ApiError::bad_request("status is pending, approved or rejected"))?,
    };
    let list = state.store.comments(None, Some(status)).await?;
    Ok(Json(CommentList {
        comments: list.into_iter().map(CommentOut::from).collect(),
    }))
}

async fn moderate(
    state: AppState,
    id: &str,
    headers: &HeaderMap,
    status: CommentStatus,
    ip: std::net::IpAddr,
) -> ApiResult<Json<CommentOut>> {
    let moderator = auth::agent(&state, headers, true).await?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let comment = state.store.set_comment_status(id, status).await?;
    let action = match status {
        CommentStatus::Approved => "comment_approved",
        _ => "comment_rejected",
    };
    let target = format!("comment:{id}");
    crate::audit::record(&state, Some(moderator.id), action, target, Some(ip)).await;
    Ok(Json(comment.into()))
}

/// Approves a comment: it becomes public (escaped).
#[utoipa::path(post, path = "/api/v1/comments/{id}/approve", params(("id" = String, Path)),
    responses((status = 200, body = CommentOut), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<CommentOut>> {
    moderate(state, &id, &headers, CommentStatus::Approved, ip).await
}

/// Rejects a comment: it never becomes public.
#[utoipa::path(post, path = "/api/v1/comments/{id}/reject", params(("id" = String, Path)),
    responses((status = 200, body = CommentOut), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<CommentOut>> {
    moderate(state, &id, &headers, CommentStatus::Rejected, ip).await
}
