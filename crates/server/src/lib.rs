//! Tandem's HTTP face, the only crate that knows HTTP: REST API v1, live events (SSE),
//! server-rendered pages (demo shop, widget, console, admin), auth and rate limits.

pub mod analytics;
pub mod api;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod canned;
pub mod captcha;
pub mod connections;
pub mod error;
pub mod extract;
pub mod flow;
pub mod help;
pub mod inbox;
pub mod limits;
pub mod live;
pub mod mail;
mod pages;
pub mod privacy;
mod security;
pub mod service;
pub mod state;
pub mod suggestions;
pub mod teach;
pub mod team;
pub mod telemetry;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use playbook::Playbook;
use store::Store;
use tokio::net::TcpListener;

pub use limits::RateLimits;
pub use state::{AppState, Inner};

/// Request bodies larger than this are refused with 413 before they are parsed.
const MAX_BODY_BYTES: usize = 256 * 1024;

pub struct Settings {
    pub bind: String,
    /// The playbook to start with when the store holds none yet (see `teach::adopt`).
    pub playbook: Playbook,
    /// The `--playbook` file it was read from: imported again when it changed.
    pub playbook_file: Option<teach::PlaybookFile>,
    /// Rate limits on public endpoints; `false` only for load tests.
    pub rate_limits: bool,
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Seconds an assigned agent has for a first reply before the conversation moves to another
    /// fit agent; 0 turns the timeout off.
    pub first_response_timeout_secs: u64,
    /// The optional sentence encoder for the machine tier's second stage (`--encoder`), behind
    /// the batcher that shares its passes among concurrent requests (and keeps to its latency
    /// budget). Another can join later: [`AppState::add_encoder`].
    pub encoder: Option<Arc<nlu::batcher::Batcher>>,
    /// The help center's CAPTCHA secret and trusted proxies.
    pub help: help::HelpOptions,
    /// Connections per client address and the deadline for a request's headers.
    pub connections: connections::Connections,
    /// E-mail in and out; off by default.
    pub mail: mail::MailSettings,
}

impl Settings {
    /// A desk on a free local port with `playbook`: rate limits, the first-response timeout, the
    /// encoder and mail off. What the benchmarks and in-process tests start.
    pub fn local(playbook: Playbook) -> Self {
        Settings {
            bind: "127.0.0.1:0".into(),
            playbook,
            playbook_file: None,
            rate_limits: false,
            secure_cookies: false,
            first_response_timeout_secs: 0,
            encoder: None,
            help: help::HelpOptions::default(),
            connections: Default::default(),
            mail: Default::default(),
        }
    }
}

/// The default first-response timeout (`TANDEM_FIRST_RESPONSE_TIMEOUT_SECS`).
pub const FIRST_RESPONSE_TIMEOUT_SECS: u64 = 120;

/// The running desk: bound to its port, ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    connections: connections::Connections,
}

impl Application {
    /// Trains the machine tier, binds the port (0 picks a free one) and assembles the routes.
    /// Everything it needs is in `settings`: it reads no environment.
    pub async fn build(settings: Settings, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let (version, playbook) = teach::adopt(
            store.as_ref(),
            &settings.playbook,
            settings.playbook_file.as_ref(),
        )
        .await?;
        let help =
            help::HelpCenter::start(store.as_ref(), &playbook, settings.help.clone()).await?;
        let with_encoder = settings.encoder.is_some();
        let started = std::time::Instant::now();
        let (trained, kept) = state::train(
            &playbook,
            settings.encoder.as_ref(),
            nlu::embedding::Kept::default(),
            &mut |_, _| {},
        );
        let (tier, report) = trained?;
        if with_encoder {
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                fast_path_sure = report.sure.unwrap_or(1.0),
                "machine tier trained with the sentence encoder"
            );
        }
        let dummy_hash = auth::hash_password(&auth::new_token(""))
            .map_err(|_| anyhow::anyhow!("cannot hash with argon2"))?;
        let mail =
            mail::Mail::configure(settings.mail, store.as_ref(), &playbook.desk.name).await?;
        let hub = live::Hub::default();
        live::relay(store.clone(), hub.clone());
        let state = AppState::new(Inner {
            clock: store.clock().clone(),
            first_response_timeout_ms: (settings.first_response_timeout_secs > 0).then(|| {
                i64::try_from(settings.first_response_timeout_secs.saturating_mul(1000))
                    .unwrap_or(i64::MAX)
            }),
            store,
            machine: {
                let machine = state::Machine::new(
                    state::Taught::new(version, playbook, tier),
                    settings.encoder.clone(),
                );
                machine.keep(kept);
                machine
            },
            teacher: teach::Teacher::default(),
            hub,
            limits: settings.rate_limits.then(RateLimits::default),
            dummy_hash,
            secure_cookies: settings.secure_cookies,
            help,
            mail,
        });
        let listener = TcpListener::bind(&settings.bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        teach::start(&state);
        let router = routes(state.clone());
        Ok(Self {
            listener,
            router,
            state,
            connections: settings.connections,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is asked to stop (Ctrl-C or SIGTERM).
    pub async fn run(self) -> std::io::Result<()> {
        mail::start(&self.state);
        axum::serve(
            connections::Guarded::new(self.listener, self.connections),
            self.router
                .into_make_service_with_connect_info::<connections::Peer>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
    }

    /// Serves until the future completes (for tests).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        mail::start(&self.state);
        axum::serve(
            connections::Guarded::new(self.listener, self.connections),
            self.router
                .into_make_service_with_connect_info::<connections::Peer>(),
        )
        .with_graceful_shutdown(stop)
        .await
    }
}

fn routes(state: AppState) -> Router {
    telemetry::handle();
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .route("/metrics", axum::routing::get(telemetry::scrape))
        .fallback(security::no_route)
        .method_not_allowed_fallback(security::wrong_method)
        .layer(axum::middleware::from_fn(security::json_errors))
        .layer(axum::middleware::from_fn(security::deadline))
        .layer(axum::middleware::from_fn(telemetry::http_latency))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(security::cors())
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
