//! Who is calling: passwords (argon2id), tokens (256-bit random, stored only as SHA-256),
//! bearer tokens for the API, cookie sessions with CSRF tokens for the console, and the
//! per-object rule of who may read or change a conversation.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use axum::http::{header, HeaderMap};
use desk::{Agent, ConversationState, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};
use store::{Conversation, Session, SessionKind};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "tandem_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long an API token or a console session lives.
pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;
const CONVERSATION_TOKEN_PREFIX: &str = "ct_";
const AGENT_TOKEN_PREFIX: &str = "at_";

/// 256 random bits, hex-encoded, with a prefix saying what the token opens.
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn new_conversation_token() -> String {
    new_token(CONVERSATION_TOKEN_PREFIX)
}

/// A new public id: the creation time in milliseconds, then 96 random bits. Ids are not secrets
/// (tokens are); time order keeps inserts at the end of the index instead of all over it.
pub fn new_id(prefix: &str, now_ms: i64) -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{prefix}{:012x}{}",
        now_ms.max(0) as u64 & 0xffff_ffff_ffff,
        hex::encode(bytes)
    )
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Failed logins one account may have: this many per quarter hour, and [`HOURLY_FAILURES`] per
/// hour; beyond them its logins are refused (429) until the window ends, whoever tries.
pub const QUARTER_HOUR_FAILURES: u32 = 5;
pub const HOURLY_FAILURES: u32 = 15;
const QUARTER_HOUR_MS: i64 = 15 * 60_000;
const HOUR_MS: i64 = 60 * 60_000;

/// The failure counters of an account, keyed by a hash of its e-mail (known or not, so a
/// refusal does not tell which accounts exist, and no address is kept in the counters).
fn failure_keys(email: &str) -> [(String, i64, u32); 2] {
    let who = token_hash(&email.trim().to_lowercase());
    [
        (
            format!("login-fail:{who}"),
            QUARTER_HOUR_MS,
            QUARTER_HOUR_FAILURES,
        ),
        (format!("login-fail-hour:{who}"), HOUR_MS, HOURLY_FAILURES),
    ]
}

/// Checks e-mail and password. Unknown e-mails cost as much time as wrong passwords. An
/// account with too many recent failures is refused before its password is checked.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    address: std::net::IpAddr,
) -> ApiResult<Agent> {
    let with_rate_limits = state.limits.is_some();
    if with_rate_limits {
        for (key, window, most) in failure_keys(email) {
            if state.store.hits(&key, window).await? >= most {
                crate::audit::record(state, None, "login_throttled", "account", Some(address))
                    .await;
                return Err(ApiError::too_many_requests());
            }
        }
    }
    let found = state.store.agent_credentials(email.trim()).await?;
    let (agent, ok) = match found {
        Some((agent, hash)) => {
            let password = password.to_owned();
            let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
                .await
                .unwrap_or(false);
            (Some(agent), ok)
        }
        None => {
            let dummy = state.dummy_hash.clone();
            let password = password.to_owned();
            let _ = tokio::task::spawn_blocking(move || verify_password(&password, &dummy)).await;
            (None, false)
        }
    };
    match (agent, ok) {
        (Some(agent), true) => {
            let target = crate::audit::agent(agent.id);
            crate::audit::record(state, Some(agent.id), "login", target, Some(address)).await;
            Ok(agent)
        }
        (agent, _) => {
            let target = agent
                .as_ref()
                .map_or("unknown account".to_owned(), |a| crate::audit::agent(a.id));
            crate::audit::record(state, None, "login_failed", target, Some(address)).await;
            // Neither the e-mail nor the password goes to the log.
            tracing::warn!(agent = agent.map(|a| a.id.get()), "failed login");
            if with_rate_limits {
                for (key, window, _) in failure_keys(email) {
                    state.store.count_hit(&key, window).await?;
                }
            }
            Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid_login",
                "e-mail or password is wrong",
            ))
        }
    }
}

