//! The help center over real HTTP: every CAPTCHA refusal (missing, wrong, expired, replayed,
//! forged, honeypot) on the comment and contact endpoints, unpublished articles invisible
//! everywhere, moderation, and the contact form through triage. Rate limits, single use across
//! nodes and the markup proptest are in `help_center_limits.rs`.

mod help_common;

use help_common::*;

use reqwest::StatusCode;
use serde_json::{json, Value};

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
