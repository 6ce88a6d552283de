//! `tandem serve --encoder auto` (the default) on a machine without the encoder's model and
//! without a way to fetch it: the real binary starts at once on the fast path, answers a
//! customer over HTTP, and says in one warning line that it carries on without the encoder and
//! how to fetch the model by hand. `--encoder off` says that the fast path runs alone. Needs no
//! model and never downloads one (the Python that would run pip does not exist).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A `tandem serve` whose log lines (stderr) arrive on `log`; killed when dropped.
struct Desk {
    child: Child,
    base: String,
    log: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Desk {
    /// Starts the demo desk with `encoder` (`None`: the default) and a model directory, data
    /// dir and Python that `root` provides: an empty directory, and no Python.
    fn start(root: &std::path::Path, encoder: Option<&str>) -> Desk {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(root.join("data"))
            .env_remove("TANDEM_ENCODER")
            .env_remove("TANDEM_ENCODER_BUDGET_MS")
            .env("TANDEM_MODEL_DIR", root.join("models").join("e5"))
            .env("XDG_DATA_HOME", root.join("xdg"))
            .env("TANDEM_PYTHON", root.join("no-python-here"))
            .env("TANDEM_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(e) = encoder {
            cmd.args(["--encoder", e]);
        }
        let mut child = cmd.spawn().expect("start tandem");
        let (tx, log) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
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
        Desk {
            child,
            base,
            log,
            seen: Vec::new(),
        }
    }

    /// Waits (at most a minute) for a log line containing `text`.
    fn wait_for_line(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line with {text:?} within a minute; the log:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Lines logged so far (without waiting).
    fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.log.try_recv() {
            self.seen.push(line);
        }
        &self.seen
    }
}

async fn chat(base: &str, text: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({ "text": text }))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status().as_u16(), 201);
    res.json().await.expect("json")
}

fn bot_text(c: &Value) -> String {
    c["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["author"] == "bot"))
        .and_then(|m| m["text"].as_str())
        .unwrap_or_else(|| panic!("the bot answered: {c}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_without_a_model_or_pip_serves_on_the_fast_path_and_says_so_once() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut desk = Desk::start(root.path(), None);

    // The desk answers at once, whatever the fetch is doing.
    let c = chat(&desk.base, "Wo ist meine Bestellung?").await;
    assert_eq!(c["state"], "bot", "{c}");
    assert!(!bot_text(&c).is_empty());

    let starting = desk.wait_for_line("machine tier: fast path only for now");
    assert!(
        starting.contains("fetching the encoder's model"),
        "{starting}"
    );
    let warning = desk.wait_for_line("continues on the fast path");
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains("no-python-here"), "the cause: {warning}");
    assert!(
        warning.contains("tandem model fetch"),
        "the remedy: {warning}"
    );

    // Still the fast path, still answering; one warning, and no model was written.
    let c = chat(&desk.base, "How much is shipping?").await;
    assert_eq!(c["state"], "bot", "{c}");
    let metrics = reqwest::get(format!("{}/metrics", desk.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("tandem_encoder_skipped_total 0"),
        "{metrics}"
    );
    let warnings = desk.drain().iter().filter(|l| l.contains("WARN")).count();
    assert_eq!(warnings, 1, "{:?}", desk.seen);
    assert!(!root.path().join("models").join("e5").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_runs_the_fast_path_alone_and_fetches_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut desk = Desk::start(root.path(), Some("off"));
    let c = chat(&desk.base, "I forgot my password").await;
    assert_eq!(c["state"], "bot", "{c}");
    desk.wait_for_line("machine tier: fast path only (encoder off)");
    assert!(
        !desk.drain().iter().any(|l| l.contains("model fetch")),
        "{:?}",
        desk.seen
    );
}