/// Starts a session and returns its token (and CSRF token for the console).
pub async fn start_session(
    state: &AppState,
    agent: &Agent,
    kind: SessionKind,
) -> ApiResult<(String, Option<String>)> {
    let token = new_token(AGENT_TOKEN_PREFIX);
    let csrf = (kind == SessionKind::Console).then(|| new_token(""));
    state
        .store
        .create_session(Session {
            token_hash: token_hash(&token),
            agent: agent.id,
            kind,
            csrf: csrf.clone(),
            expires_at_ms: state.clock.now_ms() + SESSION_TTL_MS,
        })
        .await?;
    Ok((token, csrf))
}

/// Ends the API session whose bearer token `headers` carry; 401 without one.
pub async fn revoke_bearer(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let token = bearer(headers)
        .filter(|t| !t.starts_with(CONVERSATION_TOKEN_PREFIX))
        .ok_or_else(ApiError::unauthorized)?;
    let hash = token_hash(token);
    let session = state
        .store
        .session(&hash, state.clock.now_ms())
        .await?
        .filter(|s| s.kind == SessionKind::Api)
        .ok_or_else(ApiError::unauthorized)?;
    state.store.delete_session(&session.token_hash).await?;
    Ok(())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(headers);
    jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
}

/// The console session behind the request's cookie, if any and unexpired.
pub async fn console_session(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<(Session, Agent)>> {
    let Some(token) = session_cookie(headers) else {
        return Ok(None);
    };
    let Some(session) = state
        .store
        .session(&token_hash(&token), state.clock.now_ms())
        .await?
    else {
        return Ok(None);
    };
    if session.kind != SessionKind::Console {
        return Ok(None);
    }
    let Some(agent) = state.store.agent(session.agent).await? else {
        return Ok(None);
    };
    Ok(Some((session, agent)))
}

/// Constant-time comparison for secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Who is calling, before any per-object check.
pub enum Credential {
    Conversation(String),
    Agent(Agent),
}

/// Reads the caller's credential: a bearer token, or the console cookie (which needs the CSRF
/// header on state-changing requests).
pub async fn credential(
    state: &AppState,
    headers: &HeaderMap,
    changes_state: bool,
) -> ApiResult<Credential> {
    if let Some(token) = bearer(headers) {
        if token.starts_with(CONVERSATION_TOKEN_PREFIX) {
            return Ok(Credential::Conversation(token.to_owned()));
        }
        let session = state
            .store
            .session(&token_hash(token), state.clock.now_ms())
            .await?
            .filter(|s| s.kind == SessionKind::Api)
            .ok_or_else(ApiError::unauthorized)?;
        let agent = state
            .store
            .agent(session.agent)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        return Ok(Credential::Agent(agent));
    }
    let (session, agent) = console_session(state, headers)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if changes_state {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let expected = session.csrf.as_deref().unwrap_or("");
        if expected.is_empty() || !same_secret(sent, expected) {
            return Err(ApiError::forbidden("missing or wrong CSRF token"));
        }
    }
    Ok(Credential::Agent(agent))
}

/// An authenticated agent, as an extractor: a handler that takes one cannot run for anyone else.
/// A bearer API token, or the console cookie with the CSRF header on every request whose method
/// changes state (anything but GET, HEAD and OPTIONS).
pub struct SignedIn(pub Agent);

/// An authenticated admin, as an extractor (see [`SignedIn`]).
pub struct Admin(pub Agent);

/// Whether a request of this method may change state, so that a console cookie needs its CSRF
/// header.
fn changes_state(method: &axum::http::Method) -> bool {
    !method.is_safe()
}

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        agent(state, &parts.headers, changes_state(&parts.method))
            .await
            .map(SignedIn)
    }
}

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        admin(state, &parts.headers, changes_state(&parts.method))
            .await
            .map(Admin)
    }
}

/// The calling agent, for agent endpoints.
pub async fn agent(state: &AppState, headers: &HeaderMap, changes_state: bool) -> ApiResult<Agent> {
    match credential(state, headers, changes_state).await? {
        Credential::Agent(agent) => Ok(agent),
        Credential::Conversation(_) => Err(ApiError::forbidden("this needs an agent token")),
    }
}

pub async fn admin(state: &AppState, headers: &HeaderMap, changes_state: bool) -> ApiResult<Agent> {
    let agent = agent(state, headers, changes_state).await?;
    if agent.role != Role::Admin {
        return Err(ApiError::forbidden("this needs an admin"));
    }
    Ok(agent)
}

