//! `tandem migrate-store` moves a SQLite desk into PostgreSQL: conversations with their tokens
//! and messages, agents with their passwords, sessions, and the event log, ids kept; the desk
//! then runs on PostgreSQL as before.

mod common;

use std::process::Command;

use common::{start, PgDatabase};
use reqwest::Client;
use serde_json::{json, Value};

async fn json_of(res: reqwest::Response) -> Value {
    res.json().await.expect("json")
}

async fn conversation(client: &Client, base: &str, id: &str, token: &str) -> Value {
    let res = client
        .get(format!("{base}/api/v1/conversations/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    json_of(res).await
}

fn migrate(from: &str, to: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["migrate-store", "--from", from, "--to", to])
        .output()
        .expect("run migrate-store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_desk_moves_to_postgres_with_nothing_lost() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path").to_owned();
    let client = Client::new();

    // A desk on SQLite with some history.
    let sqlite = start(&["--data-dir", &data_dir]);
    let mut conversations = Vec::new();
    for text in [
        "Wo ist meine Bestellung?",
        "Ich möchte mit einem Menschen sprechen",
    ] {
        let res = client
            .post(format!("{}/api/v1/conversations", sqlite.base))
            .json(&json!({ "text": text }))
            .send()
            .await
            .expect("create");
        let c = json_of(res).await;
        let (id, token) = (
            c["id"].as_str().expect("id"),
            c["token"].as_str().expect("t"),
        );
        conversations.push((id.to_owned(), token.to_owned()));
    }
    let res = client
        .post(format!("{}/api/v1/auth/token", sqlite.base))
        .json(&json!({"email": "ben@demo.tandem", "password": "tandem-demo-ben"}))
        .send()
        .await
        .expect("login");
    let ben_token = json_of(res).await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // A reader's comment in the help center (math CAPTCHA).
    let captcha = common::desk::solved_captcha(&client, &sqlite.base).await;
    let res = client
        .post(format!("{}/api/v1/articles/returns/comments", sqlite.base))
        .json(&json!({"author": "Kim", "text": "Danke!",
                      "captcha": captcha}))
        .send()
        .await
        .expect("comment");
    assert_eq!(res.status().as_u16(), 201);
    let mut before = Vec::new();
    for (id, token) in &conversations {
        before.push(conversation(&client, &sqlite.base, id, token).await);
    }
    drop(sqlite);

    let db = PgDatabase::create("migrate").await;
    let from = format!("sqlite://{data_dir}/tandem.db");
    let out = migrate(&from, &db.url);
    assert!(
        out.status.success(),
        "migrate-store failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Copied 3 agents"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("messages"));
    // A second run refuses to mix two desks.
    assert!(!migrate(&from, &db.url).status.success());

    // The same desk on PostgreSQL: same conversations, tokens, messages, sessions, passwords.
    let pg = start(&["--database-url", &db.url]);
    for ((id, token), was) in conversations.iter().zip(&before) {
        let now = conversation(&client, &pg.base, id, token).await;
        assert_eq!(now, *was);
    }
    let res = client
        .get(format!("{}/api/v1/agent/conversations", pg.base))
        .bearer_auth(&ben_token)
        .send()
        .await
        .expect("inbox");
    assert_eq!(res.status().as_u16(), 200, "the session moved too");
    let res = client
        .post(format!("{}/api/v1/auth/token", pg.base))
        .json(&json!({"email": "clara@demo.tandem", "password": "tandem-demo-clara"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status().as_u16(), 200, "password hashes moved");
    // New rows get new ids after the copied ones.
    let (id, token) = &conversations[0];
    let res = client
        .post(format!("{}/api/v1/conversations/{id}/messages", pg.base))
        .bearer_auth(token)
        .json(&json!({"text": "Wie lange dauert der Versand?"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 201);
    let last_before = before[0]["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["id"].as_i64())
        .expect("last id");
    let posted = json_of(res).await;
    let first_new = posted["messages"][0]["id"].as_i64().expect("new id");
    assert!(first_new > last_before);
    let pgc = common::connect(&db.url).await;
    let events: i64 = pgc
        .query_one("SELECT COUNT(*) FROM events WHERE kind = 'handoff'", &[])
        .await
        .expect("events")
        .get(0);
    assert_eq!(events, 1, "the event log moved");
    for (sql, what) in [
        (
            "SELECT COUNT(*) FROM comments WHERE text = 'Danke!'",
            "the comment moved",
        ),
        (
            "SELECT COUNT(*) FROM articles WHERE id = 'returns'",
            "the articles moved",
        ),
        (
            "SELECT COUNT(*) FROM settings WHERE name = 'captcha_secret'",
            "the CAPTCHA secret moved",
        ),
    ] {
        let n: i64 = pgc.query_one(sql, &[]).await.expect(what).get(0);
        assert_eq!(n, 1, "{what}");
    }
}
