//! IMAP polling of a mailbox (`--imap-url imaps://user@host/INBOX`, the password from
//! `TANDEM_IMAP_PASSWORD` or the config file): every poll takes the mails that do not carry our
//! keyword `$TandemStored` yet, takes each in like the listener does, then sets the keyword.
//! Nothing is ever deleted or moved, and reading with `BODY.PEEK[]` leaves `\Seen` as it was.
//!
//! A crash between storing a mail and setting its keyword fetches it again on the next poll;
//! the store knows its `Message-ID` and takes it once.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::inbound::{self, Disposition, Received};
use super::Mail;
use crate::AppState;

/// The keyword on every mail the desk has taken in.
pub const STORED: &str = "$TandemStored";
/// Mails taken in per poll (the rest wait for the next one).
const PER_POLL: usize = 50;

/// Where the mailbox is.
#[derive(Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub folder: String,
}

impl std::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}://{}:{}/{}",
            if self.tls { "imaps" } else { "imap" },
            self.host,
            self.port,
            self.folder
        )
    }
}

/// `imaps://user@host[:port][/FOLDER]` (TLS, port 993) or `imap://…` (plain, port 143: only
/// for a server on the same machine or a private network). The user may be percent-encoded
/// (`desk%40shop.example`); the folder defaults to `INBOX`.
pub fn parse_url(text: &str) -> Result<Mailbox, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    let tls = match url.scheme() {
        "imaps" => true,
        "imap" => false,
        other => {
            return Err(format!(
                "the IMAP URL must start with imaps:// or imap://, not {other}://"
            ))
        }
    };
    if url.password().is_some() {
        return Err("put the IMAP password in TANDEM_IMAP_PASSWORD, not in the URL".into());
    }
    let host = url.host_str().ok_or("the IMAP URL has no host")?.to_owned();
    let user = percent_decode(url.username());
    if user.is_empty() {
        return Err("the IMAP URL names no user (imaps://user@host/INBOX)".into());
    }
    let folder = percent_decode(url.path().trim_start_matches('/'));
    Ok(Mailbox {
        tls,
        port: url.port().unwrap_or(if tls { 993 } else { 143 }),
        host,
        user,
        folder: if folder.is_empty() {
            "INBOX".into()
        } else {
            folder
        },
    })
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

pub async fn run(
    state: AppState,
    mail: Arc<Mail>,
    mailbox: Mailbox,
    password: String,
    every: Duration,
) {
    tracing::info!(mailbox = ?mailbox, "polling the mailbox");
    let mut failing = false;
    loop {
        match poll_once(&state, &mail, &mailbox, &password).await {
            Ok(n) => {
                if failing {
                    tracing::info!(mailbox = ?mailbox, "the mailbox answers again");
                }
                failing = false;
                if n > 0 {
                    tracing::debug!(mails = n, "mails taken in from the mailbox");
                }
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(mailbox = ?mailbox, error = %e, "polling the mailbox failed; trying again");
                }
                failing = true;
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// One poll: connect, take in what is new, mark it. Returns how many mails were taken in.
pub async fn poll_once(
    state: &AppState,
    mail: &Mail,
    mailbox: &Mailbox,
    password: &str,
) -> anyhow::Result<usize> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(20),
        TcpStream::connect((mailbox.host.as_str(), mailbox.port)),
    )
    .await
    .map_err(|_| anyhow::anyhow!("connecting timed out"))??;
    if mailbox.tls {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(mailbox.host.clone())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await?;
        take_new(Client::new(tls), state, mail, mailbox, password).await
    } else {
        take_new(Client::new(tcp), state, mail, mailbox, password).await
    }
}

async fn take_new<T>(
    mut client: Client<T>,
    state: &AppState,
    mail: &Mail,
    mailbox: &Mailbox,
    password: &str,
) -> anyhow::Result<usize>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    client
        .read_response()
        .await?
        .ok_or_else(|| anyhow::anyhow!("the server sent no greeting"))?;
    let mut session = client
        .login(&mailbox.user, password)
        .await
        .map_err(|(e, _)| anyhow::anyhow!("login refused: {e}"))?;
    session.select(&mailbox.folder).await?;
    let mut uids: Vec<u32> = session
        .uid_search(format!("NOT KEYWORD {STORED}"))
        .await?
        .into_iter()
        .collect();
    uids.sort_unstable();
    let mut taken = 0;
    for uid in uids.into_iter().take(PER_POLL) {
        let fetches: Vec<_> = session
            .uid_fetch(uid.to_string(), "BODY.PEEK[]")
            .await?
            .try_collect()
            .await?;
        let Some(raw) = fetches.iter().find_map(|f| f.body().map(<[u8]>::to_vec)) else {
            continue;
        };
        let envelope_from = return_path(&raw);
        let received = Received {
            envelope_from: &envelope_from,
            recipients: &[],
            raw: &raw,
        };
        let outcome = inbound::take_in(state, mail, received).await;
        let label = match &outcome {
            Ok(Disposition::Deferred) => continue,
            Ok(d) => super::listener::outcome_label(d),
            Err(e) => return Err(anyhow::anyhow!("storing a mail failed: {e}")),
        };
        metrics::counter!("tandem_mail_in_total", "outcome" => label).increment(1);
        let _: Vec<_> = session
            .uid_store(uid.to_string(), format!("+FLAGS ({STORED})"))
            .await?
            .try_collect()
            .await?;
        taken += 1;
    }
    session.logout().await?;
    Ok(taken)
}

/// The envelope sender a mailbox keeps in `Return-Path`: empty for the null sender of a
/// delivery report; without the header, the `From` address stands in.
fn return_path(raw: &[u8]) -> String {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else {
        return String::new();
    };
    match m.header_raw("Return-Path").map(str::trim) {
        Some(rp) => rp
            .trim_start_matches('<')
            .trim_end_matches('>')
            .trim()
            .to_owned(),
        None => m
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or("unknown@invalid")
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_urls_are_read_and_checked() {
        let m = parse_url("imaps://desk%40shop.example@imap.shop.example/Service").expect("url");
        assert_eq!(
            m,
            Mailbox {
                tls: true,
                host: "imap.shop.example".into(),
                port: 993,
                user: "desk@shop.example".into(),
                folder: "Service".into(),
            }
        );
        let plain = parse_url("imap://desk@127.0.0.1:14300").expect("url");
        assert_eq!(
            (plain.tls, plain.port, plain.folder.as_str()),
            (false, 14300, "INBOX")
        );
        assert!(
            parse_url("imaps://desk:secret@host/INBOX").is_err(),
            "no password in the URL"
        );
        assert!(parse_url("http://desk@host").is_err());
        assert!(parse_url("imaps://host/INBOX").is_err(), "a user is needed");
    }

    #[test]
    fn the_return_path_is_the_envelope_sender() {
        assert_eq!(
            return_path(b"Return-Path: <>\r\nFrom: MAILER-DAEMON@x\r\n\r\nx"),
            ""
        );
        assert_eq!(
            return_path(b"Return-Path: <kim@k.example>\r\n\r\nx"),
            "kim@k.example"
        );
        assert_eq!(
            return_path(b"From: Kim <kim@k.example>\r\n\r\nx"),
            "kim@k.example"
        );
    }
}
