//! The help center's limits over real HTTP: rate limits behind trusted proxies, CAPTCHAs used
//! once on SQLite and across two PostgreSQL nodes, a short secret refused at start, and a
//! proptest that no comment renders as markup.

mod help_common;

use help_common::*;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use server::help::HelpOptions;
use server::{Application, Settings};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::Store;

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
                playbook_file: None,
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
