//! Agents' accounts through the real binary (issue 16, finding 5): logout revokes a token,
//! passwords follow the desk's rules and agents change their own, admins disable, enable and
//! delete agents.

mod common;

use std::time::Duration;

use common::desk::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `POST /api/v1/auth/logout` revokes the caller's bearer token (there was no way to before).
#[tokio::test]
async fn logout_revokes_the_bearer_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let (_, token) = agent_login(&c, base, 1).await;
    let mine = |token: String| {
        c.get(format!("{base}/api/v1/agent/conversations"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        mine(token.clone()).await.expect("read").status(),
        StatusCode::OK
    );
    let res = c
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = mine(token.clone()).await.expect("read");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("logout again");
    assert_eq!(
        error_of(res).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".to_owned())
    );
}

/// New passwords follow the desk's rules, each refusal saying which; an agent changes their own
/// password with the current one, and every session of theirs ends (there was no way to before,
/// and 10 characters of anything were enough).
#[tokio::test]
async fn passwords_follow_the_rules_and_agents_change_their_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let admin = admin_token(&c, base).await;
    let create = |password: &str| {
        c.post(format!("{base}/api/v1/agents"))
            .bearer_auth(&admin)
            .json(&json!({"name": "Dora", "email": "dora@example.org", "password": password}))
            .send()
    };
    for (password, why) in [
        ("kurz-12345", "at least 12"),
        ("123456789012", "consecutive"),
        ("password1234", "common"),
        ("aaaaaaaaaaaaaaa", "one character"),
    ] {
        let res = create(password).await.expect("create");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{password}");
        let body: Value = res.json().await.expect("json");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(why), "{password}: {message}");
    }
    let res = create("agent-Passw0rd-Ada").await.expect("create");
    assert_eq!(res.status(), StatusCode::CREATED);

    let login = |password: &'static str| {
        c.post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"email": "dora@example.org", "password": password}))
            .send()
    };
    let token: Value = login("agent-Passw0rd-Ada")
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = token["token"].as_str().expect("token").to_owned();
    let change = |current: &str, new: &str| {
        c.put(format!("{base}/api/v1/agent/password"))
            .bearer_auth(&token)
            .json(&json!({"current": current, "new": new}))
            .send()
    };
    let res = change("not-my-password", "a-fresh-passphrase-7")
        .await
        .expect("change");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = change("agent-Passw0rd-Ada", "qwertz123456")
        .await
        .expect("change");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = change("agent-Passw0rd-Ada", "a-fresh-passphrase-7")
        .await
        .expect("change");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Every session ended; the old password opens nothing, the new one does.
    let res = c
        .get(format!("{base}/api/v1/agent/conversations"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        login("agent-Passw0rd-Ada").await.expect("login").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login("a-fresh-passphrase-7").await.expect("login").status(),
        StatusCode::OK
    );
}

/// Admins disable, enable and delete agents: a disabled agent's token, login and inbox stream
/// stop at once; enabled again they sign in; deleted, who they were is gone (none of it existed
/// before). An admin cannot lock themselves out.
#[tokio::test]
async fn admins_disable_enable_and_delete_agents() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let admin = admin_token(&c, base).await;
    let (ben, ben_token) = agent_login(&c, base, 1).await;
    let who = &server::bootstrap::DEMO_LOGINS[1];
    go_online(&c, base, ben, &ben_token).await;
    // Ben has a conversation when he is disabled: it goes back to the queue.
    let (conv, customer) = open_conversation(
        &c,
        base,
        json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}),
    )
    .await;
    wait_for_assignee(&c, base, &conv, &customer, ben).await;
    let stream = c
        .get(format!("{base}/api/v1/agent/events"))
        .bearer_auth(&ben_token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let act = |what: &str| {
        c.post(format!("{base}/api/v1/agents/{ben}/{what}"))
            .bearer_auth(&admin)
            .send()
    };
    assert_eq!(
        act("disable").await.expect("disable").status(),
        StatusCode::NO_CONTENT
    );
    let back = read_conversation(&c, base, &conv, &customer)
        .await
        .expect("read");
    assert_eq!(back["state"], "queued", "{back}");
    assert!(back["assignee"].is_null(), "{back}");
    let said = back["messages"].to_string();
    assert!(said.contains("nicht mehr erreichbar"), "{said}");
    let res = c
        .get(format!("{base}/api/v1/agent/conversations"))
        .bearer_auth(&ben_token)
        .send()
        .await
        .expect("read");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let login = || {
        c.post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"email": who.email, "password": who.password}))
            .send()
    };
    assert_eq!(
        login().await.expect("login").status(),
        StatusCode::UNAUTHORIZED
    );
    // Any event makes the stream check again; it ends.
    c.post(format!("{base}/api/v1/conversations"))
        .json(&json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}))
        .send()
        .await
        .expect("create");
    let (seen, ended) = drain(stream, Duration::from_secs(5)).await;
    assert!(ended, "the disabled agent's stream went on: {seen}");
    let listed: Value = c
        .get(format!("{base}/api/v1/agents"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let row = |v: &Value| {
        v.as_array()
            .expect("list")
            .iter()
            .find(|a| a["id"] == ben)
            .cloned()
            .expect("Ben")
    };
    assert_eq!(row(&listed)["disabled"], true, "{listed}");
    assert_eq!(row(&listed)["presence"], "offline", "{listed}");

    assert_eq!(
        act("enable").await.expect("enable").status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(login().await.expect("login").status(), StatusCode::OK);

    let res = c
        .delete(format!("{base}/api/v1/agents/{ben}"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        login().await.expect("login").status(),
        StatusCode::UNAUTHORIZED
    );
    let listed: Value = c
        .get(format!("{base}/api/v1/agents"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(!listed.to_string().contains(who.email), "{listed}");
    assert_eq!(row(&listed)["disabled"], true);

    let (me, _) = agent_login(&c, base, 0).await;
    let res = c
        .post(format!("{base}/api/v1/agents/{me}/disable"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("disable self");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
