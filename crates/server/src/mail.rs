//! E-mail, both ways. Bot and agent messages of an e-mail conversation go out through the
//! outbox (`outbox`: durable, retried, at most one sender per mail); mail comes in through the
//! SMTP listener (`listener`) and becomes a conversation, or a message of the conversation its
//! signed reply address or `In-Reply-To` names (`inbound`). Addresses and message ids are signed
//! (`address`), outgoing mails are written by `compose`, and `text` cuts quoted history.
//!
//! With no mail configured the desk behaves as it did without it: contact-form conversations
//! still carry `channel: email`, and their replies wait in the outbox until mail is set up.

pub mod address;
pub mod compose;
pub mod imap;
pub mod inbound;
pub mod listener;
pub mod outbox;
pub mod text;

use std::sync::Arc;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use tokio::sync::Notify;

use address::Signer;

/// The desk's mail configuration (`TANDEM_SMTP_URL`, `TANDEM_MAIL_FROM`, …).
#[derive(Clone)]
pub struct MailSettings {
    /// Where outgoing mail goes: `smtp://host:port` (no TLS), `smtp://…?tls=required`
    /// (STARTTLS), `smtps://host:port` (TLS); `user:password@` for AUTH.
    pub smtp_url: Option<String>,
    /// The desk's address, optionally with a name: `Shop <service@shop.example>`.
    pub from: Option<String>,
    /// The domain of the signed reply addresses (default: the `from` address's domain); mail to
    /// it must reach the inbound listener.
    pub reply_domain: Option<String>,
    /// Where the inbound SMTP listener binds, for a relay or MTA in front of it.
    pub inbound_smtp_bind: Option<String>,
    /// A mailbox to poll: `imaps://user@host/INBOX`.
    pub imap_url: Option<String>,
    pub imap_password: Option<String>,
    /// Seconds between two polls of the mailbox.
    pub imap_poll_secs: u64,
    /// An attachment larger than this is listed but not kept.
    pub max_attachment_bytes: u64,
    /// A mail larger than this is refused (552) by the listener.
    pub max_mail_bytes: usize,
    /// Mails taken in per sender address and hour; beyond it the listener answers 450 (the
    /// sender's server tries again later, nothing is lost).
    pub per_sender_per_hour: u32,
    /// The first retry's delay; each next one waits four times longer.
    pub retry_after_secs: u64,
    /// Tries before a mail is given up and shown as failed.
    pub max_attempts: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: None,
            reply_domain: None,
            inbound_smtp_bind: None,
            imap_url: None,
            imap_password: None,
            imap_poll_secs: 30,
            max_attachment_bytes: 10 * 1024 * 1024,
            max_mail_bytes: 25 * 1024 * 1024,
            per_sender_per_hour: 30,
            retry_after_secs: 30,
            max_attempts: 6,
        }
    }
}

/// The SMTP URL may hold a password: `Debug` shows only whether it is set.
impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("reply_domain", &self.reply_domain)
            .field("inbound_smtp_bind", &self.inbound_smtp_bind)
            .field("imap_url", &self.imap_url)
            .field(
                "imap_password",
                &self.imap_password.as_ref().map(|_| "<redacted>"),
            )
            .field("max_attachment_bytes", &self.max_attachment_bytes)
            .field("max_mail_bytes", &self.max_mail_bytes)
            .field("per_sender_per_hour", &self.per_sender_per_hour)
            .finish_non_exhaustive()
    }
}

impl MailSettings {
    /// Whether any part of mail is configured.
    pub fn any(&self) -> bool {
        self.smtp_url.is_some() || self.inbound_smtp_bind.is_some() || self.imap_url.is_some()
    }
}

/// The running mail channel of one node.
pub struct Mail {
    pub settings: MailSettings,
    pub signer: Signer,
    pub from: Mailbox,
    pub desk_name: String,
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    /// Rung after a commit that queued a mail, so the sender does not wait for its next poll.
    wake: Notify,
    listener: std::sync::Mutex<Option<tokio::net::TcpListener>>,
    imap: Option<(imap::Mailbox, String)>,
}

/// The store setting that keeps the signing secret, the same on every node.
const SECRET_SETTING: &str = "mail_secret";

