//! The HTTP side of the real-binary tests: clients, sign-ins, conversations, streams, raw
//! connections.

use std::io::Read;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

pub async fn admin_token(c: &reqwest::Client, base: &str) -> String {
    let admin = &server::bootstrap::DEMO_LOGINS[0];
    let res = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": admin.email, "password": admin.password}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    body["token"].as_str().expect("token").to_owned()
}

/// The status and the error code of an answer that must be a JSON error.
pub async fn error_of(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.expect("a JSON error body");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    assert!(body["error"]["message"].is_string(), "{body}");
    (status, code)
}

/// A demo agent's id and bearer token.
pub async fn agent_login(c: &reqwest::Client, base: &str, n: usize) -> (i64, String) {
    let who = &server::bootstrap::DEMO_LOGINS[n];
    let res = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": who.email, "password": who.password}))
        .send()
        .await
        .expect("login");
    let token = res.json::<Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let admin = admin_token(c, base).await;
    let agents: Value = c
        .get(format!("{base}/api/v1/agents"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("agents")
        .json()
        .await
        .expect("json");
    let id = agents
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["email"] == who.email)
        .and_then(|a| a["id"].as_i64())
        .expect("the agent's id");
    (id, token)
}

pub async fn go_online(c: &reqwest::Client, base: &str, id: i64, token: &str) {
    let res = c
        .put(format!("{base}/api/v1/agents/{id}/presence"))
        .bearer_auth(token)
        .json(&json!({"status": "online"}))
        .send()
        .await
        .expect("presence");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

/// Reads an event stream until it ends or `limit` passes; returns what came and whether it
/// ended.
pub async fn drain(mut res: reqwest::Response, limit: Duration) -> (String, bool) {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, res.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) | Ok(Err(_)) => return (seen, true),
            Err(_) => return (seen, false),
        }
    }
}

/// The value of the cookie `name` that `res` sets.
pub fn cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .expect("the cookie")
        .to_owned()
}

/// Reads from `conn` until it closes, an error, or `limit`; returns what came and whether the
/// server ended the connection.
pub fn read_until_closed(conn: &mut std::net::TcpStream, limit: Duration) -> (String, bool) {
    conn.set_read_timeout(Some(limit)).expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match Read::read(conn, &mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (String::from_utf8_lossy(&got).into_owned(), false)
            }
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), true),
        }
    }
}

/// Opens a conversation with `body`; its id and customer token.
pub async fn open_conversation(c: &reqwest::Client, base: &str, body: Value) -> (String, String) {
    let created: Value = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&body)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    (
        created["id"].as_str().expect("id").to_owned(),
        created["token"].as_str().expect("token").to_owned(),
    )
}

/// The conversation as `token` sees it, if it answers with JSON.
pub async fn read_conversation(
    c: &reqwest::Client,
    base: &str,
    id: &str,
    token: &str,
) -> Option<Value> {
    c.get(format!("{base}/api/v1/conversations/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

/// Waits until the conversation is assigned to `agent`.
pub async fn wait_for_assignee(c: &reqwest::Client, base: &str, id: &str, token: &str, agent: i64) {
    crate::common::eventually("the assignment", Duration::from_secs(10), || async {
        read_conversation(c, base, id, token)
            .await
            .filter(|v| v["assignee"]["id"] == agent)
    })
    .await;
}

/// What the desk holds about a customer (`GET /api/v1/customers/export`, an admin's token).
pub async fn export(c: &reqwest::Client, base: &str, admin: &str, email: &str) -> Value {
    c.get(format!("{base}/api/v1/customers/export"))
        .query(&[("email", email)])
        .bearer_auth(admin)
        .send()
        .await
        .expect("export")
        .json()
        .await
        .expect("json")
}

/// A fresh help-center CAPTCHA with its math question solved: `{"id", "answer"}`.
pub async fn solved_captcha(c: &reqwest::Client, base: &str) -> Value {
    let captcha: Value = c
        .get(format!("{base}/api/v1/captcha"))
        .send()
        .await
        .expect("captcha")
        .json()
        .await
        .expect("json");
    let sum: u32 = captcha["math"]["question"]
        .as_str()
        .expect("question")
        .trim_end_matches(" = ?")
        .split(" + ")
        .filter_map(|x| x.parse::<u32>().ok())
        .sum();
    json!({"id": captcha["id"], "answer": sum})
}
