//! Findings of the black-box security review (issue 16), each through the real binary: every
//! test here failed before its fix.
//! - A dashboard or summary range up to `i64::MAX` looped without end (and held the shutdown).
//! - Unknown routes and wrong methods answered without a JSON error body.
//! - NUL and bidirectional overrides were stored, and a text of zero-width characters counted.
//! - The demo desk, whose accounts have published passwords, listened on any address.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn admin_token(c: &reqwest::Client, base: &str) -> String {
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
async fn error_of(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.expect("a JSON error body");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    assert!(body["error"]["message"].is_string(), "{body}");
    (status, code)
}

#[tokio::test]
async fn endless_ranges_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let c = client();
    let token = admin_token(&c, &node.base).await;
    let get = |path: &str| {
        c.get(format!("{}{path}", node.base))
            .bearer_auth(&token)
            .send()
    };
    for path in [
        "/admin/dashboard?from=0&to=9223372036854775807",
        "/api/v1/metrics/summary?from=0&to=9223372036854775807",
        // Four years: more than the dashboard draws.
        "/admin/dashboard?from=2020-01-01&to=2024-01-01",
    ] {
        let res = get(path).await.expect("an answer, not a hang");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    let res = get("/admin/dashboard?from=2023-01-01&to=2025-12-31")
        .await
        .expect("three years");
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_error_has_a_json_body() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let c = client();
    let res = c
        .get(format!("{}/api/v1/no-such-thing", node.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        error_of(res).await,
        (StatusCode::NOT_FOUND, "not_found".to_owned())
    );
    // A path that does not parse: axum's own rejection, now with a JSON body too.
    let admin = admin_token(&c, &node.base).await;
    let res = c
        .post(format!("{}/api/v1/agents/not-a-number/disable", node.base))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        error_of(res).await,
        (StatusCode::BAD_REQUEST, "bad_request".to_owned())
    );
    let res = c
        .delete(format!("{}/api/v1/conversations", node.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(
        error_of(res).await,
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed".to_owned()
        )
    );
}

#[tokio::test]
async fn hidden_characters_are_not_stored_and_invisible_text_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let c = client();
    let post = |body: Value| {
        c.post(format!("{}/api/v1/conversations", node.base))
            .json(&body)
            .send()
    };
    let res = post(json!({"text": " \u{200B}\u{200D}\u{FEFF} "}))
        .await
        .expect("answer");
    assert_eq!(
        error_of(res).await,
        (StatusCode::BAD_REQUEST, "bad_request".to_owned())
    );

    let res = post(json!({"text": "Wo ist mein Paket?\u{0} \u{202E}gnuhcsrebeW\u{202C}"}))
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.expect("json");
    let first = created["messages"][0]["text"].as_str().expect("text");
    assert_eq!(first, "Wo ist mein Paket? gnuhcsrebeW");
    let id = created["id"].as_str().expect("id");
    let token = created["token"].as_str().expect("token");
    let read: Value = c
        .get(format!("{}/api/v1/conversations/{id}", node.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("read")
        .json()
        .await
        .expect("json");
    assert_eq!(read["messages"][0]["text"], first, "{read}");
}

/// `tandem serve` with the demo playbook on a non-loopback address: refused with the reason,
/// unless `--demo true` says the operator means it.
#[test]
fn the_demo_desk_stays_on_loopback_unless_told() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["serve", "--bind", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .env("TANDEM_LOG", "warn")
        .env("TANDEM_ENCODER", "off")
        .env_remove("TANDEM_DEMO")
        .env_remove("TANDEM_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tandem");
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("exit");
    assert!(!status.success(), "{err}");
    assert!(err.contains("--demo"), "{err}");
    // Nothing was created: the refusal comes before the database.
    assert!(std::fs::read_dir(dir.path()).expect("dir").next().is_none());

    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args([
            "serve",
            "--bind",
            "0.0.0.0:0",
            "--demo",
            "true",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("TANDEM_LOG", "warn")
        .env("TANDEM_ENCODER", "off")
        .env_remove("TANDEM_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tandem");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut listening = String::new();
    while !listening.contains(" on http://") {
        listening.clear();
        let n = std::io::BufRead::read_line(&mut out, &mut listening).expect("read");
        assert!(
            n > 0,
            "tandem exited instead of serving the demo with --demo true"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening.contains("http://0.0.0.0:"), "{listening}");
}

/// A demo agent's id and bearer token.
async fn agent_login(c: &reqwest::Client, base: &str, n: usize) -> (i64, String) {
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

async fn go_online(c: &reqwest::Client, base: &str, id: i64, token: &str) {
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
async fn drain(mut res: reqwest::Response, limit: Duration) -> (String, bool) {
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

/// A conversation's stream ends when the conversation goes to a colleague: the agent who gave it
/// away sees nothing written afterwards (it went on before the fix).
#[tokio::test]
async fn a_conversation_stream_ends_when_the_conversation_goes_to_a_colleague() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let (ben, ben_token) = agent_login(&c, base, 1).await;
    let (clara, clara_token) = agent_login(&c, base, 2).await;
    go_online(&c, base, ben, &ben_token).await;
    let created: Value = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let (id, customer) = (
        created["id"].as_str().expect("id").to_owned(),
        created["token"].as_str().expect("token").to_owned(),
    );
    let read = |token: String| {
        let url = format!("{base}/api/v1/conversations/{id}");
        let c = c.clone();
        async move {
            c.get(url)
                .bearer_auth(token)
                .send()
                .await
                .ok()?
                .json::<Value>()
                .await
                .ok()
        }
    };
    common::eventually("Ben gets the conversation", Duration::from_secs(10), || {
        let read = read(customer.clone());
        async move { read.await.filter(|v| v["assignee"]["id"] == ben) }
    })
    .await;
    let stream = c
        .get(format!("{base}/api/v1/conversations/{id}/events"))
        .bearer_auth(&ben_token)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);

    go_online(&c, base, clara, &clara_token).await;
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/transfer"))
        .bearer_auth(&ben_token)
        .json(&json!({"agent": clara}))
        .send()
        .await
        .expect("transfer");
    assert!(res.status().is_success(), "{}", res.status());
    for (token, text) in [(&customer, "geheim-123"), (&clara_token, "antwort-456")] {
        let res = c
            .post(format!("{base}/api/v1/conversations/{id}/messages"))
            .bearer_auth(token)
            .json(&json!({"text": text}))
            .send()
            .await
            .expect("message");
        assert!(res.status().is_success(), "{}", res.status());
    }
    let (seen, ended) = drain(stream, Duration::from_secs(5)).await;
    assert!(ended, "the stream went on after the transfer: {seen}");
    assert!(
        !seen.contains("geheim-123") && !seen.contains("antwort-456"),
        "{seen}"
    );
}

/// The console's inbox stream ends with the console session: after `/console/logout` it sends
/// nothing more (it went on before the fix).
#[tokio::test]
async fn the_inbox_stream_ends_with_the_console_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = no_redirects
        .get(format!("{base}/console/login"))
        .send()
        .await
        .expect("login page");
    let login_csrf = cookie(&page, "tandem_login");
    let who = &server::bootstrap::DEMO_LOGINS[1];
    let res = no_redirects
        .post(format!("{base}/console/login"))
        .header("cookie", format!("tandem_login={login_csrf}"))
        .form(&[
            ("email", who.email),
            ("password", who.password),
            ("csrf", login_csrf.as_str()),
        ])
        .send()
        .await
        .expect("login");
    let session = cookie(&res, "tandem_session");
    let jar = format!("tandem_session={session}");
    let console = no_redirects
        .get(format!("{base}/console"))
        .header("cookie", &jar)
        .send()
        .await
        .expect("console")
        .text()
        .await
        .expect("html");
    let csrf = console
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the console's CSRF token")
        .to_owned();
    let stream = c
        .get(format!("{base}/api/v1/agent/events"))
        .header("cookie", &jar)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let res = no_redirects
        .post(format!("{base}/console/logout"))
        .header("cookie", &jar)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert!(res.status().is_redirection(), "{}", res.status());
    // A new queued conversation: an event the stream would have carried.
    let res = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({"text": "Ich möchte bitte mit einem Menschen sprechen, privat-789"}))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), StatusCode::CREATED);
    let (seen, ended) = drain(stream, Duration::from_secs(5)).await;
    assert!(ended, "the stream went on after the logout: {seen}");
    assert!(!seen.contains("inbox"), "{seen}");
}

/// The value of the cookie `name` that `res` sets.
fn cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .expect("the cookie")
        .to_owned()
}

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

/// A rating comes once a person has taken part (or the conversation is resolved), its comment
/// is at most 1,000 characters, a second one replaces the first, and they are rate-limited.
#[tokio::test]
async fn ratings_follow_a_persons_part_and_replace_each_other() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let (base, c) = (node.base.as_str(), client());
    let rate = |id: String, token: String, body: Value| {
        c.post(format!("{base}/api/v1/conversations/{id}/rating"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    // The bot answered; no person took part.
    let bot_only: Value = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({"text": "Wo ist mein Paket?"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let (id, token) = (
        bot_only["id"].as_str().expect("id").to_owned(),
        bot_only["token"].as_str().expect("token").to_owned(),
    );
    let res = rate(id, token, json!({"score": 1})).await.expect("rate");
    assert_eq!(
        error_of(res).await,
        (StatusCode::CONFLICT, "not_ratable_yet".to_owned())
    );

    // A person takes it.
    let (ben, ben_token) = agent_login(&c, base, 1).await;
    go_online(&c, base, ben, &ben_token).await;
    let handed: Value = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let (id, token) = (
        handed["id"].as_str().expect("id").to_owned(),
        handed["token"].as_str().expect("token").to_owned(),
    );
    common::eventually("Ben gets it", Duration::from_secs(10), || {
        let (c, url, token) = (
            c.clone(),
            format!("{base}/api/v1/conversations/{id}"),
            token.clone(),
        );
        async move {
            let v: Value = c
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (v["assignee"]["id"] == ben).then_some(())
        }
    })
    .await;
    let res = rate(
        id.clone(),
        token.clone(),
        json!({"score": 2, "comment": "x".repeat(1_001)}),
    )
    .await
    .expect("rate");
    assert_eq!(
        error_of(res).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "text_too_long".to_owned())
    );
    for score in [2, 5] {
        let res = rate(id.clone(), token.clone(), json!({"score": score}))
            .await
            .expect("rate");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let admin = admin_token(&c, base).await;
    let summary: Value = c
        .get(format!("{base}/api/v1/metrics/summary"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("summary")
        .json()
        .await
        .expect("json");
    assert_eq!(summary["csat"]["count"], 1, "{summary}");
    assert_eq!(summary["csat"]["average"], 5.0, "{summary}");
    // Five ratings a minute per conversation (the one refused as too long did not count).
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            rate(id.clone(), token.clone(), json!({"score": 4}))
                .await
                .expect("rate")
                .status(),
        );
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

/// Behind a trusted proxy, login attempts count per client address, not per proxy: one client's
/// attempts do not lock out another's.
#[tokio::test]
async fn login_limits_count_the_client_behind_a_trusted_proxy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&[
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let (base, c) = (node.base.as_str(), client());
    let login = |from: &'static str, email: String, password: &str| {
        c.post(format!("{base}/api/v1/auth/token"))
            .header("x-forwarded-for", from)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    // One guess per account, so only the address can stop it.
    let mut refused = false;
    for n in 0..40 {
        let status = login(
            "203.0.113.7",
            format!("guess{n}@example.org"),
            "wrong-password-0",
        )
        .await
        .expect("login")
        .status();
        refused |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(refused, "the guessing client is never slowed down");
    let who = &server::bootstrap::DEMO_LOGINS[1];
    let res = login("203.0.113.8", who.email.to_owned(), who.password)
        .await
        .expect("login");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another client behind the proxy is locked out"
    );
}

/// Failed logins are throttled per account, from whatever address: after five in a quarter of
/// an hour the account's logins are refused, the right password included, while other accounts
/// sign in as usual (before, only the address counted).
#[tokio::test]
async fn failed_logins_are_throttled_per_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&[
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let (base, c) = (node.base.as_str(), client());
    let login = |from: String, n: usize, password: Option<&str>| {
        let who = &server::bootstrap::DEMO_LOGINS[n];
        c.post(format!("{base}/api/v1/auth/token"))
            .header("x-forwarded-for", from)
            .json(&json!({"email": who.email, "password": password.unwrap_or(who.password)}))
            .send()
    };
    for i in 0..5 {
        let res = login(format!("198.51.100.{i}"), 1, Some("not-bens-password"))
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login("198.51.100.99".into(), 1, None).await.expect("login");
    assert_eq!(
        error_of(res).await,
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".to_owned())
    );
    let res = login("198.51.100.0".into(), 2, None).await.expect("login");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another account is refused too"
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
    let created: Value = c
        .post(format!("{base}/api/v1/conversations"))
        .json(&json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let (conv, customer) = (
        created["id"].as_str().expect("id").to_owned(),
        created["token"].as_str().expect("token").to_owned(),
    );
    let read = || {
        let (c, url, token) = (
            c.clone(),
            format!("{base}/api/v1/conversations/{conv}"),
            customer.clone(),
        );
        async move {
            let v: Value = c
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            Some(v)
        }
    };
    common::eventually("Ben gets it", Duration::from_secs(10), || {
        let r = read();
        async move { r.await.filter(|v| v["assignee"]["id"] == ben) }
    })
    .await;
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
    let back = read().await.expect("read");
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
        let mut made = Vec::new();
        for text in [
            "Ich möchte bitte mit einem Menschen sprechen, alt-123",
            "Wo ist mein Paket? offen-456",
        ] {
            let v: Value = c
                .post(format!("{base}/api/v1/conversations"))
                .json(&json!({"text": text, "customer": {"email": "ret@example.org"}}))
                .send()
                .await
                .expect("create")
                .json()
                .await
                .expect("json");
            made.push((
                v["id"].as_str().expect("id").to_owned(),
                v["token"].as_str().expect("token").to_owned(),
            ));
        }
        let (id, customer) = made[0].clone();
        common::eventually("Ben gets it", Duration::from_secs(10), || {
            let (c, url, token) = (
                c.clone(),
                format!("{base}/api/v1/conversations/{id}"),
                customer.clone(),
            );
            async move {
                let v: Value = c
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (v["assignee"]["id"] == ben).then_some(())
            }
        })
        .await;
        let res = c
            .post(format!("{base}/api/v1/conversations/{id}/resolve"))
            .bearer_auth(&ben_token)
            .send()
            .await
            .expect("resolve");
        assert_eq!(res.status(), StatusCode::OK);
        (id, customer, made[1].0.clone(), made[1].1.clone())
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

/// Reads from `conn` until it closes, an error, or `limit`; returns what came and whether the
/// server ended the connection.
fn read_until_closed(conn: &mut std::net::TcpStream, limit: Duration) -> (String, bool) {
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

/// Slow clients cannot hold the server (finding 7): a connection that does not finish its
/// first request's headers in time is closed, while one that did may stay open between
/// requests; and one address holds at most so many connections.
#[test]
fn slow_and_greedy_clients_are_cut_off() {
    use std::io::Write;
    use std::net::TcpStream;
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&[
        "--data-dir",
        dir.path().to_str().expect("utf-8"),
        "--header-timeout-secs",
        "1",
        "--max-connections-per-address",
        "3",
    ]);
    let addr = node.base.trim_start_matches("http://").to_owned();
    let request = b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";

    // Slowloris: half a request, then nothing.
    let mut slow = TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(5));
    assert!(
        closed,
        "a connection that never finished its headers stayed open"
    );

    // A well-behaved client may pause between requests on its connection.
    let mut polite = TcpStream::connect(&addr).expect("connect");
    polite.write_all(request).expect("write");
    polite
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut first = [0u8; 64];
    let n = Read::read(&mut polite, &mut first).expect("first answer");
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // Drain the rest of the first answer, then pause past the header deadline.
    let _ = read_until_closed(&mut polite, Duration::from_millis(300));
    std::thread::sleep(Duration::from_millis(1_500));
    polite.write_all(request).expect("write again");
    let (again, _) = read_until_closed(&mut polite, Duration::from_millis(1_500));
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    drop(polite);
    std::thread::sleep(Duration::from_millis(200));

    // Three connections per address: the fourth is closed at once, unanswered.
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fourth = TcpStream::connect(&addr).expect("connect");
    let _ = fourth.write_all(request);
    let (answer, closed) = read_until_closed(&mut fourth, Duration::from_millis(800));
    assert!(
        closed && answer.is_empty(),
        "the fourth connection was served: {answer}"
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = TcpStream::connect(&addr).expect("connect");
    fifth.write_all(request).expect("write");
    let (answer, _) = read_until_closed(&mut fifth, Duration::from_millis(1_500));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Heads too long for the desk get a JSON error too (finding 9): a request line over 8 KiB is
/// answered 414, a header block over 64 KiB 431, each with `{"error": {"code", "message"}}`.
#[test]
fn overlong_requests_get_a_json_error() {
    use std::io::Write;
    use std::net::TcpStream;
    let dir = tempfile::tempdir().expect("temp dir");
    let node = common::start(&["--data-dir", dir.path().to_str().expect("utf-8")]);
    let addr = node.base.trim_start_matches("http://").to_owned();
    let ask = |head: String| -> String {
        let mut conn = TcpStream::connect(&addr).expect("connect");
        conn.write_all(head.as_bytes()).expect("write");
        let (answer, _) = read_until_closed(&mut conn, Duration::from_secs(5));
        answer
    };
    let answer = ask(format!(
        "GET /api/v1/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(9 * 1024)
    ));
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    assert!(answer.contains(r#""code":"uri_too_long""#), "{answer}");
    let big = format!("X-Big: {}\r\n", "b".repeat(1000)).repeat(70);
    let answer = ask(format!(
        "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n{big}\r\n"
    ));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert!(answer.contains(r#""code":"headers_too_large""#), "{answer}");
    // An ordinary request still works.
    let answer =
        ask("GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into());
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(200)]
    );
}
