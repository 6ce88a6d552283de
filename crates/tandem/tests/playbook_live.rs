//! The playbook in the desk, with the real binary (issue 15): an admin adds an intent and an
//! example through the API and within seconds the bot answers them, without a restart, on SQLite
//! and on two PostgreSQL nodes; bad input is refused with the field named and nothing changed;
//! a rollback takes a change back; the store keeps the truth across restarts; `tandem playbook
//! export|import` round-trip it.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::desk::{client, error_of};
use common::{eventually, start, PgDatabase};
use reqwest::StatusCode;
use serde_json::{json, Value};

const ADMIN: &str = "lea@radhaus.example";
const PASSWORD: &str = "a-long-admin-passphrase";
/// A bicycle shop's playbook (a fixture of the machine tier's tests).
const PLAYBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../nlu/tests/fixtures/radhaus.toml"
);
const COFFEE: &str = "Gibt es bei euch im Laden auch Kaffee?";

fn args<'a>(data_or_url: [&'a str; 2], playbook: &'a str) -> Vec<&'a str> {
    vec![
        data_or_url[0],
        data_or_url[1],
        "--playbook",
        playbook,
        "--rate-limits",
        "false",
        "--admin-email",
        ADMIN,
        "--admin-password",
        PASSWORD,
    ]
}

async fn token(c: &reqwest::Client, base: &str) -> String {
    let res = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": ADMIN, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    body["token"].as_str().expect("token").to_owned()
}

async fn post(c: &reqwest::Client, url: String, token: &str, body: Value) -> reqwest::Response {
    send(c.post(url), token, Some(body)).await
}

