//! `tandem serve`'s mail settings (issue 17): sending through an SMTP server, taking mail in
//! through the desk's own SMTP listener. Nothing set: no mail, as before.

use server::mail::MailSettings;

#[derive(clap::Args, Clone)]
pub struct ServeMailArgs {
    /// Where the desk sends mail: `smtp://host:port` (plain, for a local relay),
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS); `user:password@`
    /// before the host for AUTH (URL-encoded). Prefer the environment or the config file: a
    /// flag shows in the process list.
    #[arg(
        long,
        env = "TANDEM_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<String>,
    /// The desk's address, optionally with a name: `Shop <service@shop.example>`.
    #[arg(long, env = "TANDEM_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// The domain of the signed reply addresses (`service+<conversation>.<signature>@DOMAIN`);
    /// mail to it must reach the inbound listener. Default: the domain of `--mail-from`.
    #[arg(long, env = "TANDEM_REPLY_DOMAIN", value_name = "DOMAIN")]
    pub reply_domain: Option<String>,
    /// Where the inbound SMTP listener binds (`127.0.0.1:2525`), for a relay or MTA in front of
    /// the desk. Default: no listener.
    #[arg(long, env = "TANDEM_INBOUND_SMTP_BIND", value_name = "ADDR")]
    pub inbound_smtp_bind: Option<String>,
    /// A mailbox the desk polls for customers' mails: `imaps://user@host/INBOX` (TLS; `imap://`
    /// only on the same machine or a private network). Mails taken in get the keyword
    /// `$TandemStored`; nothing is moved or deleted.
    #[arg(long, env = "TANDEM_IMAP_URL", value_name = "URL")]
    pub imap_url: Option<String>,
    /// The mailbox's password. Prefer the environment or the config file.
    #[arg(long, env = "TANDEM_IMAP_PASSWORD", hide_env_values = true)]
    pub imap_password: Option<String>,
    /// Seconds between two polls of the mailbox.
    #[arg(long, env = "TANDEM_IMAP_POLL_SECS", default_value_t = 30)]
    pub imap_poll_secs: u64,
    /// Attachments larger than this (bytes) are listed on the conversation but not kept.
    #[arg(long, env = "TANDEM_MAIL_MAX_ATTACHMENT_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub mail_max_attachment_bytes: u64,
    /// Mails larger than this (bytes) are refused by the listener (552).
    #[arg(long, env = "TANDEM_MAIL_MAX_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub mail_max_bytes: usize,
    /// Mails taken in per sender address and hour; beyond it the listener answers 450 and the
    /// sender's server tries again later.
    #[arg(long, env = "TANDEM_MAIL_PER_SENDER_PER_HOUR", default_value_t = 30)]
    pub mail_per_sender_per_hour: u32,
    /// Seconds before a failed mail is tried again; each next try waits four times longer.
    #[arg(long, env = "TANDEM_MAIL_RETRY_SECS", default_value_t = 30)]
    pub mail_retry_secs: u64,
    /// Tries before a mail is given up and shown as failed in the console.
    #[arg(long, env = "TANDEM_MAIL_MAX_ATTEMPTS", default_value_t = 6)]
    pub mail_max_attempts: u32,
}

/// `Debug` without the SMTP URL's password.
impl std::fmt::Debug for ServeMailArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeMailArgs")
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<redacted>"))
            .field("mail_from", &self.mail_from)
            .field("reply_domain", &self.reply_domain)
            .field("inbound_smtp_bind", &self.inbound_smtp_bind)
            .field("imap_url", &self.imap_url)
            .field(
                "imap_password",
                &self.imap_password.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl ServeMailArgs {
    pub fn settings(&self) -> MailSettings {
        MailSettings {
            smtp_url: self.smtp_url.clone().filter(|s| !s.is_empty()),
            from: self.mail_from.clone().filter(|s| !s.is_empty()),
            reply_domain: self.reply_domain.clone().filter(|s| !s.is_empty()),
            inbound_smtp_bind: self.inbound_smtp_bind.clone().filter(|s| !s.is_empty()),
            imap_url: self.imap_url.clone().filter(|s| !s.is_empty()),
            imap_password: self.imap_password.clone().filter(|s| !s.is_empty()),
            imap_poll_secs: self.imap_poll_secs.max(1),
            max_attachment_bytes: self.mail_max_attachment_bytes,
            max_mail_bytes: self.mail_max_bytes,
            per_sender_per_hour: self.mail_per_sender_per_hour,
            retry_after_secs: self.mail_retry_secs.max(1),
            max_attempts: self.mail_max_attempts.max(1),
        }
    }
}
