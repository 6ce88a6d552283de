//! The help center tests' harness: the app with a fixed CAPTCHA secret, and the CAPTCHA solvers.
#![allow(dead_code)]

use std::sync::Arc;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::bootstrap;
use server::captcha::{AltchaChallenge, Captcha, Issued};
use server::help::HelpOptions;
use sha2::{Digest, Sha256};
use store::sqlite::SqliteStore;
use store::Store;
use test_support::app::{spawn_store, TestApp};

pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
/// The demo playbook's article (published on import).
pub const ARTICLE: &str = "returns";

/// The shared harness's app; the help center's helpers below add to it.
pub struct App(pub TestApp);

impl std::ops::Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

pub async fn start(store: Arc<dyn Store>, options: HelpOptions, rate_limits: bool) -> App {
    App(spawn_store(store, playbook::Playbook::demo(), rate_limits, options).await)
}

pub fn options() -> HelpOptions {
    HelpOptions {
        captcha_secret: Some(SECRET.into()),
        trusted_proxies: vec![],
    }
}

pub async fn sqlite_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).expect("open"));
    (start(store, options(), true).await, dir)
}

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn captcha(&self) -> Issued {
        let res = self
            .client
            .get(self.url("/api/v1/captcha"))
            .send()
            .await
            .expect("captcha");
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("post");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin_token(&self) -> String {
        let (s, body) = self
            .post(
                "/api/v1/auth/token",
                json!({"email": bootstrap::DEMO_LOGINS[0].email, "password": bootstrap::DEMO_LOGINS[0].password}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self.client.get(self.url(path)).send().await.expect("page");
        (res.status(), res.text().await.expect("text"))
    }
}

pub fn math_sum(issued: &Issued) -> u32 {
    issued
        .math
        .question
        .trim_end_matches(" = ?")
        .split(" + ")
        .filter_map(|x| x.parse::<u32>().ok())
        .sum()
}

pub fn math(issued: &Issued) -> Value {
    json!({"id": issued.id, "answer": math_sum(issued)})
}

pub fn solve(c: &AltchaChallenge) -> u64 {
    (0..=c.maxnumber)
        .find(|n| hex::encode(Sha256::digest(format!("{}{n}", c.salt).as_bytes())) == c.challenge)
        .expect("solvable")
}

pub fn altcha(c: &AltchaChallenge, number: u64, signature: &str) -> String {
    let payload = json!({"algorithm": c.algorithm, "challenge": c.challenge, "number": number,
        "salt": c.salt, "signature": signature, "took": 10});
    base64::engine::general_purpose::STANDARD.encode(payload.to_string())
}

pub fn solved(issued: &Issued) -> String {
    altcha(
        &issued.altcha,
        solve(&issued.altcha),
        &issued.altcha.signature,
    )
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub fn comment(extra: Value) -> Value {
    let mut body = json!({"author": "Kim", "text": "Sehr hilfreich, danke!"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

pub async fn refused(app: &App, path: &str, body: Value, why: &str) {
    let (s, b) = app.post(path, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{why}: {b}");
    assert_eq!(b["error"]["code"], "captcha_invalid", "{why}: {b}");
}

/// Every refusal on one endpoint, then the right answer once, then its replay.
pub async fn refusals_on(app: &App, path: &str, base: Value) {
    let with = |extra: Value| {
        let mut b = base.clone();
        if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        b
    };
    let issued = app.captcha().await;
    refused(app, path, base.clone(), "missing").await;
    refused(
        app,
        path,
        with(json!({"captcha": {"id": issued.id, "answer": math_sum(&issued) + 1}})),
        "wrong math",
    )
    .await;
    refused(
        app,
        path,
        with(json!({"captcha": {"id": issued.id, "answer": "zwei"}})),
        "not a number",
    )
    .await;
    let n = solve(&issued.altcha);
    refused(
        app,
        path,
        with(json!({"altcha": altcha(&issued.altcha, n + 1, &issued.altcha.signature)})),
        "wrong proof of work",
    )
    .await;
    refused(
        app,
        path,
        with(json!({"altcha": altcha(&issued.altcha, n, &"ab".repeat(32))})),
        "forged signature",
    )
    .await;
    // Issued and signed by someone else: solved correctly, but not ours.
    let foreign = Captcha::new("some other secret, long enough to pass").issue(now_secs(), 600);
    refused(
        app,
        path,
        with(json!({"altcha": solved(&foreign)})),
        "foreign altcha",
    )
    .await;
    refused(
        app,
        path,
        with(json!({"captcha": math(&foreign)})),
        "foreign math",
    )
    .await;
    // Signed with our secret, but expired a minute ago.
    let old = Captcha::new(SECRET).issue(now_secs() - 660, 600);
    refused(
        app,
        path,
        with(json!({"altcha": solved(&old)})),
        "expired altcha",
    )
    .await;
    refused(
        app,
        path,
        with(json!({"captcha": math(&old)})),
        "expired math",
    )
    .await;
    refused(
        app,
        path,
        with(json!({"altcha": "bm90IGpzb24="})),
        "garbage",
    )
    .await;
    refused(
        app,
        path,
        with(json!({"altcha": solved(&issued), "website": "http://spam.example"})),
        "honeypot",
    )
    .await;
    // The right answers, each accepted once.
    let (s, b) = app
        .post(path, with(json!({"captcha": math(&issued)})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    refused(
        app,
        path,
        with(json!({"captcha": math(&issued)})),
        "replayed math",
    )
    .await;
    let (s, b) = app
        .post(path, with(json!({"altcha": solved(&issued)})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    refused(
        app,
        path,
        with(json!({"altcha": solved(&issued)})),
        "replayed altcha",
    )
    .await;
    let n = solve(&issued.altcha);
    refused(
        app,
        path,
        with(json!({"captcha": {"altcha": altcha(&issued.altcha, n, "00")}})),
        "forged, nested",
    )
    .await;
    refused(app, path, with(json!({"captcha": 7})), "a bare number").await;
    refused(
        app,
        path,
        with(json!({"captcha": {"altcha": solved(&issued)}})),
        "replayed, nested",
    )
    .await;
    // The payload is also accepted inside "captcha", the math answer as a string.
    let issued = app.captcha().await;
    let (s, b) = app
        .post(path, with(json!({"captcha": {"altcha": solved(&issued)}})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = app
        .post(
            path,
            with(json!({"captcha": {"id": issued.id, "answer": math_sum(&issued).to_string()}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}
