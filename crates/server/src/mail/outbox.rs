//! The sender: claims due mails from the outbox (each for a lease, so two nodes never send the
//! same one at once), writes and sends them, and records what happened. A temporary failure is
//! retried with growing delays; a permanent refusal or the last try gives the mail up, and the
//! console shows it as failed.
//!
//! A crash between the SMTP server's "250" and our "sent" leaves the mail `sending`; after its
//! lease it is sent again, with the same `Message-ID`, so the customer's mail program shows it
//! once. SMTP has no way to ask whether a server already took a mail, so this is as close to
//! "exactly once" as the protocol allows.

use std::sync::Arc;
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use store::{MailOutcome, OutboxMail};

use super::compose::{self, ComposeError};
use super::Mail;
use crate::AppState;

/// How long one claim lasts: long enough for a slow server, short enough for a crash.
const LEASE_MS: i64 = 120_000;
/// Mails claimed at once; they are sent over this many pooled connections at a time.
const BATCH: u32 = 16;
/// How often the sender looks for due mails when nothing wakes it.
const POLL: Duration = Duration::from_secs(1);

/// The delay before try `attempt + 1`: `base`, then four times longer each time.
pub fn retry_delay_ms(base_secs: u64, attempt: u32) -> i64 {
    let factor = 4u64.saturating_pow(attempt.saturating_sub(1).min(8));
    i64::try_from(base_secs.saturating_mul(factor).saturating_mul(1000)).unwrap_or(i64::MAX)
}

pub async fn run(state: AppState, mail: Arc<Mail>, transport: AsyncSmtpTransport<Tokio1Executor>) {
    loop {
        let now = state.clock.now_ms();
        let due = match state.store.mailbox().claim_mail(now, LEASE_MS, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "reading the outbox failed");
                Vec::new()
            }
        };
        let idle = due.is_empty();
        let mut sending = tokio::task::JoinSet::new();
        for m in due {
            let (state, mail, transport) = (state.clone(), mail.clone(), transport.clone());
            sending.spawn(async move {
                let outcome = send_one(&state, &mail, &transport, &m).await;
                if let Err(e) = state.store.mailbox().mail_outcome(m.message, outcome).await {
                    tracing::error!(error = %e, mail = m.message.get(), "recording a mail's outcome failed");
                }
            });
        }
        while sending.join_next().await.is_some() {}
        if idle {
            tokio::select! {
                _ = mail.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

async fn send_one(
    state: &AppState,
    mail: &Mail,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    m: &OutboxMail,
) -> MailOutcome {
    let message = match compose::compose(m, &mail.signer, &mail.from, &mail.desk_name) {
        Ok(message) => message,
        Err(e) => {
            metrics::counter!("tandem_mail_out_total", "outcome" => "failed").increment(1);
            let error = match e {
                ComposeError::NoAddress => "the customer's address was erased".to_owned(),
                other => other.to_string(),
            };
            tracing::warn!(mail = m.message.get(), %error, "a mail cannot be written; given up");
            return MailOutcome::Failed { error };
        }
    };
    match transport.send(message).await {
        Ok(_) => {
            metrics::counter!("tandem_mail_out_total", "outcome" => "sent").increment(1);
            MailOutcome::Sent
        }
        Err(e) => {
            // The server's words; the log gets them without addresses (no personal data).
            let error = e.to_string();
            let logged = without_addresses(&error);
            let last = m.attempts >= mail.settings.max_attempts;
            if e.is_permanent() || last {
                metrics::counter!("tandem_mail_out_total", "outcome" => "failed").increment(1);
                tracing::warn!(mail = m.message.get(), attempts = m.attempts, error = %logged, "a mail was given up");
                MailOutcome::Failed { error }
            } else {
                metrics::counter!("tandem_mail_out_total", "outcome" => "retry").increment(1);
                let at_ms = state.clock.now_ms()
                    + retry_delay_ms(mail.settings.retry_after_secs, m.attempts);
                tracing::info!(mail = m.message.get(), attempts = m.attempts, error = %logged, "a mail will be tried again");
                MailOutcome::Retry { at_ms, error }
            }
        }
    }
}

/// `text` with every word that holds an `@` replaced: SMTP servers name the recipient in
/// their refusals.
pub fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|w| if w.contains('@') { "<address>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_errors_name_no_address() {
        assert_eq!(
            without_addresses("550 5.1.1 <kim@kunde.example>: Recipient address rejected"),
            "550 5.1.1 <address> Recipient address rejected"
        );
    }

    #[test]
    fn retries_wait_longer_each_time() {
        assert_eq!(retry_delay_ms(30, 1), 30_000);
        assert_eq!(retry_delay_ms(30, 2), 120_000);
        assert_eq!(retry_delay_ms(30, 3), 480_000);
        assert!(retry_delay_ms(u64::MAX, 40) > 0);
    }
}