async fn triage(c: &reqwest::Client, base: &str, token: &str, text: &str) -> Value {
    let res = post(
        c,
        format!("{base}/api/v1/triage"),
        token,
        json!({ "text": text }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

/// Waits until `text` is answered with `intent` on the desk at `base`.
async fn answered(c: &reqwest::Client, base: &str, token: &str, text: &str, intent: &str) {
    eventually(
        &format!("{text:?} answered with {intent}"),
        Duration::from_secs(30),
        || async {
            let t = triage(c, base, token, text).await;
            (t["action"] == "answer" && t["intent"] == intent).then_some(())
        },
    )
    .await;
}

async fn playbook(c: &reqwest::Client, base: &str, token: &str) -> Value {
    let res = c
        .get(format!("{base}/api/v1/playbook"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

fn coffee_intent() -> Value {
    json!({
        "id": "coffee_corner",
        "examples": ["Habt ihr ein Café im Laden?", COFFEE, "Can I get a coffee in your shop?"],
        "answer": {"de": "Ja: In unserem Laden gibt es eine kleine Kaffeebar.", "en": "Yes: our shop has a small coffee bar."}
    })
}

fn tandem(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .output()
        .expect("run tandem")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_teaches_the_desk_without_a_restart_on_sqlite() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().to_str().expect("path").to_owned();
    let node = start(&args(["--data-dir", &dir], PLAYBOOK));
    let (c, base) = (client(), node.base.clone());
    let admin = token(&c, &base).await;

    let first = playbook(&c, &base, &admin).await;
    assert_eq!(
        (first["version"].as_i64(), first["live_version"].as_i64()),
        (Some(1), Some(1))
    );
    assert!(first["intents"]
        .as_array()
        .expect("intents")
        .iter()
        .any(|i| i["id"] == "order_status"));
    let before = triage(&c, &base, &admin, COFFEE).await;
    assert_ne!(before["intent"], "coffee_corner");

    // A new intent: 201 with its version, and the bot answers it within seconds.
    let res = post(
        &c,
        format!("{base}/api/v1/playbook/intents"),
        &admin,
        coffee_intent(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.expect("json");
    assert_eq!(created["version"], 2);
    answered(&c, &base, &admin, COFFEE, "coffee_corner").await;
    // A customer gets the new answer through the real flow.
    let res = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({"locale": "de", "text": "Habt ihr ein Café im Laden?"}))
        .send()
        .await
        .expect("open");
    assert_eq!(res.status(), StatusCode::CREATED);
    let opened: Value = res.json().await.expect("json");
    let reply = opened["messages"][1]["text"].as_str().unwrap_or_default();
    assert!(reply.contains("Kaffeebar"), "{opened}");

    // An example for an existing intent.
    let bike = "Mein Drahtesel ist immer noch nicht bei mir angekommen";
    let res = post(
        &c,
        format!("{base}/api/v1/playbook/intents/order_status/examples"),
        &admin,
        json!({ "text": bike }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    answered(&c, &base, &admin, bike, "order_status").await;

    // What changed: version 2 added the intent, version 3 the example, nothing else.
    let diff: Value = c
        .get(format!("{base}/api/v1/playbook/diff?to=3"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("diff")
        .json()
        .await
        .expect("json");
    let text = diff["diff"].as_str().expect("diff");
    assert_eq!(
        (diff["from"].as_i64(), diff["to"].as_i64()),
        (Some(2), Some(3))
    );
    let changed: Vec<&str> = text
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed.len(), 1, "{text}");
    assert!(
        changed[0].starts_with('+') && changed[0].contains("Drahtesel"),
        "{text}"
    );
    let first: Value = c
        .get(format!("{base}/api/v1/playbook/versions/1"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("version")
        .json()
        .await
        .expect("json");
    assert!(
        first["toml"]
            .as_str()
            .unwrap_or_default()
            .starts_with("# A second test playbook"),
        "the file as imported, comments and all"
    );
    let missing = c
        .get(format!("{base}/api/v1/playbook/versions/99"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("version");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Bad input: 400 naming the field, and no new version.
    for (url, body, field) in [
        ("intents/nope/examples", json!({"text": "hallo"}), "intent"),
        (
            "intents/order_status/examples",
            json!({"text": "   "}),
            "text",
        ),
        ("intents", coffee_intent(), "id"),
        (
            "intents",
            json!({"id": "no_answer", "examples": ["x y z"], "answer": {"en": "only English"}}),
            "answer",
        ),
        (
            "intents",
            json!({"id": "empty", "examples": [], "answer": {"de": "x"}}),
            "examples",
        ),
    ] {
        let res = post(&c, format!("{base}/api/v1/playbook/{url}"), &admin, body).await;
        let status = res.status();
        let body: Value = res.json().await.expect("a JSON error");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert!(
            message.starts_with(&format!("{field}:")),
            "{url}: {message}"
        );
    }
    assert_eq!(playbook(&c, &base, &admin).await["version"], 3);

    // Only admins: no token, 401.
    let res = c
        .get(format!("{base}/api/v1/playbook"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Rollback to version 1 takes both changes back, as version 4.
    let res = post(
        &c,
        format!("{base}/api/v1/playbook/rollback"),
        &admin,
        json!({"version": 1}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    eventually("the rollback is live", Duration::from_secs(30), || async {
        let t = triage(&c, &base, &admin, COFFEE).await;
        (t["version"] == 4 && t["intent"] != "coffee_corner").then_some(())
    })
    .await;
    let res = post(
        &c,
        format!("{base}/api/v1/playbook/rollback"),
        &admin,
        json!({"version": 99}),
    )
    .await;
    assert_eq!(error_of(res).await.0, StatusCode::BAD_REQUEST);
    let res = c
        .get(format!("{base}/api/v1/playbook/versions"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("versions");
    let versions: Value = res.json().await.expect("json");
    let listed: Vec<(i64, String)> = versions["versions"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap_or(0),
                v["author"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (4, ADMIN.into()),
            (3, ADMIN.into()),
            (2, ADMIN.into()),
            (1, "start".into())
        ]
    );

    // A restart with the same, unchanged file keeps the store's version.
    drop(node);
    let node = start(&args(["--data-dir", &dir], PLAYBOOK));
    let base = node.base.clone();
    let admin = token(&c, &base).await;
    assert_eq!(playbook(&c, &base, &admin).await["live_version"], 4);

    // The CLI: export version 2, import it back as version 5; a running desk picks it up.
    let db = ["--data-dir", dir.as_str()];
    let out = tandem(&[&["playbook", "export", "--version", "2"][..], &db[..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = String::from_utf8(out.stdout).expect("utf-8");
    assert!(exported.contains("coffee_corner"));
    let file = data.path().join("exported.toml");
    std::fs::write(&file, &exported).expect("write");
    let bad = data.path().join("bad.toml");
    std::fs::write(&bad, "[desk]\nname = 'x'\n[[intent]]\nid = 'Bad'\nexamples = ['a']\n[[intent]]\nid = 'b'\nexamples = []\n").expect("write");
    let out = tandem(
        &[
            &["playbook", "import", bad.to_str().expect("path")][..],
            &db[..],
        ]
        .concat(),
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("bad.toml:line 3:") && said.contains("bad.toml:line 6:"),
        "{said}"
    );
    let out = tandem(
        &[
            &["playbook", "import", file.to_str().expect("path")][..],
            &db[..],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    answered(&c, &base, &admin, COFFEE, "coffee_corner").await;
    assert_eq!(playbook(&c, &base, &admin).await["version"], 5);
    // A changed file given at start becomes a new version.
    drop(node);
    let changed = data.path().join("changed.toml");
    let text = std::fs::read_to_string(Path::new(PLAYBOOK)).expect("read");
    std::fs::write(&changed, format!("{text}\n# edited by hand\n")).expect("write");
    let node = start(&args(["--data-dir", &dir], changed.to_str().expect("path")));
    let admin = token(&c, &node.base).await;
    let now = playbook(&c, &node.base, &admin).await;
    assert_eq!(
        (now["version"].as_i64(), now["live_version"].as_i64()),
        (Some(6), Some(6))
    );

    // An answer changed, an example removed; the last example of an intent stays.
    let base = node.base.clone();
    let res = c
        .put(format!(
            "{base}/api/v1/playbook/intents/order_status/answer"
        ))
        .bearer_auth(&admin)
        .json(&json!({"locale": "en", "text": "Your order is on its way."}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::CREATED);
    let removed = now["intents"][0]["examples"][0]
        .as_str()
        .expect("an example")
        .to_owned();
    let url = format!("{base}/api/v1/playbook/intents/order_status/examples/remove");
    let res = post(&c, url.clone(), &admin, json!({ "text": removed })).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post(&c, url, &admin, json!({ "text": removed })).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no longer there");
    let after = playbook(&c, &base, &admin).await;
    assert_eq!(after["version"], 8);
    let order = &after["intents"][0];
    assert_eq!(order["answer"]["en"], "Your order is on its way.");
    assert!(!order["examples"].to_string().contains(&removed));
}

async fn send(req: reqwest::RequestBuilder, token: &str, body: Option<Value>) -> reqwest::Response {
    let req = req.bearer_auth(token);
    match body {
        Some(b) => req.json(&b),
        None => req,
    }
    .send()
    .await
    .expect("request")
}

/// The rest of the editor through the API: an intent's kind, `handoff` and skills, removing an
/// intent, `[out_of_scope]` and the routing overrides, each live without a restart, each bad
/// input refused with its field named and the playbook unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_changes_an_intent_s_settings_out_of_scope_and_routing() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().to_str().expect("path").to_owned();
    let node = start(&args(["--data-dir", &dir], PLAYBOOK));
    let (c, base) = (client(), node.base.clone());
    let admin = token(&c, &base).await;
    let pb = format!("{base}/api/v1/playbook");
    let asked = "Wo ist meine Bestellung?";
    answered(&c, &base, &admin, asked, "order_status").await;

    // order_status always goes to a person now, as a sale, needing the skill "versand".
    let res = send(
        c.put(format!("{pb}/intents/order_status")),
        &admin,
        Some(json!({"handoff": true, "kind": "sales", "skills": ["versand"]})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    eventually(
        "order_status handed off",
        Duration::from_secs(30),
        || async {
            let t = triage(&c, &base, &admin, asked).await;
            let reasons = t["reasons"].to_string();
            (t["action"] == "handoff" && reasons.contains("intent_requires_human")).then_some(())
        },
    )
    .await;
    let now = playbook(&c, &base, &admin).await;
    let order = now["intents"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"] == "order_status"))
        .cloned()
        .expect("order_status");
    assert_eq!(
        (&order["kind"], &order["handoff"], &order["skills"]),
        (&json!("sales"), &json!(true), &json!(["versand"]))
    );
    let version = now["version"].as_i64().expect("version");

    // Bad input: 400 naming the field, no new version.
    for (req, body, field) in [
        (
            c.put(format!("{pb}/intents/order_status")),
            Some(json!({"kind": "retail"})),
            "kind",
        ),
        (
            c.put(format!("{pb}/intents/nope")),
            Some(json!({"handoff": true})),
            "intent",
        ),
        (
            c.put(format!("{pb}/intents/order_status")),
            Some(json!({"skills": [" "]})),
            "skills",
        ),
        (c.delete(format!("{pb}/intents/nope")), None, "intent"),
        (
            c.post(format!("{pb}/out_of_scope")),
            Some(json!({"text": "  "})),
            "text",
        ),
        (
            c.post(format!("{pb}/out_of_scope/remove")),
            Some(json!({"text": "gibt es nicht"})),
            "text",
        ),
        (
            c.put(format!("{pb}/routing/needs/angry")),
            Some(json!({"people": 4})),
            "reason",
        ),
        (
            c.put(format!("{pb}/routing/needs/complaint")),
            Some(json!({"people": 6})),
            "people",
        ),
        (
            c.put(format!("{pb}/routing/relax")),
            Some(json!({"steps": [{"after_secs": 60}, {"after_secs": 30, "any": true}]})),
            "relax",
        ),
    ] {
        let res = send(req, &admin, body).await;
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(field), "{field}: {body}");
    }
    assert_eq!(
        playbook(&c, &base, &admin).await["version"].as_i64(),
        Some(version)
    );

    // [out_of_scope]: added, shown, removed.
    let weather = "Wie wird das Wetter am Wochenende in Leipzig?";
    let res = send(
        c.post(format!("{pb}/out_of_scope")),
        &admin,
        Some(json!({"text": weather})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let oos = playbook(&c, &base, &admin).await["out_of_scope"]["examples"].clone();
    assert!(
        oos.as_array()
            .is_some_and(|a| a.iter().any(|e| e == weather)),
        "{oos}"
    );
    let res = send(
        c.post(format!("{pb}/out_of_scope/remove")),
        &admin,
        Some(json!({"text": weather})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let oos = playbook(&c, &base, &admin).await["out_of_scope"]["examples"].clone();
    assert!(
        !oos.as_array()
            .is_some_and(|a| a.iter().any(|e| e == weather)),
        "{oos}"
    );

    // Routing: a complaint needs people 5 and billing; then the built-in rule again.
    let res = send(
        c.put(format!("{pb}/routing/needs/complaint")),
        &admin,
        Some(json!({"people": 5, "skills": ["billing"]})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = send(
        c.put(format!("{pb}/routing/relax")),
        &admin,
        Some(
            json!({"steps": [{"after_secs": 30, "levels": -1}, {"after_secs": 120, "any": true}]}),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let routing = playbook(&c, &base, &admin).await["routing"].clone();
    assert_eq!(
        routing["needs"]["complaint"],
        json!({"people": 5, "skills": ["billing"]})
    );
    assert_eq!(
        routing["relax"][1],
        json!({"after_secs": 120, "levels": 0, "any": true})
    );
    let res = send(
        c.delete(format!("{pb}/routing/needs/complaint")),
        &admin,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = send(
        c.put(format!("{pb}/routing/relax")),
        &admin,
        Some(json!({"steps": null})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        playbook(&c, &base, &admin).await["routing"],
        json!({"needs": {}, "relax": null})
    );

    // Removing an intent: the bot no longer picks it.
    let res = send(c.delete(format!("{pb}/intents/returns")), &admin, None).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    eventually("returns gone", Duration::from_secs(30), || async {
        let t = triage(&c, &base, &admin, "Ich möchte etwas zurückschicken").await;
        let gone = t["intent"] != "returns" && !t["candidates"].to_string().contains("\"returns\"");
        gone.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_node_is_live_on_the_other_within_seconds() {
    let db = PgDatabase::create("playbook_live").await;
    let url = db.url.clone();
    let (a, b) = (
        start(&args(["--database-url", &url], PLAYBOOK)),
        start(&args(["--database-url", &url], PLAYBOOK)),
    );
    let c = client();
    let (on_a, on_b) = (token(&c, &a.base).await, token(&c, &b.base).await);
    assert_eq!(
        playbook(&c, &b.base, &on_b).await["version"],
        1,
        "one import for both nodes"
    );
    let res = post(
        &c,
        format!("{}/api/v1/playbook/intents", a.base),
        &on_a,
        coffee_intent(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    answered(&c, &b.base, &on_b, COFFEE, "coffee_corner").await;
    answered(&c, &a.base, &on_a, COFFEE, "coffee_corner").await;
}
