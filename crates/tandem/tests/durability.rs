//! The real binary, killed with SIGKILL while customers are writing: every message the API
//! acknowledged with 201 is there after a restart on the same data dir.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::Node;
use serde_json::{json, Value};

/// Starts `tandem serve` on the SQLite database in `data_dir`.
fn start(data_dir: &Path) -> Node {
    let dir = data_dir.to_str().expect("utf-8 path");
    common::start(&["--rate-limits", "false", "--data-dir", dir])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut desk = start(dir.path());
    let client = reqwest::Client::new();

    let mut conversations = Vec::new();
    for _ in 0..8 {
        let c: Value = client
            .post(format!("{}/api/v1/conversations", desk.base))
            .json(&json!({}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        conversations.push((
            c["id"].as_str().expect("id").to_owned(),
            c["token"].as_str().expect("token").to_owned(),
        ));
    }

    // Customers write as fast as they can; the desk is killed while they do.
    let acked: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let mut writers = Vec::new();
    for (n, (id, token)) in conversations.iter().cloned().enumerate() {
        let client = client.clone();
        let base = desk.base.clone();
        let acked = acked.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let text = format!("Nachricht {i} von Kunde {n}");
                let res = client
                    .post(format!("{base}/api/v1/conversations/{id}/messages"))
                    .bearer_auth(&token)
                    .json(&json!({"text": text}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().as_u16() == 201 => {
                        acked
                            .lock()
                            .expect("lock")
                            .push((id.clone(), token.clone(), text))
                    }
                    _ => break, // the desk is gone
                }
            }
        }));
    }
    // Kill once a good number of messages are acknowledged (no sleeps: poll the count).
    loop {
        tokio::task::yield_now().await;
        if acked.lock().expect("lock").len() >= 300 {
            break;
        }
    }
    desk.child.kill().expect("SIGKILL"); // SIGKILL on Unix: no shutdown, no flush
    desk.child.wait().expect("wait");
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 300);

    let desk = start(dir.path());
    let mut missing = Vec::new();
    for (id, token) in &conversations {
        let c: Value = client
            .get(format!("{}/api/v1/conversations/{id}", desk.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let texts: Vec<&str> = c["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["text"].as_str())
            .collect();
        for (cid, _, text) in acked.iter().filter(|(cid, _, _)| cid == id) {
            if !texts.contains(&text.as_str()) {
                missing.push(format!("{cid}: {text}"));
            }
        }
    }
    drop(desk);
    assert!(
        missing.is_empty(),
        "{} acknowledged messages lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
}
