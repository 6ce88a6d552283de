//! The help center over real HTTP: every CAPTCHA refusal (missing, wrong, expired, replayed,
//! forged, honeypot) on the comment and contact endpoints, the single-use rule on SQLite and on
//! PostgreSQL (also across two nodes), unpublished articles invisible everywhere, moderation,
//! the contact form through triage, rate limits behind trusted proxies, and a proptest that no
//! comment renders as markup.

use std::sync::Arc;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::captcha::{AltchaChallenge, Captcha, Issued};
use server::help::HelpOptions;
use server::{bootstrap, Application, Settings};
use sha2::{Digest, Sha256};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::Store;
use test_support::app::{spawn_store, TestApp};

const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
/// The demo playbook's article (published on import).
const ARTICLE: &str = "returns";

/// The shared harness's app; the help center's helpers below add to it.
struct App(TestApp);

impl std::ops::Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.0
    }
}

async fn start(store: Arc<dyn Store>, options: HelpOptions, rate_limits: bool) -> App {
    App(spawn_store(store, playbook::Playbook::demo(), rate_limits, options).await)
}

fn options() -> HelpOptions {
    HelpOptions {
        captcha_secret: Some(SECRET.into()),
        trusted_proxies: vec![],
    }
}

async fn sqlite_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).expect("open"));
    (start(store, options(), true).await, dir)
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn captcha(&self) -> Issued {
        let res = self
            .client
            .get(self.url("/api/v1/captcha"))
            .send()
            .await
            .expect("captcha");
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("json")
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
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

    async fn admin_token(&self) -> String {
        let (s, body) = self
            .post(
                "/api/v1/auth/token",
                json!({"email": bootstrap::DEMO_LOGINS[0].email, "password": bootstrap::DEMO_LOGINS[0].password}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self.client.get(self.url(path)).send().await.expect("page");
        (res.status(), res.text().await.expect("text"))
    }
}

fn math_sum(issued: &Issued) -> u32 {
    issued
        .math
        .question
        .trim_end_matches(" = ?")
        .split(" + ")
        .filter_map(|x| x.parse::<u32>().ok())
        .sum()
}

fn math(issued: &Issued) -> Value {
    json!({"id": issued.id, "answer": math_sum(issued)})
}

fn solve(c: &AltchaChallenge) -> u64 {
    (0..=c.maxnumber)
        .find(|n| hex::encode(Sha256::digest(format!("{}{n}", c.salt).as_bytes())) == c.challenge)
        .expect("solvable")
}

fn altcha(c: &AltchaChallenge, number: u64, signature: &str) -> String {
    let payload = json!({"algorithm": c.algorithm, "challenge": c.challenge, "number": number,
        "salt": c.salt, "signature": signature, "took": 10});
    base64::engine::general_purpose::STANDARD.encode(payload.to_string())
}

fn solved(issued: &Issued) -> String {
    altcha(
        &issued.altcha,
        solve(&issued.altcha),
        &issued.altcha.signature,
    )
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn comment(extra: Value) -> Value {
    let mut body = json!({"author": "Kim", "text": "Sehr hilfreich, danke!"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

async fn refused(app: &App, path: &str, body: Value, why: &str) {
    let (s, b) = app.post(path, body).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{why}: {b}");
    assert_eq!(b["error"]["code"], "captcha_invalid", "{why}: {b}");
}

/// Every refusal on one endpoint, then the right answer once, then its replay.
async fn refusals_on(app: &App, path: &str, base: Value) {
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

#[tokio::test]
async fn comments_refuse_every_bad_captcha_and_store_nothing() {
    let (app, _dir) = sqlite_app().await;
    let path = format!("/api/v1/articles/{ARTICLE}/comments");
    refusals_on(&app, &path, comment(json!({}))).await;
    // Only the four accepted comments were stored, all pending.
    let all = app.store.comments(None, None).await.expect("comments");
    assert_eq!(all.len(), 4);
    assert!(all
        .iter()
        .all(|c| c.status == store::CommentStatus::Pending));
    // Three wrong answers spend a math question: no guessing through its few answers.
    let issued = app.captcha().await;
    for wrong in 1..=3 {
        refused(
            &app,
            &path,
            comment(json!({"captcha": {"id": issued.id, "answer": math_sum(&issued) + wrong}})),
            "wrong",
        )
        .await;
    }
    refused(
        &app,
        &path,
        comment(json!({"captcha": math(&issued)})),
        "spent by guessing",
    )
    .await;
    // A comment on an unknown article is 404, and does not use the CAPTCHA up.
    let issued = app.captcha().await;
    let (s, _) = app
        .post(
            "/api/v1/articles/nope/comments",
            comment(json!({"captcha": math(&issued)})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = app
        .post(&path, comment(json!({"captcha": math(&issued)})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "pending");
    assert!(b["id"].is_i64());
}

#[tokio::test]
async fn contact_refuses_every_bad_captcha_and_opens_conversations() {
    let (app, _dir) = sqlite_app().await;
    refusals_on(
        &app,
        "/api/v1/contact",
        json!({"name": "Kim", "email": "kim@example.org", "text": "Wo ist meine Bestellung?"}),
    )
    .await;
    // The bot answers at once when it can.
    let issued = app.captcha().await;
    let (s, b) = app
        .post(
            "/api/v1/contact",
            json!({"name": "Kim", "email": "kim@example.org", "text": "Wo ist meine Bestellung?",
                   "captcha": math(&issued)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = desk::ConversationId::parse(b["conversation_id"].as_str().expect("id")).expect("id");
    let c = app
        .store
        .conversation(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(c.state, desk::ConversationState::Bot);
    assert_eq!(c.customer.email.as_deref(), Some("kim@example.org"));
    let messages = app.store.messages(&id).await.expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].author, desk::Author::Bot);
    // Otherwise it hands off.
    let issued = app.captcha().await;
    let (s, b) = app
        .post(
            "/api/v1/contact",
            json!({"name": "Kim", "email": "kim@example.org",
                   "text": "Ich möchte sofort mit einem Menschen sprechen!", "altcha": solved(&issued)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = desk::ConversationId::parse(b["conversation_id"].as_str().expect("id")).expect("id");
    let c = app
        .store
        .conversation(&id)
        .await
        .expect("get")
        .expect("exists");
    assert_ne!(c.state, desk::ConversationState::Bot);
    assert!(c.handoff.is_some());
    // Bad input is refused before the CAPTCHA is spent.
    let issued = app.captcha().await;
    let (s, _) = app
        .post(
            "/api/v1/contact",
            json!({"name": "Kim", "email": "no-address", "text": "Hallo", "captcha": math(&issued)}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app
        .post(
            "/api/v1/contact",
            json!({"name": "Kim", "email": "k@x.org", "text": "Hallo", "captcha": math(&issued)}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn the_page_forms_work_without_javascript() {
    let (app, _dir) = sqlite_app().await;
    for lang in ["de", "en"] {
        let (s, html) = app.page(&format!("/help?lang={lang}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains(&format!("/help/{ARTICLE}")), "{html}");
        let (s, html) = app.page(&format!("/help/{ARTICLE}?lang={lang}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("altcha-widget"));
        assert!(html.contains("name=\"captcha_answer\""));
        assert!(html.contains("name=\"website\""));
        let (s, html) = app.page(&format!("/help/contact?lang={lang}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("name=\"captcha_answer\""));
    }
    // The form with the math answer, as a browser without JavaScript sends it.
    let issued = app.captcha().await;
    let form = [
        ("lang", "en".to_string()),
        ("author", "Kim".into()),
        ("text", "Plain form".into()),
        ("website", String::new()),
        ("captcha_id", issued.id.clone()),
        ("captcha_answer", math_sum(&issued).to_string()),
    ];
    let res = app
        .client
        .post(app.url(&format!("/help/{ARTICLE}/comments")))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Replayed: refused, the form comes back with an error and the text kept.
    let res = app
        .client
        .post(app.url(&format!("/help/{ARTICLE}/comments")))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.expect("text").contains("Plain form"));
    // The contact form, answered by the bot.
    let issued = app.captcha().await;
    let res = app
        .client
        .post(app.url("/help/contact"))
        .form(&[
            ("lang", "de".to_string()),
            ("name", "Kim".into()),
            ("email", "kim@example.org".into()),
            ("text", "Wo ist meine Bestellung?".into()),
            ("captcha_id", issued.id.clone()),
            ("captcha_answer", math_sum(&issued).to_string()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.text().await.expect("text").contains("bot-answer"));
    // Helpfulness votes are counted.
    let res = app
        .client
        .post(app.url(&format!("/help/{ARTICLE}/helpful")))
        .form(&[("helpful", "yes"), ("lang", "de")])
        .send()
        .await
        .expect("vote");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.helpfulness(ARTICLE).await.expect("count").yes, 1);
}

#[tokio::test]
async fn unpublished_articles_are_invisible_everywhere() {
    let (app, _dir) = sqlite_app().await;
    let admin = app.admin_token().await;
    let put = |published: bool| {
        app.client
            .put(app.url("/api/v1/articles/geheim"))
            .bearer_auth(&admin)
            .json(
                &json!({"locale": "de", "title": "Geheimer Entwurf", "category": "Intern",
                          "body": "Zebrastreifen Quokka", "published": published}),
            )
            .send()
    };
    assert_eq!(put(false).await.expect("put").status(), StatusCode::OK);
    let list: Value = app
        .client
        .get(app.url("/api/v1/articles"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let ids: Vec<&str> = list["articles"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert!(ids.contains(&ARTICLE));
    assert!(!ids.contains(&"geheim"));
    let (s, _) = app.page("/api/v1/articles/geheim").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, search) = app.page("/api/v1/articles?q=Quokka").await;
    assert!(!search.contains("geheim"), "{search}");
    let (s, _) = app.page("/help/geheim").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for path in ["/help?lang=de", "/help?lang=de&q=Quokka", "/help?lang=en"] {
        let (_, html) = app.page(path).await;
        assert!(!html.contains("Geheimer Entwurf"), "{path}");
        assert!(!html.contains("geheim"), "{path}");
    }
    let issued = app.captcha().await;
    let (s, _) = app
        .post(
            "/api/v1/articles/geheim/comments",
            comment(json!({"captcha": math(&issued)})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Published, it shows everywhere, search included (the index follows edits).
    assert_eq!(put(true).await.expect("put").status(), StatusCode::OK);
    let (s, _) = app.page("/api/v1/articles/geheim").await;
    assert_eq!(s, StatusCode::OK);
    let (_, search) = app.page("/api/v1/articles?q=Quokka").await;
    assert!(search.contains("geheim"), "{search}");
    let (_, html) = app.page("/help?lang=de&q=Quokka").await;
    assert!(html.contains("Geheimer Entwurf"));
    // Only admins edit articles.
    let res = app
        .client
        .put(app.url("/api/v1/articles/geheim"))
        .json(&json!({"title": "x", "body": "y", "published": true}))
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn agents_moderate_and_only_approved_comments_show_escaped() {
    let (app, _dir) = sqlite_app().await;
    let path = format!("/api/v1/articles/{ARTICLE}/comments");
    let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let issued = app.captcha().await;
    let (_, a) = app
        .post(
            &path,
            json!({"author": "<b>Mallory</b>", "text": evil, "captcha": math(&issued)}),
        )
        .await;
    let issued = app.captcha().await;
    let (_, b) = app
        .post(
            &path,
            json!({"author": "Spam", "text": "buy now", "altcha": solved(&issued)}),
        )
        .await;
    let (_, html) = app.page(&format!("/help/{ARTICLE}")).await;
    assert!(!html.contains("Mallory"), "pending comments are not public");
    // No credentials: refused.
    let res = app
        .client
        .post(app.url(&format!("/api/v1/comments/{}/approve", a["id"])))
        .send()
        .await
        .expect("approve");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let token = app.admin_token().await;
    let pending: Value = app
        .client
        .get(app.url("/api/v1/comments"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(pending["comments"].as_array().map(Vec::len), Some(2));
    for (id, action, want) in [
        (&a["id"], "approve", "approved"),
        (&b["id"], "reject", "rejected"),
    ] {
        let res = app
            .client
            .post(app.url(&format!("/api/v1/comments/{id}/{action}")))
            .bearer_auth(&token)
            .send()
            .await
            .expect("moderate");
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["status"], want);
    }
    let res = app
        .client
        .post(app.url("/api/v1/comments/99999/approve"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("moderate");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (_, html) = app.page(&format!("/help/{ARTICLE}")).await;
    assert!(html.contains("&lt;b&gt;Mallory&lt;/b&gt;"));
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt;"));
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("buy now"), "rejected comments stay hidden");
}

/// A desk on SQLite with rate limits on, whose TCP peer (127.0.0.1) is a trusted proxy.
async fn behind_a_proxy() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).expect("open"));
    let app = start(
        store,
        HelpOptions {
            captcha_secret: Some(SECRET.into()),
            trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        },
        true,
    )
    .await;
    (app, dir)
}

#[tokio::test]
async fn rate_limits_answer_429_and_trust_forwarded_for_only_from_proxies() {
    let (app, _dir) = behind_a_proxy().await;
    let get = |xff: &'static str| {
        app.client
            .get(app.url("/api/v1/captcha"))
            .header("x-forwarded-for", xff)
            .send()
    };
    let mut limited = None;
    for _ in 0..100 {
        let res = get("203.0.113.7").await.expect("get");
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(res);
            break;
        }
    }
    let res = limited.expect("a burst of 100 is limited");
    assert!(res.headers().get("retry-after").is_some());
    // Another client behind the same proxy is not affected.
    assert_eq!(
        get("203.0.113.8").await.expect("get").status(),
        StatusCode::OK
    );
    // A forged hop in front of the real client does not help either: the last untrusted hop counts.
    assert_eq!(
        get("198.51.100.1, 203.0.113.7")
            .await
            .expect("get")
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Without trusted proxies, X-Forwarded-For is ignored: one peer, one allowance.
    let (app, _dir2) = sqlite_app().await;
    let mut statuses = Vec::new();
    for i in 0..100 {
        let res = app
            .client
            .get(app.url("/api/v1/captcha"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .send()
            .await
            .expect("get");
        statuses.push(res.status());
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn new_conversations_are_limited_per_client_behind_a_trusted_proxy() {
    let (app, _dir) = behind_a_proxy().await;
    let open = |xff: &'static str| {
        app.client
            .post(app.url("/api/v1/conversations"))
            .header("x-forwarded-for", xff)
            .json(&serde_json::json!({}))
            .send()
    };
    let mut limited = false;
    for _ in 0..60 {
        if open("203.0.113.7").await.expect("post").status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(
        limited,
        "a burst of 60 new conversations from one client is limited"
    );
    // Another customer behind the same proxy still gets in: the limit keys on the client.
    assert_eq!(
        open("203.0.113.8").await.expect("post").status(),
        StatusCode::CREATED
    );
}

/// Each CAPTCHA is accepted once, whichever backend and whichever node.
async fn single_use(a: &App, b: &App) {
    let path = format!("/api/v1/articles/{ARTICLE}/comments");
    let issued = a.captcha().await;
    let (s, body) = a
        .post(&path, comment(json!({"altcha": solved(&issued)})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    refused(
        b,
        &path,
        comment(json!({"altcha": solved(&issued)})),
        "replayed on the other node",
    )
    .await;
    refused(
        a,
        &path,
        comment(json!({"altcha": solved(&issued)})),
        "replayed on the same node",
    )
    .await;
    // Many concurrent tries of one answer: exactly one wins.
    let issued = b.captcha().await;
    let mut tries = Vec::new();
    for i in 0..10 {
        let app = if i % 2 == 0 { a } else { b };
        tries.push(app.post(&path, comment(json!({"captcha": math(&issued)}))));
    }
    let results = futures_util::future::join_all(tries).await;
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{results:?}");
}

#[tokio::test]
async fn captchas_are_single_use_on_sqlite() {
    let (app, _dir) = sqlite_app().await;
    single_use(&app, &app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captchas_are_single_use_across_postgres_nodes() {
    let db = test_support::PgDatabase::create("help_single_use").await;
    {
        let node_a: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.expect("pg a"));
        let node_b: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.expect("pg b"));
        // No configured secret: the first node generates and stores it, the second reads it.
        let none = HelpOptions::default();
        let a = start(node_a, none.clone(), true).await;
        let b = start(node_b, none, true).await;
        single_use(&a, &b).await;
        let secret = a
            .store
            .setting_or_init(server::captcha::SECRET_SETTING, "ignored")
            .await
            .expect("secret");
        assert!(secret.len() >= 32);
    }
}

#[test]
fn a_short_configured_secret_stops_the_start() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("dir");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path().join("t.db")).expect("open"));
        let built = Application::build(
            Settings {
                bind: "127.0.0.1:0".into(),
                playbook: playbook::Playbook::demo(),
                rate_limits: true,
                secure_cookies: false,
                first_response_timeout_secs: server::FIRST_RESPONSE_TIMEOUT_SECS,
                encoder: None,
                help: HelpOptions {
                    captcha_secret: Some("short".into()),
                    trusted_proxies: vec![],
                },
                connections: Default::default(),
                mail: Default::default(),
            },
            store,
        )
        .await;
        assert!(built.is_err());
    });
}

/// Whatever a reader writes, an approved comment renders as text, never as markup.
#[test]
fn no_comment_text_renders_as_markup() {
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).expect("open"));
    let app = rt.block_on(start(store, options(), false));
    let texts = "x[ -~]{0,30}(<[a-z]{1,6}( [a-z]{1,5}=[\"']?[a-z()]{0,8}[\"']?)?>|&[a-z#0-9]{1,6};?|<!--|\\]\\]>|</p>)[ -~]{0,30}";
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    runner
        .run(&texts, |text| {
            rt.block_on(async {
                let c = app
                    .store
                    .add_comment(ARTICLE, "Kim", &text)
                    .await
                    .expect("add");
                app.store
                    .set_comment_status(c.id, store::CommentStatus::Approved)
                    .await
                    .expect("approve");
                let (_, html) = app.page(&format!("/help/{ARTICLE}")).await;
                let escaped = maud::html! { (text) }.into_string();
                assert!(html.contains(&escaped), "the escaped text is shown");
                // Every comment on the page is plain text between its own tags.
                for shown in html.split("<p class=\"comment-text\">").skip(1) {
                    let shown = shown.split("</p>").next().unwrap_or("");
                    assert!(
                        !shown.contains('<') && !shown.contains('>'),
                        "markup in {shown:?}"
                    );
                }
            });
            Ok(())
        })
        .expect("no comment renders as markup");
}
