//! The mail side of the real-binary tests: a real SMTP server as the desk's outgoing relay
//! (aiosmtpd, `scripts/mail_sink.py`, from the venv `scripts/mail-servers.sh` makes), a real SMTP
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
        "the mail tests need aiosmtpd: run scripts/mail-servers.sh (scripts/test.sh does) or set TANDEM_TEST_MAIL_PYTHON"
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

    /// The conversation the mail's subject names (`… [#c_…]`).
    pub fn reference(&self) -> String {
        self.header("Subject")
            .and_then(|s| {
                s.split("[#")
                    .nth(1)
                    .map(|r| r.trim_end_matches(']').to_owned())
            })
            .expect("the conversation's reference in the subject")
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

/// A fresh SMTP sink, and a desk on a temporary data directory sending to it with `extra` flags.
pub fn desk_with_sink(extra: &[&str]) -> (Sink, MailDesk, tempfile::TempDir) {
    let sink = Sink::start();
    let data = tempfile::tempdir().expect("temp dir");
    let desk = start_desk(&sink.url(), data.path(), extra);
    (sink, desk, data)
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

/// A real IMAP server (Debian's Dovecot, `apt-get install dovecot-imapd`) on a free port with one
/// mailbox, `desk` / [`Dovecot::PASSWORD`], under a temporary directory; stopped when dropped.
pub struct Dovecot {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dovecot {
    pub const USER: &'static str = "desk";
    pub const PASSWORD: &'static str = "imap-test-password-1";

    pub fn start() -> Dovecot {
        let binary = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect(
                "the IMAP test needs Dovecot: apt-get install dovecot-imapd (scripts/test.sh does)",
            );
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("dir");
        }
        // Mail is read as the package's `dovecot` user (Dovecot refuses root for mail access).
        let owner = Command::new("id")
            .args(["-u", "dovecot"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<u32>().ok())
            .expect("the dovecot user (from the dovecot-core package)");
        std::os::unix::fs::chown(root.join("home"), Some(owner), Some(owner)).expect("chown");
        let mut perms = std::fs::metadata(root).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(root, perms).expect("chmod");
        std::fs::write(
            root.join("passwd"),
            format!("{}:{{PLAIN}}{}\n", Self::USER, Self::PASSWORD),
        )
        .expect("passwd");
        let port = free_port();
        let r = root.display();
        let conf = format!(
            "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {r}/run\nstate_dir = {r}/state\n\
             log_path = {r}/dovecot.log\nssl = no\ndisable_plaintext_auth = no\nfirst_valid_uid = {owner}\n\
             auth_mechanisms = plain login\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {r}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={owner} gid={owner} home={r}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             service imap-login {{\n  inet_listener imap {{\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n  chroot =\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(root.join("dovecot.conf"), conf).expect("conf");
        let child = Command::new(binary)
            .args(["-F", "-c"])
            .arg(root.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "dovecot did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Dovecot {
            child,
            port,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("imap://{}@127.0.0.1:{}/INBOX", Self::USER, self.port)
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await
            .expect("greeting")
            .expect("greeting");
        client
            .login(Self::USER, Self::PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .expect("login")
    }

    /// Puts a mail into the inbox, as a mail server delivering it would.
    pub async fn deliver(&self, raw: &str) {
        let mut s = self.session().await;
        s.append("INBOX", None, None, raw.replace('\n', "\r\n"))
            .await
            .expect("append");
        s.logout().await.expect("logout");
    }

    /// The flags of every mail in the inbox, in order: mails are never deleted.
    pub async fn flags(&self) -> Vec<Vec<String>> {
        use futures_util::TryStreamExt;
        let mut s = self.session().await;
        s.select("INBOX").await.expect("select");
        let fetches: Vec<_> = s
            .fetch("1:*", "FLAGS")
            .await
            .expect("fetch")
            .try_collect()
            .await
            .expect("fetches");
        let out = fetches
            .iter()
            .map(|f| f.flags().map(|fl| format!("{fl:?}")).collect())
            .collect();
        s.logout().await.expect("logout");
        out
    }
}
