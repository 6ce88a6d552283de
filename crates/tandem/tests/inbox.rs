//! The inbox with the real binary: each agent's unread counts (from their own read markers,
//! moved by reading), and the search over the conversations an agent may open.

mod common;

use common::desk::{
    admin_token, agent_login, client, error_of, go_online, open_conversation, wait_for_assignee,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn get(c: &reqwest::Client, url: String, token: &str) -> Value {
    let res = c.get(url).bearer_auth(token).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

/// The caller's unread count of conversation `id` in their assigned list.
async fn unread(c: &reqwest::Client, base: &str, token: &str, id: &str) -> Value {
    let mine = get(c, format!("{base}/api/v1/agent/conversations"), token).await;
    mine["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .find(|v| v["id"] == id)
        .map(|v| v["unread"].clone())
        .expect("the conversation is listed")
}

async fn found(c: &reqwest::Client, base: &str, token: &str, q: &str) -> Vec<String> {
    let url = format!("{base}/api/v1/agent/search?q={}", urlencode(q));
    get(c, url, token).await["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect()
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_and_search_follow_each_agent() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().expect("path").to_owned();
    let node = common::start(&["--data-dir", &data_dir, "--rate-limits", "false"]);
    let (c, base) = (client(), node.base.clone());
    let (ben, ben_token) = agent_login(&c, &base, 1).await;
    let (_, clara_token) = agent_login(&c, &base, 2).await;
    go_online(&c, &base, ben, &ben_token).await;
    let (id, token) = open_conversation(
        &c,
        &base,
        json!({"locale": "de", "text": "Ich möchte mit einem Menschen sprechen, Vertrag Nr. 47-11 Müller"}),
    )
    .await;
    wait_for_assignee(&c, &base, &id, &token, ben).await;
    assert_eq!(
        unread(&c, &base, &ben_token, &id).await,
        1,
        "the customer's message"
    );
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .bearer_auth(&token)
        .json(&json!({"text": "Sind Sie da?"}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(unread(&c, &base, &ben_token, &id).await, 2);
    // Ben reads it: nothing unread; his own reply does not count.
    let read = format!("{base}/api/v1/conversations/{id}/read");
    let res = c
        .post(&read)
        .bearer_auth(&ben_token)
        .send()
        .await
        .expect("read");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .bearer_auth(&ben_token)
        .json(&json!({"text": "Ja, ich kümmere mich darum."}))
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(unread(&c, &base, &ben_token, &id).await, 0);
    // The customer keeps no read marker; Clara may not read Ben's conversation.
    let res = c
        .post(&read)
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(error_of(res).await.0, StatusCode::FORBIDDEN);
    let res = c
        .post(&read)
        .bearer_auth(&clara_token)
        .send()
        .await
        .expect("read");
    assert_eq!(error_of(res).await.0, StatusCode::FORBIDDEN);

    // Search: by a message's words in any case, by the agent's reply; only where one may look.
    assert_eq!(
        found(&c, &base, &ben_token, "vertrag nr. 47-11").await,
        [id.as_str()]
    );
    assert_eq!(found(&c, &base, &ben_token, "kümmere").await, [id.as_str()]);
    assert!(
        found(&c, &base, &clara_token, "47-11").await.is_empty(),
        "not Clara's"
    );
    let admin = admin_token(&c, &base).await;
    assert_eq!(found(&c, &base, &admin, "47-11").await, [id.as_str()]);
    assert!(
        found(&c, &base, &admin, "47%11").await.is_empty(),
        "% is a character"
    );
    for q in ["", "x", &"y".repeat(201)] {
        let res = c
            .get(format!("{base}/api/v1/agent/search?q={}", urlencode(q)))
            .bearer_auth(&ben_token)
            .send()
            .await
            .expect("search");
        assert_eq!(error_of(res).await.0, StatusCode::BAD_REQUEST, "q = {q:?}");
    }
    let res = c
        .get(format!("{base}/api/v1/agent/search?q=47"))
        .send()
        .await
        .expect("search");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
