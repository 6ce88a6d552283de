//! The mail side of the real-binary tests: a real SMTP server as the desk's outgoing relay
//! (aiosmtpd, `scripts/mail_sink.py`, from the venv `scripts/mail-venv.sh` makes), a real SMTP
//! client (lettre) into the desk's inbound listener, and `tandem serve` with mail on.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::Value;

use super::Node;

/// The python with aiosmtpd: `TANDEM_TEST_MAIL_PYTHON`, else the venv under `target/`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TANDEM_TEST_MAIL_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/mail-venv/bin/python");
    assert!(
        venv.exists(),
        "the mail tests need aiosmtpd: run scripts/mail-venv.sh (scripts/test.sh does) or set TANDEM_TEST_MAIL_PYTHON"
    );
    venv
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running SMTP sink, stopped when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One mail the sink took: its envelope and its raw text.
pub struct Got {
    pub envelope: Value,
    pub raw: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<String> {
        let m = mail_parser::MessageParser::default().parse(self.raw.as_bytes())?;
        m.header_raw(name).map(|v| v.trim().to_owned())
    }

    pub fn text(&self) -> String {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
            .unwrap_or_default()
    }

    pub fn to(&self) -> Vec<String> {
        self.envelope["to"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Sink {
    pub fn start() -> Sink {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mail_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("the sink exited").expect("read");
        assert_eq!(first, "ready");
        Sink { child, port, dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn mails(&self) -> Vec<Got> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|p| {
                let raw = std::fs::read_to_string(&p).ok()?;
                let envelope: Value =
                    serde_json::from_str(&std::fs::read_to_string(p.with_extension("json")).ok()?)
                        .ok()?;
                Some(Got { envelope, raw })
            })
            .collect()
    }

    /// Waits (at most `secs`) for a mail `pick` accepts.
    pub async fn wait_for(&self, secs: u64, pick: impl Fn(&Got) -> bool) -> Got {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(m) = self.mails().into_iter().find(|m| pick(m)) {
                return m;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no such mail within {secs} s; the sink has {:?}",
                self.mails()
                    .iter()
                    .map(|m| m.envelope.clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A desk with mail on: sending through `smtp` (a URL), taking mail in on a free port.
pub struct MailDesk {
    pub node: Node,
    pub inbound: u16,
    pub data: PathBuf,
}

pub fn start_desk(smtp: &str, data: &Path, extra: &[&str]) -> MailDesk {
    start_desk_on(smtp, data, free_port(), extra)
}

pub fn start_desk_on(smtp: &str, data: &Path, inbound: u16, extra: &[&str]) -> MailDesk {
    let bind = format!("127.0.0.1:{inbound}");
    let data_dir = data.to_str().expect("utf-8 path");
    let mut args = vec![
        "--data-dir",
        data_dir,
        "--smtp-url",
        smtp,
        "--mail-from",
        "Beispiel-Shop <service@shop.example>",
        "--inbound-smtp-bind",
        &bind,
        "--rate-limits",
        "false",
    ];
    args.extend_from_slice(extra);
    let node = super::start(&args);
    MailDesk {
        node,
        inbound,
        data: data.to_owned(),
    }
}

/// Sends a raw mail into the desk's listener with a real SMTP client; the server's refusal
/// comes back as the error's text.
pub async fn send(port: u16, from: &str, to: &str, raw: &str) -> Result<(), String> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let envelope = Envelope::new(
        (!from.is_empty()).then(|| from.parse().expect("from")),
        vec![to.parse().expect("to")],
    )
    .expect("envelope");
    transport
        .send_raw(&envelope, raw.replace('\n', "\r\n").as_bytes())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A plain mail from `from` to `to`.
pub fn mail(
    from: &str,
    to: &str,
    subject: &str,
    id: &str,
    extra_headers: &str,
    body: &str,
) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Sun, 29 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n{extra_headers}\n{body}\n"
    )
}
