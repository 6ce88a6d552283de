//! The state every request handler shares.

use std::ops::Deref;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use nlu::batcher::Batcher;
use nlu::MachineTier;
use playbook::Playbook;
use store::Store;

use crate::limits::RateLimits;
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
    pub clock: store::Clock,
    /// How long an assigned agent has for a first reply before the conversation moves on;
    /// `None` turns the timeout off.
    pub first_response_timeout_ms: Option<i64>,
    /// The help center: CAPTCHA, search index, public rate limits, trusted proxies.
    pub help: crate::help::HelpCenter,
    /// E-mail in and out, when configured.
    pub mail: Option<Arc<crate::mail::Mail>>,
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
