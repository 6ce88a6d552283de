//! The bot's best guesses at a handoff reach the agent, on both backends: stored with the
//! needs, shown in the console (inbox and conversation page, with the playbook's answer for the
//! best guess) and in the agent's view of the API, never in the customer's; and the context pane
//! beside a conversation lists the customer's earlier conversations with their ratings.

use playbook::Playbook;
use serde_json::Value;
use test_support::app::*;

/// A request for a person about a return: handed off, and the machine's best guess is `returns`.
const RETURN_PERSON: &str = "Ich möchte mit einem Menschen sprechen wegen meiner Rücksendung";

/// The text of the page's first element with `class="{class}"`, tags stripped.
fn text_of(page: &str, tag: &str, class: &str) -> Option<String> {
    let start = page.find(&format!("<{tag} class=\"{class}\""))?;
    let rest = &page[start..];
    let end = rest.find(&format!("</{tag}>"))?;
    let mut text = String::new();
    let mut in_tag = false;
    for ch in rest[..end].chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text)
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    app.client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html")
}

async fn the_agent_sees_the_bots_best_guess(b: Backend) {
    let app = spawn_on(b, Playbook::demo(), "guesses").await;
    let conv = app.start(Some(RETURN_PERSON)).await;
    assert_eq!(conv.body["state"], "queued", "{}", conv.body);
    assert!(conv.body["handoff"]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .any(|r| r == "human_requested"));
    // The customer's views stay as they were: no guesses.
    assert!(
        conv.body["handoff"].get("guesses").is_none(),
        "{}",
        conv.body
    );
    let theirs = app.conversation(&conv).await;
    assert!(theirs["handoff"].is_object(), "{theirs}");
    assert!(theirs["handoff"].get("guesses").is_none(), "{theirs}");

    // Ben signs in to the console, goes online and gets the conversation.
    let cookie = cookie_pair(&app.console_login(BEN.0, BEN.1).await);

    let inbox = page(&app, &cookie, "/console?lang=en").await;
    let line = text_of(&inbox, "p", "guesses").unwrap_or_else(|| panic!("{inbox}"));
    assert!(line.starts_with("The bot thought: returns (0."), "{line}");

    let conversation = page(&app, &cookie, &format!("/console/c/{}?lang=de", conv.id)).await;
    let line = text_of(&conversation, "p", "guesses").unwrap_or_else(|| panic!("{conversation}"));
    assert!(line.starts_with("Der Bot vermutete: returns (0,"), "{line}");
    // At most three, each "intent (0,dd)", best first.
    let guesses: Vec<&str> = line["Der Bot vermutete: ".len()..].split(", ").collect();
    assert!((1..=3).contains(&guesses.len()), "{line}");
    for g in &guesses {
        let (_, number) = g.split_once(" (0,").unwrap_or_else(|| panic!("{line}"));
        assert!(number.len() == 3 && number.ends_with(')'), "{line}");
    }
    // The playbook's answer for the best guess, in the conversation's locale, first among the
    // suggestions of the context pane (a button takes it into the reply).
    let answer =
        text_of(&conversation, "p", "offer-text").unwrap_or_else(|| panic!("{conversation}"));
    assert!(answer.contains("innerhalb von 30 Tagen"), "{answer}");
    assert!(
        conversation.contains("In die Antwort übernehmen"),
        "{conversation}"
    );

    // The agent's view of the API carries the guesses too.
    let ben = app.token_for(BEN.0, BEN.1).await;
    let res = app
        .get(&format!("/api/v1/conversations/{}", conv.id), Some(&ben))
        .await;
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["assignee"]["name"], "Ben Berger", "{seen}");
    let guesses = seen["handoff"]["guesses"].as_array().expect("guesses");
    assert_eq!(guesses[0]["intent"], "returns", "{seen}");
    let confidences: Vec<f64> = guesses
        .iter()
        .map(|g| g["confidence"].as_f64().expect("confidence"))
        .collect();
    assert!(
        confidences.iter().all(|c| (0.005..=1.0).contains(c)),
        "{seen}"
    );
    assert!(confidences.windows(2).all(|w| w[0] >= w[1]), "{seen}");
    // ... and the customer's still does not.
    let theirs = app.conversation(&conv).await;
    assert!(theirs["handoff"].get("guesses").is_none(), "{theirs}");
}

async fn the_context_pane_shows_earlier_conversations(b: Backend) {
    let app = spawn_on(b, Playbook::demo(), "earlier").await;
    let cookie = cookie_pair(&app.console_login(BEN.0, BEN.1).await);
    let start = |text: &'static str| {
        let app = &app;
        async move {
            let body = serde_json::json!({"text": text, "customer": {"email": "kim@example.org"}});
            let res = app.post("/api/v1/conversations", None, body).await;
            assert_eq!(res.status(), 201);
            let v: Value = res.json().await.expect("json");
            (
                v["id"].as_str().expect("id").to_owned(),
                v["token"].as_str().expect("token").to_owned(),
            )
        }
    };
    let (first, token) = start(RETURN_PERSON).await;
    let res = app
        .post(
            &format!("/api/v1/conversations/{first}/rating"),
            Some(&token),
            serde_json::json!({"score": 4}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let (second, _) = start("Ich möchte bitte mit einem Menschen sprechen").await;
    let html = page(&app, &cookie, &format!("/console/c/{second}?lang=de")).await;
    assert!(html.contains("Frühere Gespräche"), "{html}");
    let earlier = &html[html.find("class=\"earlier\"").expect("the list")..];
    let earlier = &earlier[..earlier.find("</ul>").expect("its end")];
    assert!(earlier.contains("Bewertung 4/5"), "{earlier}");
    assert!(!earlier.contains(&second), "not itself: {earlier}");
}

mod sqlite {
    #[tokio::test]
    async fn the_agent_sees_the_bots_best_guess() {
        super::the_agent_sees_the_bots_best_guess(super::Backend::Sqlite).await;
    }
    #[tokio::test]
    async fn the_context_pane_shows_earlier_conversations() {
        super::the_context_pane_shows_earlier_conversations(super::Backend::Sqlite).await;
    }
}

mod postgres {
    #[tokio::test]
    async fn the_agent_sees_the_bots_best_guess() {
        super::the_agent_sees_the_bots_best_guess(super::Backend::Postgres).await;
    }
    #[tokio::test]
    async fn the_context_pane_shows_earlier_conversations() {
        super::the_context_pane_shows_earlier_conversations(super::Backend::Postgres).await;
    }
}
