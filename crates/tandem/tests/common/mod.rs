//! Helpers for tests of the real binary on PostgreSQL: a fresh database per test (dropped
//! afterwards, also on failure) and `tandem serve` processes on free ports.

#![allow(dead_code)]

pub mod desk;
pub mod mail;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[allow(unused_imports)]
pub use test_support::{connect, PgDatabase};

/// A running `tandem serve`, killed when dropped.
pub struct Node {
    pub child: Child,
    pub base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `tandem serve` (demo playbook) on a free port and waits for the line saying where it
/// listens. `args` are extra flags, e.g. `--database-url`. The encoder is off unless `args` name
/// one (`--encoder DIR`): a test never fetches a model by surprise.
pub fn start(args: &[&str]) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .env("TANDEM_LOG", "warn")
        .env("TANDEM_ENCODER", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tandem");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("tandem exited before listening")
            .expect("read line");
        if let Some(rest) = line.split(" on http://").nth(1) {
            break format!("http://{}", rest.trim_end_matches('/'));
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Node { child, base }
}

/// Polls `check` until it returns `Some`, at most `limit`; panics with `what` otherwise.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
