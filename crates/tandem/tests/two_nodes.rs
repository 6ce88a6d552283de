//! Two real `tandem serve` processes on one fresh PostgreSQL database act as one desk: a message
//! posted on one node reaches SSE listeners on the other, 60 concurrent handoffs spread over
//! both nodes are each assigned exactly once with no agent over capacity, rate limits hold
//! across nodes, and restarting both nodes loses nothing.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{start, Node, PgDatabase};
use reqwest::Client;
use serde_json::{json, Value};

const HANDOFF_TEXT: &str = "Ich möchte mit einem Menschen sprechen";
const CAPACITIES: [u32; 4] = [1, 2, 2, 3];
const CONVERSATIONS: usize = 60;

async fn json_of(res: reqwest::Response) -> Value {
    let status = res.status();
    let body = res.text().await.expect("body");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("{status}: {body}"))
}

async fn new_conversation(client: &Client, node: &Node, text: Option<&str>) -> (String, String) {
    let body = match text {
        Some(t) => json!({ "text": t }),
        None => json!({}),
    };
    let res = client
        .post(format!("{}/api/v1/conversations", node.base))
        .json(&body)
        .send()
        .await
        .expect("create");
    assert_eq!(res.status().as_u16(), 201);
    let c = json_of(res).await;
    (
        c["id"].as_str().expect("id").to_owned(),
        c["token"].as_str().expect("token").to_owned(),
    )
}

async fn login(client: &Client, node: &Node, email: &str, password: &str) -> String {
    let res = client
        .post(format!("{}/api/v1/auth/token", node.base))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 200, "login {email}");
    json_of(res).await["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Subscribes to a conversation's SSE stream; returns once subscribed, with a channel of the
/// message texts that arrive.
async fn subscribe(
    client: &Client,
    node: &Node,
    id: &str,
    token: &str,
) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let mut res = client
        .get(format!("{}/api/v1/conversations/{id}/events", node.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("subscribe");
    assert_eq!(res.status().as_u16(), 200);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = res.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let event: String = buf.drain(..end + 2).collect();
                for data in event.lines().filter_map(|l| l.strip_prefix("data:")) {
                    if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                        if let Some(text) = v["text"].as_str() {
                            let _ = tx.send(text.to_owned());
                        }
                    }
                }
            }
        }
    });
    rx
}

async fn expect_live(rx: &mut tokio::sync::mpsc::UnboundedReceiver<String>, text: &str) {
    let wait = async {
        while let Some(t) = rx.recv().await {
            if t == text {
                return true;
            }
        }
        false
    };
    let heard = tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or(false);
    assert!(heard, "the other node never delivered {text:?}");
}

async fn post_message(client: &Client, node: &Node, id: &str, token: &str, text: &str) {
    let res = client
        .post(format!("{}/api/v1/conversations/{id}/messages", node.base))
        .bearer_auth(token)
        .json(&json!({ "text": text }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 201);
}

async fn cross_node_sse(client: &Client, a: &Node, b: &Node) {
    let (id, token) = new_conversation(client, a, None).await;
    let mut on_b = subscribe(client, b, &id, &token).await;
    let mut on_a = subscribe(client, a, &id, &token).await;
    post_message(client, a, &id, &token, "Wo ist meine Bestellung?").await;
    expect_live(&mut on_b, "Wo ist meine Bestellung?").await;
    // And the other way round, while the local listener still hears its own node once.
    post_message(client, b, &id, &token, "Wie lange dauert der Versand?").await;
    expect_live(&mut on_a, "Wo ist meine Bestellung?").await;
    expect_live(&mut on_a, "Wie lange dauert der Versand?").await;
}

struct Agent {
    id: i64,
    token: String,
    capacity: u32,
}

/// The desk's truth, straight from the database: assignments per conversation and load now.
async fn check_assignments(db: &tokio_postgres::Client, agents: &[Agent]) -> (usize, usize) {
    let twice = db
        .query(
            "SELECT conversation_id, COUNT(*) FROM events WHERE kind = 'assigned'
             GROUP BY conversation_id HAVING COUNT(*) > 1",
            &[],
        )
        .await
        .expect("query");
    assert!(twice.is_empty(), "assigned more than once: {twice:?}");
    for a in agents {
        let load: i64 = db
            .query_one(
                "SELECT COUNT(*) FROM conversations WHERE assignee_id = $1 AND state = 'assigned'",
                &[&a.id],
            )
            .await
            .expect("load")
            .get(0);
        assert!(
            load <= i64::from(a.capacity),
            "agent {} has {load} conversations, capacity {}",
            a.id,
            a.capacity
        );
    }
    let count = |state: &'static str| async move {
        let n: i64 = db
            .query_one(
                "SELECT COUNT(*) FROM conversations WHERE state = $1",
                &[&state],
            )
            .await
            .expect("count")
            .get(0);
        n as usize
    };
    (count("assigned").await, count("resolved").await)
}

