//! Customers' rights and accountability through the real binary (issue 16): export, erasure
//! down to the database files, retention, and the audit log.

mod common;

use std::time::Duration;

use common::desk::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// An admin exports what the desk holds about a customer (GDPR Art. 15): every conversation under
/// their e-mail, whatever its case, with its messages and ratings, and nobody else's.
#[tokio::test]
async fn an_admin_exports_a_customers_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    for (email, text) in [
        ("Kim@Example.org", "Wo ist mein Paket? export-eins"),
        (
            "kim@example.org",
            "Ich möchte bitte mit einem Menschen sprechen, export-zwei",
        ),
        ("someone@else.org", "Wo ist mein Paket? fremd-drei"),
    ] {
        let res = c
            .post(format!("{base}/api/v1/conversations"))
            .json(&json!({"text": text, "customer": {"name": "Kim", "email": email}}))
            .send()
            .await
            .expect("create");
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let admin = admin_token(&c, base).await;
    let export = |email: &str, token: &str| {
        c.get(format!("{base}/api/v1/customers/export"))
            .query(&[("email", email)])
            .bearer_auth(token)
            .send()
    };
    let body: Value = export("KIM@example.org", &admin)
        .await
        .expect("export")
        .json()
        .await
        .expect("json");
    let convs = body["conversations"].as_array().expect("conversations");
    assert_eq!(convs.len(), 2, "{body}");
    let all = body.to_string();
    assert!(
        all.contains("export-eins") && all.contains("export-zwei"),
        "{all}"
    );
    assert!(!all.contains("fremd-drei"), "{all}");
    assert!(convs[0]["messages"].as_array().expect("messages").len() >= 2);

    let (_, ben) = agent_login(&c, base, 1).await;
    assert_eq!(
        export("kim@example.org", &ben)
            .await
            .expect("export")
            .status(),
        StatusCode::FORBIDDEN
    );
    let res = export("not-an-address", &admin).await.expect("export");
    assert_eq!(
        error_of(res).await,
        (StatusCode::BAD_REQUEST, "bad_request".to_owned())
    );
}

