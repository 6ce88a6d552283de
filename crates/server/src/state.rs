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
    /// The machine tier with the playbook version it was trained on: read it with
    /// [`Machine::now`] (or [`Machine::tier`]), once per message.
    pub machine: Machine,
    /// Retrains the machine tier when the playbook changes (`teach`).
    pub teacher: crate::teach::Teacher,
    pub hub: Hub,
    pub limits: Option<RateLimits>,
    /// Argon2 hash of a random password, checked when an e-mail is unknown so that a login
    /// takes as long either way.
    pub dummy_hash: String,
    pub secure_cookies: bool,
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

/// One playbook version as the desk answers with it: the playbook, the machine tier trained on
/// it and the routing rules it sets. They change together, so a message never meets an intent
/// its playbook does not know.
pub struct Taught {
    pub version: i64,
    pub playbook: Arc<Playbook>,
    pub tier: Arc<MachineTier>,
    /// The routing rules: defaults with the playbook's `[routing]` overrides.
    pub rules: Arc<desk::routing::Rules>,
}

impl Taught {
    pub fn new(version: i64, playbook: Playbook, tier: MachineTier) -> Self {
        Self {
            version,
            rules: Arc::new(desk::routing::Rules::from_playbook(&playbook)),
            playbook: Arc::new(playbook),
            tier: Arc::new(tier),
        }
    }
}

/// The machine tier the desk runs now. It is replaced while the desk serves (a new playbook
/// version is trained, or the sentence encoder joins once its model is fetched), so readers take
/// the current one with [`Machine::now`] — a lock-free load and one `Arc` clone; no lock is
/// held, across an `await` or otherwise — and keep it for the message they handle.
pub struct Machine {
    now: ArcSwap<Taught>,
    /// The batcher in front of the tier's encoder, for its counters and the next training.
    encoder: ArcSwapOption<Batcher>,
    /// Held while a tier is trained to replace this one, so trainings never overtake each other.
    training: std::sync::Mutex<()>,
    /// The encoder's vectors of lessons' questions, for grouping suggestions.
    pub vectors: crate::suggestions::Vectors,
    /// The encoder's vectors of the texts the last training embedded, to seed the next.
    kept: std::sync::Mutex<nlu::embedding::Kept>,
}

/// Trains `playbook`, with `encoder` (if any) as the cascade's second stage, embedding only the
/// texts `seed` has no vector for. Blocking. Returns the vectors of every text it embedded or
/// looked up, to seed the next training (the same `seed` when training failed).
pub fn train(
    playbook: &Playbook,
    encoder: Option<&Arc<Batcher>>,
    seed: nlu::embedding::Kept,
    progress: &mut dyn FnMut(usize, usize),
) -> (
    Result<(MachineTier, nlu::cascade::CascadeReport), nlu::NluError>,
    nlu::embedding::Kept,
) {
    let Some(encoder) = encoder else {
        return (MachineTier::train_with(playbook, None, progress), seed);
    };
    let remembering = Arc::new(nlu::embedding::Remembering::new(
        encoder.clone(),
        Arc::new(nlu::batcher::Patient(encoder.clone())),
        seed.clone(),
    ));
    let trained = MachineTier::train_with(playbook, Some(remembering.clone()), progress);
    let kept = remembering.finish();
    match trained {
        Ok(t) => (Ok(t), kept),
        Err(e) => (Err(e), seed),
    }
}

impl Machine {
    pub fn new(taught: Taught, encoder: Option<Arc<Batcher>>) -> Self {
        Self {
            now: ArcSwap::from_pointee(taught),
            encoder: ArcSwapOption::new(encoder),
            training: std::sync::Mutex::new(()),
            vectors: crate::suggestions::Vectors::default(),
            kept: std::sync::Mutex::default(),
        }
    }

    /// One training at a time: hold this while training a replacement.
    pub fn training(&self) -> std::sync::MutexGuard<'_, ()> {
        self.training
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Trains `playbook` with `encoder` like [`train`], seeded with the vectors of the last
    /// training here, and keeps this training's vectors for the next. Blocking.
    pub fn train(
        &self,
        playbook: &Playbook,
        encoder: Option<&Arc<Batcher>>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(MachineTier, nlu::cascade::CascadeReport), nlu::NluError> {
        let lock = || {
            self.kept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let seed = lock().clone();
        let (trained, kept) = train(playbook, encoder, seed, progress);
        *lock() = kept;
        trained
    }

    /// Seeds the next training with `kept`, the vectors of the training that made this tier.
    pub fn keep(&self, kept: nlu::embedding::Kept) {
        *self
            .kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = kept;
    }

    /// The playbook version, tier and rules to use for one message (or one request).
    pub fn now(&self) -> Arc<Taught> {
        self.now.load_full()
    }

    /// The tier to use for one message (or one request).
    pub fn tier(&self) -> Arc<MachineTier> {
        self.now.load().tier.clone()
    }

    /// Put `taught` in place: messages that arrive from now on use it, those already being
    /// handled finish with the one they took.
    pub fn replace(&self, taught: Taught, encoder: Option<Arc<Batcher>>) {
        self.encoder.store(encoder);
        self.now.store(Arc::new(taught));
    }

    /// The encoder the tier runs with, if any.
    pub fn encoder(&self) -> Option<Arc<Batcher>> {
        self.encoder.load_full()
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

    /// The playbook the desk answers with now.
    pub fn playbook(&self) -> Arc<Playbook> {
        self.machine.now().playbook.clone()
    }

    /// The routing rules of the playbook the desk answers with now.
    pub fn rules(&self) -> Arc<desk::routing::Rules> {
        self.machine.now().rules.clone()
    }

    /// Train a machine tier with `encoder` as its second stage on this desk's playbook and put
    /// it in place of the running one. Blocking (it embeds every example of the playbook: seconds
    /// of CPU): call it from a thread of its own or `spawn_blocking`.
    pub fn add_encoder(
        &self,
        encoder: Arc<Batcher>,
    ) -> Result<nlu::cascade::CascadeReport, nlu::NluError> {
        let _one = self.machine.training();
        let now = self.machine.now();
        let (tier, report) = self
            .machine
            .train(&now.playbook, Some(&encoder), &mut |_, _| {})?;
        self.machine.replace(
            Taught {
                version: now.version,
                playbook: now.playbook.clone(),
                tier: Arc::new(tier),
                rules: now.rules.clone(),
            },
            Some(encoder),
        );
        Ok(report)
    }
}
