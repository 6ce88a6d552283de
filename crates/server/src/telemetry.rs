//! `/metrics`: this node's Prometheus metrics (`tandem_*`) through the `metrics` facade and its
//! Prometheus exporter. Counters and histograms are per node (Prometheus sums them across
//! nodes); the queue length is read from the store at each scrape, so it is the desk's, and
//! `tandem_encoder_skipped_total` from the encoder's batcher (`nlu::batcher::Batcher::skipped`).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use desk::ConversationState;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use store::Appended;

use crate::error::ApiError;
use crate::state::AppState;

/// Buckets for the latency histograms, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder, installed on first use (`None` if another one was installed).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!("metrics recorder not installed: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// Counts what one local write produced (messages by author, handoffs by reason).
pub fn count_write(appended: &Appended) {
    for m in &appended.messages {
        metrics::counter!("tandem_messages_total", "author" => m.author.as_str()).increment(1);
    }
    let conv = &appended.conversation;
    if appended.state_changed && conv.state == ConversationState::Queued {
        if let Some(needs) = &conv.handoff {
            for r in &needs.reasons {
                metrics::counter!("tandem_handoffs_total", "reason" => r.as_str()).increment(1);
            }
        }
    }
}

/// Times the machine tier's triage of one message.
pub fn triage_timer() -> impl Drop {
    Timer(Instant::now())
}

struct Timer(Instant);

impl Drop for Timer {
    fn drop(&mut self) {
        metrics::histogram!("tandem_triage_seconds").record(self.0.elapsed().as_secs_f64());
    }
}

/// Records every request's handling time.
pub async fn http_latency(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let res = next.run(req).await;
    metrics::histogram!("tandem_http_request_seconds").record(start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics` in the Prometheus text format.
pub async fn scrape(State(state): State<AppState>) -> Response {
    handle();
    match state.store.queue().await {
        Ok(q) => metrics::gauge!("tandem_queue_length").set(q.len() as f64),
        Err(e) => return ApiError::from(e).into_response(),
    }
    // Messages the encoder refused for its latency budget (they kept the fast path's decision);
    // the batcher counts them, this node reports its count.
    metrics::counter!("tandem_encoder_skipped_total").absolute(state.machine.encoder_skipped());
    // The outbox by state (the whole desk's, read from the store): failed and bounced mails are
    // what an operator alerts on.
    if let Ok(counts) = state.store.mailbox().outbox_counts().await {
        for s in desk::MailState::ALL {
            let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
            metrics::gauge!("tandem_mail_outbox", "state" => s.as_str()).set(n as f64);
        }
    }
    let body = handle().map(|h| h.render()).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