impl Mail {
    /// Checks the settings, binds the inbound listener and prepares the SMTP transport. `None`
    /// when no mail is configured.
    pub async fn configure(
        settings: MailSettings,
        store: &dyn store::Store,
        desk_name: &str,
    ) -> anyhow::Result<Option<Arc<Mail>>> {
        if !settings.any() {
            return Ok(None);
        }
        let from_text = settings.from.clone().ok_or_else(|| {
            anyhow::anyhow!("mail needs the desk's address: set TANDEM_MAIL_FROM (--mail-from)")
        })?;
        let from: Mailbox = from_text.parse().map_err(|e| {
            anyhow::anyhow!("TANDEM_MAIL_FROM {from_text:?} is not an address: {e}")
        })?;
        let reply_domain = settings
            .reply_domain
            .clone()
            .unwrap_or_else(|| from.email.domain().to_owned());
        let candidate = crate::auth::new_token("");
        let secret = store.setting_or_init(SECRET_SETTING, &candidate).await?;
        let signer = Signer::new(secret.as_bytes(), &reply_domain);
        let transport = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("TANDEM_SMTP_URL is not usable: {e}"))?
                    .build(),
            ),
            None => None,
        };
        let listener = match &settings.inbound_smtp_bind {
            Some(bind) => Some(
                tokio::net::TcpListener::bind(bind)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot listen for mail on {bind}: {e}"))?,
            ),
            None => None,
        };
        let imap = match &settings.imap_url {
            Some(url) => {
                let mailbox =
                    imap::parse_url(url).map_err(|e| anyhow::anyhow!("TANDEM_IMAP_URL: {e}"))?;
                let password = settings.imap_password.clone().ok_or_else(|| {
                    anyhow::anyhow!("TANDEM_IMAP_URL needs TANDEM_IMAP_PASSWORD (or imap-password in the config file)")
                })?;
                Some((mailbox, password))
            }
            None => None,
        };
        tracing::info!(
            sending = transport.is_some(),
            imap = ?imap.as_ref().map(|i| &i.0),
            inbound = ?listener.as_ref().and_then(|l| l.local_addr().ok()),
            reply_domain = %reply_domain,
            "mail is on"
        );
        Ok(Some(Arc::new(Mail {
            settings,
            signer,
            from,
            desk_name: desk_name.to_owned(),
            transport,
            wake: Notify::new(),
            listener: std::sync::Mutex::new(listener),
            imap,
        })))
    }

    /// Whether outgoing mail is configured (else replies wait in the outbox).
    pub fn sends(&self) -> bool {
        self.transport.is_some()
    }

    /// Tells the sender that a mail is waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Starts the node's sender and listener (each only when configured).
pub fn start(state: &crate::AppState) {
    let Some(mail) = state.mail.clone() else {
        return;
    };
    if let Some(transport) = mail.transport.clone() {
        tokio::spawn(outbox::run(state.clone(), mail.clone(), transport));
    }
    let listener = mail.listener.lock().ok().and_then(|mut l| l.take());
    if let Some(listener) = listener {
        tokio::spawn(listener::run(state.clone(), mail.clone(), listener));
    }
    if let Some((mailbox, password)) = mail.imap.clone() {
        let every = std::time::Duration::from_secs(mail.settings.imap_poll_secs.max(1));
        tokio::spawn(imap::run(state.clone(), mail, mailbox, password, every));
    }
}

/// The customer would rather have the answer by mail (the widget's offer when nobody is
/// online, or their own choice): later replies go to `email`, and the transcript says so.
pub async fn continue_by_email(
    state: &crate::AppState,
    conversation: &store::Conversation,
    email: desk::Email,
) -> crate::service::DeskResult<store::Appended> {
    state
        .store
        .mailbox()
        .use_email(&conversation.id, email.as_str())
        .await?;
    let note = if conversation.locale.as_str() == "de" {
        format!("Die Antwort kommt per E-Mail an {email}.")
    } else {
        format!("The answer will come by e-mail to {email}.")
    };
    let moved = state
        .store
        .conversation(&conversation.id)
        .await?
        .ok_or(crate::service::DeskError::NotFound)?;
    crate::flow::note(state, &moved, store::NewMessage::system(note)).await
}
