//! Rate limits, per client address (the [`crate::extract::ClientIp`] key) or per conversation:
//! one mechanism for the desk's API, the console's login and the help center.
//!
//! One node counts in memory (GCRA, `governor`); when several nodes share the store
//! ([`store::Store::shared`]) the counts live in the store as fixed windows, so a client gets the
//! same allowance however the load balancer spreads its requests.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

/// What is being limited, and whose.
pub enum Limit<'a> {
    /// Opening a conversation, per address.
    NewConversation(IpAddr),
    /// A customer message, per conversation.
    Message(&'a str),
    /// A login attempt (API or console), per address: generous, so that a whole office behind
    /// one address can sign in at nine; each account's failures are throttled apart
    /// (`auth::login`).
    Login(IpAddr),
    /// A help-center CAPTCHA (`GET /api/v1/captcha` and the form pages that embed one).
    Captcha(IpAddr),
    /// A help-center post: comment, contact message, vote.
    HelpPost(IpAddr),
    /// A customer's rating, per conversation.
    Rating(&'a str),
    /// A typing signal, per conversation (both sides together).
    Typing(&'a str),
}

/// A limit: `per_minute` on average, `burst` at once.
#[derive(Clone, Copy)]
struct Rule {
    per_minute: u32,
    burst: u32,
}

const NEW_CONVERSATION: Rule = Rule::new(30, 10);
const MESSAGE: Rule = Rule::new(60, 20);
const LOGIN: Rule = Rule::new(60, 30);
const CAPTCHA: Rule = Rule::new(60, 60);
const HELP_POST: Rule = Rule::new(30, 30);
const RATING: Rule = Rule::new(5, 5);
const TYPING: Rule = Rule::new(60, 20);

impl Rule {
    const fn new(per_minute: u32, burst: u32) -> Self {
        Self { per_minute, burst }
    }

    fn quota(self) -> Quota {
        Quota::per_minute(NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN))
    }

    /// The fixed window with the same burst and the same average rate: `burst` hits per the
    /// time the in-memory limiter takes to refill a whole burst.
    fn window_ms(self) -> i64 {
        i64::from(self.burst) * 60_000 / i64::from(self.per_minute.max(1))
    }
}

impl Limit<'_> {
    /// The rule, and the key the shared store counts under (kept stable across versions: nodes
    /// of two versions share the counts during a rolling upgrade).
    fn rule_and_key(&self) -> (Rule, String) {
        match self {
            Limit::NewConversation(ip) => (NEW_CONVERSATION, format!("conversation:{ip}")),
            Limit::Message(conv) => (MESSAGE, format!("message:{conv}")),
            Limit::Login(ip) => (LOGIN, format!("login:{ip}")),
            Limit::Captcha(ip) => (CAPTCHA, format!("help-captcha:{ip}")),
            Limit::HelpPost(ip) => (HELP_POST, format!("help-post:{ip}")),
            Limit::Rating(conv) => (RATING, format!("rating:{conv}")),
            Limit::Typing(conv) => (TYPING, format!("typing:{conv}")),
        }
    }
}

/// The in-memory limiters of one node.
pub struct RateLimits {
    new_conversation: DefaultKeyedRateLimiter<IpAddr>,
    message: DefaultKeyedRateLimiter<String>,
    login: DefaultKeyedRateLimiter<IpAddr>,
    captcha: DefaultKeyedRateLimiter<IpAddr>,
    help_post: DefaultKeyedRateLimiter<IpAddr>,
    rating: DefaultKeyedRateLimiter<String>,
    typing: DefaultKeyedRateLimiter<String>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            new_conversation: RateLimiter::keyed(NEW_CONVERSATION.quota()),
            message: RateLimiter::keyed(MESSAGE.quota()),
            login: RateLimiter::keyed(LOGIN.quota()),
            captcha: RateLimiter::keyed(CAPTCHA.quota()),
            help_post: RateLimiter::keyed(HELP_POST.quota()),
            rating: RateLimiter::keyed(RATING.quota()),
            typing: RateLimiter::keyed(TYPING.quota()),
        }
    }
}

impl RateLimits {
    fn allows(&self, what: &Limit<'_>) -> bool {
        match what {
            Limit::NewConversation(ip) => self.new_conversation.check_key(ip).is_ok(),
            Limit::Message(conv) => self.message.check_key(&(*conv).to_owned()).is_ok(),
            Limit::Login(ip) => self.login.check_key(ip).is_ok(),
            Limit::Captcha(ip) => self.captcha.check_key(ip).is_ok(),
            Limit::HelpPost(ip) => self.help_post.check_key(ip).is_ok(),
            Limit::Rating(conv) => self.rating.check_key(&(*conv).to_owned()).is_ok(),
            Limit::Typing(conv) => self.typing.check_key(&(*conv).to_owned()).is_ok(),
        }
    }
}

impl AppState {
    /// Counts one request against its limit; `429 too_many_requests` when it is spent. Without
    /// rate limits (`--no-rate-limits`, tests) everything passes.
    pub async fn check_rate(&self, what: Limit<'_>) -> DeskResult<()> {
        let Some(limits) = &self.limits else {
            return Ok(());
        };
        let ok = if self.store.shared() {
            let (rule, key) = what.rule_and_key();
            self.store.count_hit(&key, rule.window_ms()).await? <= rule.burst
        } else {
            limits.allows(&what)
        };
        if ok {
            Ok(())
        } else {
            Err(DeskError::RateLimited)
        }
    }
}
