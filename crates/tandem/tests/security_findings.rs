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
