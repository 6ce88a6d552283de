//! The help center's actions, without routing: an article saved (API and admin editor), a
//! reader's comment and a contact message taken in (API and the public pages). The API
//! handlers in `api::help` and the pages both call these, so both apply the same rules, limits
//! and CAPTCHA.

use desk::{ArticleId, Locale};
use store::{Article, Comment, Customer, NewArticle};

use crate::captcha::Answer;
use crate::flow;
use crate::limits::Limit;
use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_BODY_CHARS: usize = 100_000;

/// An article as an editor wrote it, before it is checked.
#[derive(Debug, Clone)]
pub struct ArticleDraft {
    pub locale: Option<String>,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub published: bool,
}

/// Checks the honeypot and the CAPTCHA, and uses the CAPTCHA up. Refusals store nothing.
pub async fn guard(state: &AppState, answer: DeskResult<Answer>) -> DeskResult<()> {
    let answer = answer?;
    state
        .help
        .captcha
        .verify(state.store.as_ref(), &answer, state.now_secs())
        .await
}

pub(crate) fn required(value: &str, field: &str, max: usize) -> DeskResult<String> {
    let Some(v) = desk::text::clean(value) else {
        return Err(DeskError::invalid(format!("{field} must not be empty")));
    };
    if v.chars().count() > max {
        return Err(DeskError::invalid(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(v)
}

fn optional(value: Option<&str>, field: &str, max: usize) -> DeskResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => required(v, field, max).map(Some),
        None => Ok(None),
    }
}

/// Validates and saves an article (API and admin editor).
pub async fn save_article(state: &AppState, id: &str, body: ArticleDraft) -> DeskResult<Article> {
    let id = ArticleId::parse(id).map_err(|why| DeskError::invalid(format!("the id {why}")))?;
    let locale = optional(body.locale.as_deref(), "locale", 16)?
        .map(|l| Locale::parse(&l).map_err(|why| DeskError::invalid(format!("locale {why}"))))
        .transpose()?;
    let article = NewArticle {
        id,
        locale,
        title: required(&body.title, "title", MAX_TITLE_CHARS)?,
        body: required(&body.body, "body", MAX_BODY_CHARS)?,
        category: optional(body.category.as_deref(), "category", MAX_NAME_CHARS)?,
        published: body.published,
    };
    Ok(state.store.save_article(article).await?)
}

/// Validates a comment and stores it as pending, once the CAPTCHA holds.
pub async fn add_comment(
    state: &AppState,
    ip: std::net::IpAddr,
    article_id: &str,
    author: &str,
    text: &str,
    answer: DeskResult<Answer>,
) -> DeskResult<Comment> {
    state.check_rate(Limit::HelpPost(ip)).await?;
    let article = super::published_article(state, article_id).await?;
    let author = required(author, "author", MAX_NAME_CHARS)?;
    let text = flow::check_text(text)?;
    guard(state, answer).await?;
    Ok(state.store.add_comment(&article.id, &author, &text).await?)
}

/// Validates a contact message and opens a conversation with it (triage answers or hands off).
pub async fn contact_submit(
    state: &AppState,
    ip: std::net::IpAddr,
    name: &str,
    email: &str,
    text: &str,
    locale: Option<&str>,
    answer: DeskResult<Answer>,
) -> DeskResult<flow::Started> {
    state.check_rate(Limit::HelpPost(ip)).await?;
    let name = required(name, "name", MAX_NAME_CHARS)?;
    let email = required(email, "email", MAX_NAME_CHARS)?;
    let email = desk::Email::parse(&email)
        .map_err(|why| DeskError::invalid(format!("email {why}")))?
        .into_string();
    let text = flow::check_text(text)?;
    guard(state, answer).await?;
    // The customer has no chat to come back to: the answer goes by mail.
    flow::start_on(
        state,
        flow::Opening {
            locale,
            customer: Customer {
                name: Some(name),
                email: Some(email),
            },
            channel: desk::Channel::Email,
            subject: None,
            first: Some(store::NewMessage::customer(text)),
        },
    )
    .await
}
