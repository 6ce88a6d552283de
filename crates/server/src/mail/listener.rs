//! The inbound SMTP listener, for a relay or MTA in front of the desk (Postfix's `relay_transport`,
//! a forwarding rule). `mailin` speaks the protocol (it is a state machine without IO); this
//! module reads lines from the connection, feeds them in, and answers the end of each mail
//! itself: "250" only after the mail is stored (committed), "451" when storing failed, so the
//! sending server keeps it and tries again. Nothing acknowledged is lost.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::inbound::{self, Disposition, Received};
use super::Mail;
use crate::AppState;

/// A command or data line longer than this ends the connection (RFC 5321 allows 1000 octets;
/// some clients send longer data lines, so the cap is generous).
const MAX_LINE: u64 = 64 * 1024;
/// How long the listener waits for the next line.
const IDLE: Duration = Duration::from_secs(120);
/// Connections handled at once.
const MAX_CONNECTIONS: usize = 64;
/// `mailin` cannot parse the null reverse-path `MAIL FROM:<>` that delivery reports come with
/// (RFC 5321 4.5.5); the listener hands it this address instead and takes it back afterwards.
const NULL_SENDER: &str = "null-sender@null.invalid";

#[derive(Default)]
struct Envelope {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
    complete: bool,
}

/// Collects one mail at a time for the connection loop; `mailin` calls it.
struct Collect {
    envelope: Arc<Mutex<Envelope>>,
    max: usize,
}

impl Collect {
    fn with<T>(&self, f: impl FnOnce(&mut Envelope) -> T) -> Option<T> {
        self.envelope.lock().ok().map(|mut e| f(&mut e))
    }
}

impl Handler for Collect {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.with(|e| {
            *e = Envelope {
                from: from.to_owned(),
                ..Envelope::default()
            }
        });
        mailin::response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let n = self.with(|e| {
            e.to.push(to.to_owned());
            e.to.len()
        });
        if n.unwrap_or(usize::MAX) > 100 {
            return mailin::response::NO_SERVICE;
        }
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let max = self.max;
        self.with(|e| {
            if e.data.len() + buf.len() > max {
                e.too_big = true;
            } else if !e.too_big {
                e.data.extend_from_slice(buf);
            }
        });
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.with(|e| e.complete = true);
        mailin::response::OK
    }
}

pub async fn run(state: AppState, mail: Arc<Mail>, listener: TcpListener) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a mail connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            let mut stream = stream;
            let _ = stream
                .write_all(b"421 4.3.2 Too many connections, try later\r\n")
                .await;
            continue;
        };
        let (state, mail) = (state.clone(), mail.clone());
        tokio::spawn(async move {
            if let Err(e) = serve(&state, &mail, stream, peer.ip()).await {
                tracing::debug!(error = %e, "a mail connection ended");
            }
            drop(permit);
        });
    }
}

async fn serve(
    state: &AppState,
    mail: &Mail,
    stream: TcpStream,
    peer: IpAddr,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let envelope = Arc::new(Mutex::new(Envelope::default()));
    let handler = Collect {
        envelope: envelope.clone(),
        max: mail.settings.max_mail_bytes,
    };
    let name = mail.signer.domain().to_owned();
    let mut session = SessionBuilder::new(name).build(peer, handler);
    write.write_all(&session.greeting().buffer()?).await?;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let n = tokio::time::timeout(
            IDLE,
            (&mut read).take(MAX_LINE).read_until(b'\n', &mut line),
        )
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if n == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            write.write_all(b"500 5.5.2 Line too long\r\n").await?;
            return Ok(());
        }
        let response = session.process(&null_sender_spelled_out(&line));
        let finished = envelope
            .lock()
            .ok()
            .filter(|e| e.complete)
            .map(|mut e| std::mem::take(&mut *e));
        if let Some(done) = finished {
            let reply = finish(state, mail, done).await;
            write.write_all(reply.as_bytes()).await?;
            continue;
        }
        match response.action {
            Action::NoReply => {}
            Action::Close => {
                write.write_all(&response.buffer()?).await?;
                return Ok(());
            }
            Action::Reply | Action::UpgradeTls => write.write_all(&response.buffer()?).await?,
        }
    }
}

/// What became of a mail, for `/metrics`.
pub(super) fn outcome_label(d: &Disposition) -> &'static str {
    match d {
        Disposition::Stored { new: true, .. } => "new",
        Disposition::Stored { new: false, .. } => "threaded",
        Disposition::Duplicate => "duplicate",
        Disposition::Bounce => "bounce",
        Disposition::Dropped(_) => "dropped",
        Disposition::Deferred => "deferred",
        Disposition::Unreadable => "unreadable",
    }
}

/// `MAIL FROM:<>` (any case, with or without parameters) as `MAIL FROM:<null-sender@…>`.
fn null_sender_spelled_out(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const PREFIX: &[u8] = b"mail from:<>";
    if line.len() >= PREFIX.len() && line[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        let mut out = b"MAIL FROM:<".to_vec();
        out.extend_from_slice(NULL_SENDER.as_bytes());
        out.push(b'>');
        out.extend_from_slice(&line[PREFIX.len()..]);
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(line)
    }
}

/// Stores one complete mail and says how to answer it.
async fn finish(state: &AppState, mail: &Mail, done: Envelope) -> &'static str {
    if done.too_big {
        metrics::counter!("tandem_mail_in_total", "outcome" => "too_big").increment(1);
        return "552 5.3.4 Message too big\r\n";
    }
    let from = if done.from == NULL_SENDER {
        ""
    } else {
        done.from.as_str()
    };
    let received = Received {
        envelope_from: from,
        recipients: &done.to,
        raw: &done.data,
    };
    match inbound::take_in(state, mail, received).await {
        Ok(d) => {
            metrics::counter!("tandem_mail_in_total", "outcome" => outcome_label(&d)).increment(1);
            match d {
                Disposition::Deferred => {
                    "450 4.7.1 Too many messages from this sender, try later\r\n"
                }
                Disposition::Unreadable => "550 5.6.0 Message not readable\r\n",
                _ => "250 2.0.0 Stored\r\n",
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "storing a mail failed");
            "451 4.3.0 Not stored, try again later\r\n"
        }
    }
}
