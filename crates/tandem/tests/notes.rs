//! What passes between the two sides besides messages, with the real binary: agents' internal
//! notes (agents see them in the transcript; the customer never does, not in the conversation's
//! read, not on its live stream, not by mail) and typing signals (each side hears the other's).

mod common;

use std::time::Duration;

use common::desk::{admin_token, client, drain, open_conversation, read_conversation};
use common::mail::desk_with_sink;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_never_reaches_the_customer() {
    let (sink, desk, _data) = desk_with_sink(&[]);
    let (c, base) = (client(), desk.node.base.clone());
    let (id, token) = open_conversation(
        &c,
        &base,
        json!({"locale": "de", "text": "Ich möchte mit einem Menschen sprechen"}),
    )
    .await;
    // The customer wants the answer by mail: replies go out by mail from now on.
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/email"))
        .bearer_auth(&token)
        .json(&json!({"email": "kim@kunde.example"}))
        .send()
        .await
        .expect("email");
    assert_eq!(res.status().as_u16(), 200);
    // The customer follows the conversation live.
    let stream = c
        .get(format!("{base}/api/v1/conversations/{id}/events"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status().as_u16(), 200);
    let watching = tokio::spawn(drain(stream, Duration::from_secs(4)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let admin = admin_token(&c, &base).await;
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/notes"))
        .bearer_auth(&admin)
        .json(&json!({"text": "Kundin ist Stammkundin, Kulanz möglich"}))
        .send()
        .await
        .expect("note");
    assert_eq!(res.status().as_u16(), 201);
    let posted: Value = res.json().await.expect("json");
    assert_eq!(posted["messages"][0]["author"], "note");
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .bearer_auth(&admin)
        .json(&json!({"text": "Wir schreiben Ihnen gleich."}))
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status().as_u16(), 201);
    // The customer's token cannot write a note.
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/notes"))
        .bearer_auth(&token)
        .json(&json!({"text": "x"}))
        .send()
        .await
        .expect("note");
    assert_eq!(res.status().as_u16(), 403);

    let (seen, _) = watching.await.expect("stream task");
    assert!(seen.contains("Wir schreiben Ihnen gleich."), "{seen}");
    assert!(
        !seen.contains("Kulanz"),
        "the note reached the customer's stream: {seen}"
    );
    let customer = read_conversation(&c, &base, &id, &token)
        .await
        .expect("read");
    assert!(
        !customer["messages"].to_string().contains("Kulanz"),
        "{customer}"
    );
    let agent = read_conversation(&c, &base, &id, &admin)
        .await
        .expect("read");
    let note = agent["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["author"] == "note")
        .expect("agents see the note");
    assert_eq!(note["text"], "Kundin ist Stammkundin, Kulanz möglich");
    let reply = sink
        .wait_for(10, |m| m.text().contains("Wir schreiben Ihnen gleich."))
        .await;
    assert_eq!(reply.to(), ["kim@kunde.example"]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        sink.mails().iter().all(|m| !m.raw.contains("Kulanz")),
        "the note went out by mail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_side_hears_the_other_typing() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().expect("path").to_owned();
    let node = common::start(&["--data-dir", &data_dir, "--rate-limits", "false"]);
    let (c, base) = (client(), node.base.clone());
    let (id, token) = open_conversation(&c, &base, json!({"locale": "de"})).await;
    let admin = admin_token(&c, &base).await;
    let events = format!("{base}/api/v1/conversations/{id}/events");
    let customer_stream = c
        .get(&events)
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    let agent_stream = c
        .get(&events)
        .bearer_auth(&admin)
        .send()
        .await
        .expect("stream");
    let customer_sees = tokio::spawn(drain(customer_stream, Duration::from_secs(3)));
    let agent_sees = tokio::spawn(drain(agent_stream, Duration::from_secs(3)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let typing = format!("{base}/api/v1/conversations/{id}/typing");
    let res = c
        .post(&typing)
        .bearer_auth(&token)
        .send()
        .await
        .expect("typing");
    assert_eq!(res.status().as_u16(), 204);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = c
        .post(&typing)
        .bearer_auth(&admin)
        .send()
        .await
        .expect("typing");
    assert_eq!(res.status().as_u16(), 204);
    let (customer, _) = customer_sees.await.expect("task");
    let (agent, _) = agent_sees.await.expect("task");
    assert!(
        customer.contains("event: typing") && customer.contains(r#""who":"agent""#),
        "{customer}"
    );
    assert!(
        !customer.contains(r#""who":"customer""#),
        "the customer is not told of themselves"
    );
    assert!(agent.contains(r#""who":"customer""#), "{agent}");
    assert!(
        !agent.contains(r#""who":"agent""#),
        "agents are not told of themselves"
    );
    let res = c.post(&typing).send().await.expect("typing");
    assert_eq!(res.status().as_u16(), 401, "a stranger is not let in");
}
