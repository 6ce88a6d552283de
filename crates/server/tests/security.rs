//! Bad input and security over real HTTP: clear 4xx errors, per-object authorization,
//! sessions, CSRF, CSP and rate limits.

use reqwest::StatusCode;
use serde_json::json;
use test_support::app::*;

#[tokio::test]
async fn malformed_and_oversized_input_gets_clear_4xx_errors() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/v1/conversations"))
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(res).await,
        (StatusCode::BAD_REQUEST, "malformed_json".into())
    );

    let res = app
        .client
        .post(app.url("/api/v1/conversations"))
        .body("text=hi")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let long = "a".repeat(10_001);
    let res = app
        .post("/api/v1/conversations", None, json!({"text": long}))
        .await;
    assert_eq!(
        error_code(res).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "text_too_long".into())
    );

    let conv = app.start(None).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&conv.token),
            json!({"text": "ü".repeat(10_001)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&conv.token),
            json!({"text": "   "}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&conv.token),
            json!({"txt": "hi"}),
        )
        .await;
    assert!(res.status().is_client_error());
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/rating", conv.id),
            Some(&conv.token),
            json!({"score": 9}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A 10,000-character message is still fine, and nothing was lost along the way.
    let ok = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&conv.token),
            json!({"text": "ä".repeat(10_000)}),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn tokens_open_one_conversation_only() {
    let app = spawn_app().await;
    let a = app.start(Some("Hallo")).await;
    let b = app.start(Some("Hallo")).await;

    let res = app
        .get(&format!("/api/v1/conversations/{}", a.id), None)
        .await;
    assert_eq!(error_code(res).await.0, StatusCode::UNAUTHORIZED);
    let res = app
        .get(&format!("/api/v1/conversations/{}", a.id), Some(&b.token))
        .await;
    assert!(matches!(
        res.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", a.id),
            Some(&b.token),
            json!({"text": "hijack"}),
        )
        .await;
    assert!(matches!(
        res.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let res = app
        .get(
            &format!("/api/v1/conversations/{}/events", a.id),
            Some(&b.token),
        )
        .await;
    assert!(matches!(
        res.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let res = app
        .get("/api/v1/conversations/c_doesnotexist", Some(&a.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .get("/api/v1/conversations/..%2F..%2Fetc", Some(&a.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .get(
            &format!("/api/v1/conversations/{}", a.id),
            Some("ct_forged"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A customer token is no agent token.
    let res = app.get("/api/v1/agent/conversations", Some(&a.token)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The transcript of b never mentions a's messages.
    let hijack_seen = app.conversation(&a).await["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .any(|m| m["text"] == "hijack");
    assert!(!hijack_seen);
}

#[tokio::test]
async fn agents_see_only_their_own_conversations_and_admins_manage_agents() {
    let app = spawn_app().await;
    let ben = app.token_for(BEN.0, BEN.1).await;
    let clara = app.token_for(CLARA.0, CLARA.1).await;
    app.online(BEN.0, &ben).await;
    let conv = app
        .start(Some("Ich möchte mit einem Mitarbeiter sprechen"))
        .await;
    assert_eq!(
        app.conversation(&conv).await["assignee"]["name"],
        "Ben Berger"
    );
    let res = app
        .get(&format!("/api/v1/conversations/{}", conv.id), Some(&clara))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&clara),
            json!({"text": "not mine"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/resolve", conv.id),
            Some(&conv.token),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Clara cannot set Ben's presence.
    let ben_id = app.agent_id(BEN.0).await;
    let res = app
        .client
        .put(app.url(&format!("/api/v1/agents/{ben_id}/presence")))
        .bearer_auth(&clara)
        .json(&json!({"status": "offline"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let new_agent = json!({"name": "Dora", "email": "dora@example.org", "password": "long-enough-pw", "role": "agent",
        "locales": ["de"], "skills": ["billing"], "competences": {"self": 4, "people": 5, "situational": 3},
        "limits": ["complex_sales"], "capacity": 2});
    let res = app
        .post("/api/v1/agents", Some(&clara), new_agent.clone())
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let admin = app.token_for(ADMIN.0, ADMIN.1).await;
    let res = app
        .post("/api/v1/agents", Some(&admin), new_agent.clone())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: serde_json::Value = res.json().await.expect("json");
    assert!(body["id"].is_number());
    assert_eq!(body["limits"], json!(["complex_sales"]));
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    let res = app.post("/api/v1/agents", Some(&admin), new_agent).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let bad = json!({"name": "X", "email": "x@example.org", "password": "long-enough-pw", "competences": {"self": 9, "people": 1, "situational": 1}});
    assert_eq!(
        app.post("/api/v1/agents", Some(&admin), bad).await.status(),
        StatusCode::BAD_REQUEST
    );
    let res = app
        .post(
            "/api/v1/auth/token",
            None,
            json!({"email": "dora@example.org", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.token_for("dora@example.org", "long-enough-pw").await;
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id() {
    let app = spawn_app().await;
    // Reach into the store: the hash is argon2id, never the password.
    let (_, hash) = app
        .store
        .agent_credentials(BEN.0)
        .await
        .expect("store")
        .expect("ben");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(BEN.1));
}

#[tokio::test]
async fn pages_carry_csp_and_the_console_needs_a_session_and_csrf() {
    let app = spawn_app().await;
    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
    let html = res.text().await.expect("html");
    assert!(html.contains("/widget.js"));

    let res = app.get("/console", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Login without the form's CSRF cookie is refused.
    let res = app
        .client
        .post(app.url("/console/login"))
        .form(&[("email", BEN.0), ("password", BEN.1), ("csrf", "guess")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // With the cookie and matching token: a session cookie, HttpOnly and SameSite.
    let res = app.console_login(BEN.0, BEN.1).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&res, "tandem_session").expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    let cookie = session.split(';').next().expect("pair").to_owned();

    let inbox = app
        .client
        .get(app.url("/console"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(inbox.status(), StatusCode::OK);
    // An API call that changes state with the cookie but without the CSRF header is refused.
    let ben_id = app.agent_id(BEN.0).await;
    let res = app
        .client
        .put(app.url(&format!("/api/v1/agents/{ben_id}/presence")))
        .header("cookie", &cookie)
        .json(&json!({"status": "away"}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A console form without the CSRF token is refused too.
    let res = app
        .client
        .post(app.url("/console/presence"))
        .header("cookie", &cookie)
        .form(&[("status", "away"), ("csrf", "wrong")])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn customer_text_is_escaped_in_the_console() {
    let app = spawn_app().await;
    let conv = app
        .start(Some(
            "<script>alert(1)</script> Ich möchte mit einem Mitarbeiter sprechen",
        ))
        .await;
    let admin_cookie = cookie_pair(&app.console_login(ADMIN.0, ADMIN.1).await);
    let page = app
        .client
        .get(app.url(&format!("/console/c/{}", conv.id)))
        .header("cookie", admin_cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert(1)"));
}

#[tokio::test]
async fn public_endpoints_are_rate_limited() {
    let app = spawn_app().await;
    let mut limited = false;
    for _ in 0..40 {
        let res = app.post("/api/v1/conversations", None, json!({})).await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(res).await.1, "rate_limited");
            limited = true;
            break;
        }
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert!(
        limited,
        "40 new conversations a second from one address were all accepted"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
    for path in [
        "/api/v1/conversations",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/auth/token",
        "/api/v1/agents",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    // The summary's queue series is documented (an additive field).
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["Summary"]["properties"]["queue_length"].is_object());
    assert!(schemas["Summary"]["properties"]["first_response_secs"].is_object());
    for field in ["at", "length"] {
        assert!(
            schemas["QueueLength"]["properties"][field].is_object(),
            "QueueLength.{field}"
        );
    }
}

#[tokio::test]
async fn console_forms_work_without_javascript() {
    let app = spawn_app().await;
    let cookie = cookie_pair(&app.console_login(BEN.0, BEN.1).await);
    // Signing in put Ben online, so the handoff goes to him.
    let conv = app
        .start(Some("Ich möchte mit einem Mitarbeiter sprechen"))
        .await;
    let inbox = app
        .client
        .get(app.url("/console"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("inbox");
    let html = inbox.text().await.expect("html");
    let csrf = html
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf meta")
        .to_owned();
    assert!(html.contains(&conv.id));
    let form = |path: String, extra: Vec<(&'static str, String)>| {
        let mut fields = vec![("csrf", csrf.clone())];
        fields.extend(extra);
        app.client
            .post(app.url(&path))
            .header("cookie", &cookie)
            .form(&fields)
            .send()
    };
    let res = form(
        format!("/console/c/{}/reply", conv.id),
        vec![("text", "Antwort ohne JavaScript".into())],
    )
    .await
    .expect("reply");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = form(format!("/console/c/{}/resolve", conv.id), vec![])
        .await
        .expect("resolve");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let seen = app.conversation(&conv).await;
    assert_eq!(seen["state"], "resolved");
    assert!(seen["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .any(|m| m["text"] == "Antwort ohne JavaScript"));
    // The reasons shown to the agent explain the handoff without a misleading fallback.
    assert_eq!(seen["handoff"]["reasons"], json!(["human_requested"]));
}

/// `/admin/audit` shows the audit log to admins (the sign-ins among it), escaped, and refuses
/// agents.
#[tokio::test]
async fn the_audit_page_is_for_admins() {
    let app = spawn_app().await;
    let admin_cookie = cookie_pair(&app.console_login(ADMIN.0, ADMIN.1).await);
    let page = app
        .client
        .get(app.url("/admin/audit?lang=en"))
        .header("cookie", admin_cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("Audit log") && html.contains(">login<"),
        "{html}"
    );
    let ben_cookie = cookie_pair(&app.console_login(BEN.0, BEN.1).await);
    let page = app
        .client
        .get(app.url("/admin/audit"))
        .header("cookie", ben_cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
}
