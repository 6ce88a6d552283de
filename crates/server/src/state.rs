//! The state every request handler shares.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nlu::MachineTier;
use playbook::Playbook;
use store::Store;

use crate::error::{ApiError, ApiResult};
use crate::live::Hub;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub tier: Arc<MachineTier>,
    pub playbook: Arc<Playbook>,
    pub hub: Hub,
    pub limits: Option<RateLimits>,
    /// Argon2 hash of a random password, checked when an e-mail is unknown so that a login
    /// takes as long either way.
    pub dummy_hash: String,
    pub secure_cookies: bool,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        Self(Arc::new(inner))
    }
}

/// Rate limits on the public endpoints, per client address (and per conversation for messages).
pub struct RateLimits {
    pub new_conversation: DefaultKeyedRateLimiter<IpAddr>,
    pub message: DefaultKeyedRateLimiter<String>,
    pub login: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32, burst: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            new_conversation: RateLimiter::keyed(per_minute(30, 10)),
            message: RateLimiter::keyed(per_minute(60, 20)),
            login: RateLimiter::keyed(per_minute(10, 5)),
        }
    }
}

pub enum Limit<'a> {
    NewConversation(IpAddr),
    Message(&'a str),
    Login(IpAddr),
}

impl AppState {
    pub fn check_rate(&self, what: Limit<'_>) -> ApiResult<()> {
        let Some(limits) = &self.limits else {
            return Ok(());
        };
        let ok = match what {
            Limit::NewConversation(ip) => limits.new_conversation.check_key(&ip).is_ok(),
            Limit::Message(conv) => limits.message.check_key(&conv.to_owned()).is_ok(),
            Limit::Login(ip) => limits.login.check_key(&ip).is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::too_many_requests())
        }
    }
}
