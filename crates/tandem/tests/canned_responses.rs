//! Canned responses over the real binary's API: an agent's own and the team's shared ones, who
//! sees and changes which, and refusals with JSON errors.

mod common;

use common::desk::{admin_token, agent_login, client, error_of};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_and_personal_canned_responses() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().expect("path").to_owned();
    let node = common::start(&["--data-dir", &data_dir, "--rate-limits", "false"]);
    let (c, base) = (client(), node.base.clone());
    let admin = admin_token(&c, &base).await;
    let (_, ben) = agent_login(&c, &base, 1).await;
    let (_, clara) = agent_login(&c, &base, 2).await;
    let url = format!("{base}/api/v1/canned-responses");
    let post = |token: &str, body: Value| c.post(&url).bearer_auth(token).json(&body).send();
    // An agent adds their own; only an admin adds a shared one.
    let res = post(&ben, json!({"title": "Versand", "text": "Hallo {{customer.name}}, Ihr Paket ist unterwegs. {{agent.name}}", "locale": "de"})).await.expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let own: Value = res.json().await.expect("json");
    assert_eq!(own["shared"], false);
    let res = post(&ben, json!({"title": "Team", "text": "x", "shared": true}))
        .await
        .expect("post");
    assert_eq!(error_of(res).await.0, StatusCode::FORBIDDEN);
    let res = post(
        &admin,
        json!({"title": "Begrüßung", "text": "Guten Tag!", "shared": true}),
    )
    .await
    .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let shared: Value = res.json().await.expect("json");
    // Bad input: a clear 400.
    let res = post(&ben, json!({"title": " ", "text": "x"}))
        .await
        .expect("post");
    assert_eq!(error_of(res).await.0, StatusCode::BAD_REQUEST);
    let res = post(
        &ben,
        json!({"title": "t", "text": "x", "locale": "kein locale"}),
    )
    .await
    .expect("post");
    assert_eq!(error_of(res).await.0, StatusCode::BAD_REQUEST);
    // Ben sees the shared one and his own; Clara the shared one only.
    let list = |token: String| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            let v: Value = c
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("json");
            v.as_array()
                .expect("list")
                .iter()
                .map(|x| x["title"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(ben.clone()).await, ["Begrüßung", "Versand"]);
    assert_eq!(list(clara.clone()).await, ["Begrüßung"]);
    // Clara can neither change nor delete Ben's (it does not exist for her) nor the shared one.
    let own_url = format!("{url}/{}", own["id"]);
    let res = c
        .put(&own_url)
        .bearer_auth(&clara)
        .json(&json!({"title": "x", "text": "y"}))
        .send()
        .await
        .expect("put");
    assert_eq!(error_of(res).await.0, StatusCode::NOT_FOUND);
    let shared_url = format!("{url}/{}", shared["id"]);
    let res = c
        .delete(&shared_url)
        .bearer_auth(&clara)
        .send()
        .await
        .expect("delete");
    assert_eq!(error_of(res).await.0, StatusCode::FORBIDDEN);
    // Ben changes and deletes his own; the admin changes the shared one.
    let res = c
        .put(&own_url)
        .bearer_auth(&ben)
        .json(&json!({"title": "Versand 2", "text": "Unterwegs."}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.expect("json");
    assert_eq!(
        (changed["title"].as_str(), changed["locale"].is_null()),
        (Some("Versand 2"), true)
    );
    let res = c
        .put(&shared_url)
        .bearer_auth(&admin)
        .json(&json!({"title": "Begrüßung", "text": "Hallo!", "shared": true}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::OK);
    let res = c
        .delete(&own_url)
        .bearer_auth(&ben)
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(list(ben).await, ["Begrüßung"]);
    // Customers and strangers get nothing.
    let res = c.get(&url).send().await.expect("list");
    assert_eq!(error_of(res).await.0, StatusCode::UNAUTHORIZED);
}