async fn concurrent_handoffs(client: &Client, nodes: &[&Node], db: &tokio_postgres::Client) {
    let admin = login(client, nodes[0], "admin@demo.tandem", "tandem-demo-admin").await;
    let mut agents = Vec::new();
    for (i, capacity) in CAPACITIES.into_iter().enumerate() {
        let node = nodes[i % 2];
        let (email, password) = (format!("load{i}@example.org"), "load-test-password");
        let res = client
            .post(format!("{}/api/v1/agents", node.base))
            .bearer_auth(&admin)
            .json(&json!({
                "name": format!("Load {i}"), "email": email, "password": password,
                "role": "agent", "locales": ["de", "en"], "skills": [],
                "competences": {"self": 3, "people": 3, "situational": 3},
                "limits": [], "capacity": capacity
            }))
            .send()
            .await
            .expect("create agent");
        assert_eq!(res.status().as_u16(), 201);
        let id = json_of(res).await["id"].as_i64().expect("agent id");
        let token = login(client, nodes[(i + 1) % 2], &email, password).await;
        let res = client
            .put(format!("{}/api/v1/agents/{id}/presence", node.base))
            .bearer_auth(&token)
            .json(&json!({"status": "online"}))
            .send()
            .await
            .expect("presence");
        assert_eq!(res.status().as_u16(), 204);
        agents.push(Agent {
            id,
            token,
            capacity,
        });
    }

    // 60 customers ask for a person at once, half on each node.
    let mut tasks = Vec::new();
    for i in 0..CONVERSATIONS {
        let client = client.clone();
        let base = nodes[i % 2].base.clone();
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/api/v1/conversations"))
                .json(&json!({ "text": HANDOFF_TEXT }))
                .send()
                .await
                .expect("create");
            assert_eq!(res.status().as_u16(), 201);
            let c = json_of(res).await;
            assert_ne!(c["state"], "bot", "no handoff: {c}");
        }));
    }
    for t in tasks {
        t.await.expect("customer");
    }
    let total: u32 = CAPACITIES.iter().sum();
    let (assigned, _) = check_assignments(db, &agents).await;
    assert_eq!(assigned, total as usize, "every free seat is taken");

    // Agents resolve what they have, on alternating nodes, all at once; freed capacity pulls
    // the queue, until every conversation has been with a person and is resolved.
    let mut rounds = 0;
    loop {
        let (_, resolved) = check_assignments(db, &agents).await;
        if resolved == CONVERSATIONS {
            break;
        }
        rounds += 1;
        assert!(rounds <= 2 * CONVERSATIONS, "the queue does not drain");
        let mut tasks = Vec::new();
        for (i, a) in agents.iter().enumerate() {
            let res = client
                .get(format!("{}/api/v1/agent/conversations", nodes[i % 2].base))
                .bearer_auth(&a.token)
                .send()
                .await
                .expect("inbox");
            let inbox = json_of(res).await;
            for (j, c) in inbox["conversations"]
                .as_array()
                .expect("conversations")
                .iter()
                .enumerate()
            {
                let id = c["id"].as_str().expect("id").to_owned();
                let base = nodes[(i + j + rounds) % 2].base.clone();
                let (client, token) = (client.clone(), a.token.clone());
                tasks.push(tokio::spawn(async move {
                    let res = client
                        .post(format!("{base}/api/v1/conversations/{id}/resolve"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("resolve");
                    assert!(res.status().is_success(), "resolve: {}", res.status());
                }));
            }
        }
        for t in tasks {
            t.await.expect("agent");
        }
    }
    let once: i64 = db
        .query_one(
            "SELECT COUNT(DISTINCT conversation_id) FROM events WHERE kind = 'assigned'",
            &[],
        )
        .await
        .expect("assigned")
        .get(0);
    assert_eq!(
        once as usize, CONVERSATIONS,
        "each conversation assigned once"
    );
}

/// Failed logins from one address count on both nodes together: five are allowed in a window,
/// the sixth is refused, even though it goes to the other node (which has seen only one).
async fn rate_limits_hold_across_nodes(a: &Node, b: &Node) {
    // Each try uses its own loopback address, so its counters start fresh; a try fails only if
    // a window boundary falls inside it (a few hundred milliseconds of a 30-second window).
    for last_octet in 2..5u8 {
        let client = Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last_octet]))
            .build()
            .expect("client");
        let mut statuses = Vec::new();
        for node in [a, a, a, a, a, b] {
            let res = client
                .post(format!("{}/api/v1/auth/token", node.base))
                .json(&json!({"email": "nobody@example.org", "password": "wrong-password"}))
                .send()
                .await
                .expect("login");
            statuses.push(res.status().as_u16());
        }
        if statuses == [401, 401, 401, 401, 401, 429] {
            return;
        }
    }
    panic!("the other node did not count this node's login attempts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_act_as_one_desk() {
    let db = PgDatabase::create("two_nodes").await;
    let url = db.url.clone();
    let args = ["--database-url", url.as_str(), "--rate-limits", "false"];
    // Both start together on the empty database: migrations and demo agents must not race.
    let (a, b) = (start(&args), start(&args));
    let client = Client::new();
    let pg = common::connect(&db.url).await;

    cross_node_sse(&client, &a, &b).await;
    concurrent_handoffs(&client, &[&a, &b], &pg).await;

    let before: Vec<(String, i64)> = pg
        .query(
            "SELECT conversation_id, COUNT(*) FROM messages GROUP BY conversation_id ORDER BY 1",
            &[],
        )
        .await
        .expect("messages")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // Restart both nodes (killed, not stopped), now with rate limits on.
    drop((a, b));
    let args = ["--database-url", url.as_str()];
    let (a, b) = (start(&args), start(&args));
    let after: HashMap<String, i64> = pg
        .query(
            "SELECT conversation_id, COUNT(*) FROM messages GROUP BY conversation_id",
            &[],
        )
        .await
        .expect("messages")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(before.len(), CONVERSATIONS + 1);
    for (id, n) in &before {
        assert_eq!(after.get(id), Some(n), "messages of {id} lost");
    }
    // The desk works as before after the restart, across nodes.
    cross_node_sse(&client, &b, &a).await;
    rate_limits_hold_across_nodes(&a, &b).await;
}
