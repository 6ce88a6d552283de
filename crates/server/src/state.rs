//! The state every request handler shares.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::ops::Deref;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use nlu::batcher::Batcher;
use nlu::MachineTier;
use playbook::Playbook;
use store::Store;

use crate::error::{ApiError, ApiResult};
use crate::live::Hub;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    /// The machine tier: read it with [`Machine::tier`], once per message.
    pub machine: Machine,
    pub playbook: Arc<Playbook>,
    pub hub: Hub,
    pub limits: Option<RateLimits>,
    /// Argon2 hash of a random password, checked when an e-mail is unknown so that a login
    /// takes as long either way.
    pub dummy_hash: String,
    pub secure_cookies: bool,
    /// The routing rules: defaults with the playbook's `[routing]` overrides.
    pub rules: desk::routing::Rules,
    /// The desk's clock for time-based routing (relaxation, first-response timeout).
    pub clock: Clock,
    /// How long an assigned agent has for a first reply before the conversation moves on;
    /// `None` turns the timeout off.
    pub first_response_timeout_ms: Option<i64>,
    /// The help center: CAPTCHA, search index, public rate limits, trusted proxies.
    pub help: crate::help::HelpCenter,
}

/// The machine tier the desk runs now. It can be replaced while the desk serves (the sentence
/// encoder joins once its model is fetched in the background), so readers take the current one
/// with [`Machine::tier`] — a lock-free load and one `Arc` clone; no lock is held, across an
/// `await` or otherwise — and keep it for the message they handle.
pub struct Machine {
    tier: ArcSwap<MachineTier>,
    /// The batcher in front of the tier's encoder, for its counters.
    encoder: ArcSwapOption<Batcher>,
}

impl Machine {
    pub fn new(tier: MachineTier, encoder: Option<Arc<Batcher>>) -> Self {
        Self {
            tier: ArcSwap::from_pointee(tier),
            encoder: ArcSwapOption::new(encoder),
        }
    }

    /// The tier to use for one message (or one request).
    pub fn tier(&self) -> Arc<MachineTier> {
        self.tier.load_full()
    }

    /// Put `tier` in place: messages that arrive from now on use it, those already being
    /// handled finish with the one they took.
    pub fn replace(&self, tier: MachineTier, encoder: Option<Arc<Batcher>>) {
        self.encoder.store(encoder);
        self.tier.store(Arc::new(tier));
    }

    /// Requests the encoder refused for its latency budget (0 without an encoder).
    pub fn encoder_skipped(&self) -> u64 {
        self.encoder.load().as_ref().map_or(0, |b| b.skipped())
    }
}

/// Wall-clock time in ms, plus an offset that tests advance instead of sleeping.
#[derive(Default)]
pub struct Clock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        wall + self.offset_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves the desk's time forward (tests).
    pub fn advance(&self, ms: i64) {
        self.offset_ms
            .fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
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

    /// Train a machine tier with `encoder` as its second stage on this desk's playbook and put
    /// it in place of the running one. Blocking (it embeds every example of the playbook: seconds
    /// of CPU): call it from a thread of its own or `spawn_blocking`.
    pub fn add_encoder(
        &self,
        encoder: Arc<Batcher>,
    ) -> Result<nlu::cascade::CascadeReport, nlu::NluError> {
        let embedder: Arc<dyn nlu::embedding::Embedder> = encoder.clone();
        let (tier, report) =
            MachineTier::train_with(&self.playbook, Some(embedder), &mut |_, _| {})?;
        self.machine.replace(tier, Some(encoder));
        Ok(report)
    }
}

/// Rate limits on the public endpoints, per client address (and per conversation for messages).
/// One node counts in memory (GCRA, `governor`); when several nodes share the store
/// ([`store::Store::shared`]) the counts live in the store as fixed windows, so a client gets the
/// same allowance however the load balancer spreads its requests.
pub struct RateLimits {
    pub new_conversation: DefaultKeyedRateLimiter<IpAddr>,
    pub message: DefaultKeyedRateLimiter<String>,
    pub login: DefaultKeyedRateLimiter<IpAddr>,
}

/// A limit: `per_minute` on average, `burst` at once.
#[derive(Clone, Copy)]
struct Rule {
    per_minute: u32,
    burst: u32,
}

const NEW_CONVERSATION: Rule = Rule {
    per_minute: 30,
    burst: 10,
};
const MESSAGE: Rule = Rule {
    per_minute: 60,
    burst: 20,
};
const LOGIN: Rule = Rule {
    per_minute: 10,
    burst: 5,
};

impl Rule {
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

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            new_conversation: RateLimiter::keyed(NEW_CONVERSATION.quota()),
            message: RateLimiter::keyed(MESSAGE.quota()),
            login: RateLimiter::keyed(LOGIN.quota()),
        }
    }
}

pub enum Limit<'a> {
    NewConversation(IpAddr),
    Message(&'a str),
    Login(IpAddr),
}

impl Limit<'_> {
    fn rule_and_key(&self) -> (Rule, String) {
        match self {
            Limit::NewConversation(ip) => (NEW_CONVERSATION, format!("conversation:{ip}")),
            Limit::Message(conv) => (MESSAGE, format!("message:{conv}")),
            Limit::Login(ip) => (LOGIN, format!("login:{ip}")),
        }
    }
}

impl AppState {
    pub async fn check_rate(&self, what: Limit<'_>) -> ApiResult<()> {
        let Some(limits) = &self.limits else {
            return Ok(());
        };
        let ok = if self.store.shared() {
            let (rule, key) = what.rule_and_key();
            self.store.count_hit(&key, rule.window_ms()).await? <= rule.burst
        } else {
            match what {
                Limit::NewConversation(ip) => limits.new_conversation.check_key(&ip).is_ok(),
                Limit::Message(conv) => limits.message.check_key(&conv.to_owned()).is_ok(),
                Limit::Login(ip) => limits.login.check_key(&ip).is_ok(),
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::too_many_requests())
        }
    }
}