/// An admin erases a customer (GDPR Art. 17): afterwards the conversation's token opens nothing,
/// an export finds nothing, the text is in none of the database's files, and analytics still
/// count the conversation.
#[tokio::test]
async fn an_admin_erases_a_customer_down_to_the_database_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    const SECRET: &str = "Meine Kundennummer ist geheimnis-4711-xq";
    let created: Value = c
        .post(format!("{base}/api/v1/conversations"))
        .json(
            &json!({"text": SECRET, "customer": {"name": "Eva Erase", "email": "eva@example.org"}}),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let (id, token) = (
        created["id"].as_str().expect("id").to_owned(),
        created["token"].as_str().expect("token").to_owned(),
    );
    let admin = admin_token(&c, base).await;
    let summary = || {
        let (c, url, admin) = (
            c.clone(),
            format!("{base}/api/v1/metrics/summary"),
            admin.clone(),
        );
        async move {
            let v: Value = c
                .get(url)
                .bearer_auth(admin)
                .send()
                .await
                .expect("summary")
                .json()
                .await
                .expect("json");
            v["conversations"].as_u64().expect("count")
        }
    };
    let counted = summary().await;
    assert!(counted >= 1);
    let holds = |needle: &str| -> bool {
        std::fs::read_dir(dir.path())
            .expect("data dir")
            .filter_map(Result::ok)
            .filter_map(|e| std::fs::read(e.path()).ok())
            .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    assert!(
        holds("geheimnis-4711-xq"),
        "the text should be stored before"
    );

    let res = c
        .delete(format!("{base}/api/v1/customers"))
        .query(&[("email", "EVA@example.org")])
        .bearer_auth(&admin)
        .send()
        .await
        .expect("erase");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c
        .get(format!("{base}/api/v1/conversations/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let export: Value = c
        .get(format!("{base}/api/v1/customers/export"))
        .query(&[("email", "eva@example.org")])
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export")
        .json()
        .await
        .expect("json");
    assert_eq!(export["conversations"], json!([]), "{export}");
    for gone in ["geheimnis-4711-xq", "Eva Erase", "eva@example.org"] {
        assert!(!holds(gone), "{gone:?} is still in the database files");
    }
    assert_eq!(summary().await, counted, "analytics lost the conversation");
}

/// `--retention-days N` erases conversations resolved more than N days ago, when the desk starts
/// and then daily (0: every resolved one, which is what a test can wait for).
#[tokio::test]
async fn retention_erases_resolved_conversations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("utf-8");
    let (id, customer, open_id, open_token) = {
        let node = common::start(&["--data-dir", data]);
        let (base, c) = (node.base.as_str(), client());
        let (ben, ben_token) = agent_login(&c, base, 1).await;
        go_online(&c, base, ben, &ben_token).await;
        let customer = json!({"email": "ret@example.org"});
        let (id, customer_token) = open_conversation(
            &c,
            base,
            json!({"text": "Ich möchte bitte mit einem Menschen sprechen, alt-123", "customer": customer}),
        )
        .await;
        let open = open_conversation(
            &c,
            base,
            json!({"text": "Wo ist mein Paket? offen-456", "customer": customer}),
        )
        .await;
        wait_for_assignee(&c, base, &id, &customer_token, ben).await;
        let res = c
            .post(format!("{base}/api/v1/conversations/{id}/resolve"))
            .bearer_auth(&ben_token)
            .send()
            .await
            .expect("resolve");
        assert_eq!(res.status(), StatusCode::OK);
        (id, customer_token, open.0, open.1)
    };
    let node = common::start(&["--data-dir", data, "--retention-days", "0"]);
    let (base, c) = (node.base.as_str(), client());
    common::eventually(
        "the resolved conversation is erased",
        Duration::from_secs(10),
        || {
            let (c, url, token) = (
                c.clone(),
                format!("{base}/api/v1/conversations/{id}"),
                customer.clone(),
            );
            async move {
                let res = c.get(url).bearer_auth(token).send().await.ok()?;
                (res.status() == StatusCode::NOT_FOUND).then_some(())
            }
        },
    )
    .await;
    let open: Value = c
        .get(format!("{base}/api/v1/conversations/{open_id}"))
        .bearer_auth(&open_token)
        .send()
        .await
        .expect("read")
        .json()
        .await
        .expect("json");
    assert!(open.to_string().contains("offen-456"), "{open}");
}

/// Admin and security-relevant actions land in the audit log, with who, what, target and the
/// client address; only admins read it, through the API and on `/admin/audit`.
#[tokio::test]
async fn admin_and_login_actions_are_audited() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let res = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": "nobody@example.org", "password": "wrong-password-0"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let admin = admin_token(&c, base).await;
    let (ben, ben_token) = agent_login(&c, base, 1).await;
    for what in ["disable", "enable"] {
        let res = c
            .post(format!("{base}/api/v1/agents/{ben}/{what}"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("act");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let res = c
        .get(format!("{base}/api/v1/customers/export"))
        .query(&[("email", "kim@example.org")])
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), StatusCode::OK);

    let log: Value = c
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("audit")
        .json()
        .await
        .expect("json");
    let entries = log["entries"].as_array().expect("entries");
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} in {log}"))
    };
    assert_eq!(find("login_failed")["target"], "unknown account");
    assert_eq!(find("login")["address"], "127.0.0.1");
    let disabled = find("agent_disabled");
    assert_eq!(disabled["target"], format!("agent:{ben}"));
    assert!(disabled["actor"].is_i64(), "{disabled}");
    find("agent_enabled");
    find("customer_exported");
    // Newest first, and no e-mail address anywhere in it.
    assert_eq!(entries[0]["action"], "customer_exported", "{log}");
    assert!(!log.to_string().contains("example.org"), "{log}");

    let res = c
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(&ben_token)
        .send()
        .await
        .expect("audit");
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "Ben's token ended with the disable"
    );
    let (_, ben_again) = agent_login(&c, base, 1).await;
    let res = c
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(&ben_again)
        .send()
        .await
        .expect("audit");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // No route changes or deletes an entry.
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::POST,
    ] {
        let res = c
            .request(method, format!("{base}/api/v1/audit"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