/// Who is acting on one conversation.
pub enum Access {
    Customer,
    Agent(Agent),
}

/// What the caller wants to do with a conversation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Read,
    Write,
}

/// Marker types for [`Opened`]: what the caller wants to do with the conversation.
pub struct Read;
pub struct Write;

/// The intent a marker stands for.
pub trait AccessIntent {
    const INTENT: Intent;
}
impl AccessIntent for Read {
    const INTENT: Intent = Intent::Read;
}
impl AccessIntent for Write {
    const INTENT: Intent = Intent::Write;
}

/// The conversation of the request's `{id}`, opened for reading or writing by a caller who may
/// (see [`conversation_access`]), as an extractor: a handler that takes an `Opened<Write>`
/// cannot run for a caller who may not write to that conversation. On a state-changing method
/// a console cookie needs its CSRF header.
pub struct Opened<K> {
    pub conversation: Conversation,
    pub access: Access,
    _intent: std::marker::PhantomData<K>,
}

impl<K> Opened<K> {
    pub fn into_parts(self) -> (Conversation, Access) {
        (self.conversation, self.access)
    }
}

impl<K: AccessIntent + Send> axum::extract::FromRequestParts<AppState> for Opened<K> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        // By name: a route may have more parameters after the conversation's `{id}`.
        let axum::extract::Path(params) = axum::extract::Path::<
            std::collections::HashMap<String, String>,
        >::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found())?;
        let id = params.get("id").ok_or_else(ApiError::not_found)?;
        let csrf_header = changes_state(&parts.method);
        let (conversation, access) =
            conversation_access_checked(state, &parts.headers, id, K::INTENT, csrf_header).await?;
        Ok(Opened {
            conversation,
            access,
            _intent: std::marker::PhantomData,
        })
    }
}

/// Loads a conversation and checks the caller may `intent` it. A conversation token opens its
/// own conversation and nothing else; an agent reads the queue and what is assigned to them and
/// writes only to the latter; an admin may do everything.
pub async fn conversation_access(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    intent: Intent,
) -> ApiResult<(Conversation, Access)> {
    conversation_access_checked(state, headers, id, intent, intent == Intent::Write).await
}

/// Proof that a console form's own CSRF token (the hidden `csrf` field) matched the session's:
/// only [`FormCsrf::check`] makes one, so a form handler cannot skip the check and still open a
/// conversation for writing.
pub struct FormCsrf(());

impl FormCsrf {
    pub fn check(session: &Session, sent: &str) -> ApiResult<FormCsrf> {
        match &session.csrf {
            Some(expected) if same_secret(expected, sent) => Ok(FormCsrf(())),
            _ => Err(ApiError::forbidden("missing or wrong CSRF token")),
        }
    }
}

/// As [`conversation_access`], for a console form whose CSRF token came in its body and was
/// checked (`proof`).
pub async fn conversation_access_by_form(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    intent: Intent,
    _proof: &FormCsrf,
) -> ApiResult<(Conversation, Access)> {
    conversation_access_checked(state, headers, id, intent, false).await
}

/// The rule of [`conversation_access`]; `csrf_header`: a console cookie needs the CSRF header.
async fn conversation_access_checked(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    intent: Intent,
    csrf_header: bool,
) -> ApiResult<(Conversation, Access)> {
    let id = desk::ConversationId::parse(id).ok_or_else(ApiError::not_found)?;
    let credential = credential(state, headers, csrf_header).await?;
    let conversation = state
        .store
        .conversation(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match credential {
        Credential::Conversation(token) => {
            if same_secret(&token_hash(&token), &conversation.token_hash) {
                Ok((conversation, Access::Customer))
            } else {
                // Same answer as for an unknown id: a token reveals no other conversation.
                Err(ApiError::not_found())
            }
        }
        Credential::Agent(agent) => {
            let mine = conversation
                .assignee
                .as_ref()
                .is_some_and(|a| a.id == agent.id);
            let allowed = agent.role == Role::Admin
                || mine
                || (intent == Intent::Read && conversation.state == ConversationState::Queued);
            if allowed {
                Ok((conversation, Access::Agent(agent)))
            } else {
                Err(ApiError::forbidden(
                    "this conversation is not assigned to you",
                ))
            }
        }
    }
}
