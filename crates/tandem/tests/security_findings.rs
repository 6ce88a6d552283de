//! Findings of the black-box security review (issue 16), each through the real binary: ranges
//! that never ended, errors without a JSON body, hidden characters, the demo on any address,
//! streams that outlived access, ratings, login limits and throttling, slow and greedy clients.
//! Accounts are in `accounts.rs`, customers' rights and the audit log in `customer_rights.rs`.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::desk::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

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
    let (id, customer) = open_conversation(
        &c,
        base,
        json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}),
    )
    .await;
    wait_for_assignee(&c, base, &id, &customer, ben).await;
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
    let (id, token) = open_conversation(&c, base, json!({"text": "Wo ist mein Paket?"})).await;
    let res = rate(id, token, json!({"score": 1})).await.expect("rate");
    assert_eq!(
        error_of(res).await,
        (StatusCode::CONFLICT, "not_ratable_yet".to_owned())
    );

    // A person takes it.
    let (ben, ben_token) = agent_login(&c, base, 1).await;
    go_online(&c, base, ben, &ben_token).await;
    let (id, token) = open_conversation(
        &c,
        base,
        json!({"text": "Ich möchte bitte mit einem Menschen sprechen"}),
    )
    .await;
    wait_for_assignee(&c, base, &id, &token, ben).await;
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
