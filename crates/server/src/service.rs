//! The desk's actions without HTTP: what the conversation flow (`flow`) and the team's
//! actions (`team`) answer when they cannot do what was asked. API handlers and pages both call
//! those modules; `error.rs` maps a [`DeskError`] to HTTP in one place (`From<DeskError> for
//! ApiError`), and pages show the same message in their language.

use store::StoreError;

/// Why a desk action was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The input breaks a rule; the message says which, for people.
    #[error("{0}")]
    Invalid(String),
    /// A message text longer than the desk accepts.
    #[error("text is longer than {0} characters")]
    TooLong(usize),
    /// What the action needs is not there (or not visible to the caller).
    #[error("no such resource")]
    NotFound,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A rate limit is spent (see `limits`).
    #[error("too many requests")]
    RateLimited,
    /// The CAPTCHA answer is missing, wrong, expired or used; the message says which.
    #[error("{0}")]
    Captcha(String),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something of ours failed (a task, an identifier): logged, never shown in detail.
    #[error("internal error")]
    Internal,
}

impl DeskError {
    pub fn invalid(message: impl Into<String>) -> Self {
        DeskError::Invalid(message.into())
    }
}

pub type DeskResult<T> = Result<T, DeskError>;
