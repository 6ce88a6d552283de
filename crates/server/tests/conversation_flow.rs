//! The desk end to end over real HTTP: bot answer, handoff, assignment, reply, resolve, rating.

use reqwest::StatusCode;
use serde_json::json;
use test_support::app::*;

#[tokio::test]
async fn the_bot_answers_a_routine_question() {
    let app = spawn_app().await;
    let conv = app.start(Some("Wo ist meine Bestellung?")).await;
    assert_eq!(conv.body["state"], "bot");
    let messages = conv.body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["author"], "customer");
    assert_eq!(messages[1]["author"], "bot");
    assert!(messages[1]["text"]
        .as_str()
        .unwrap_or("")
        .contains("Mein Konto"));
    assert!(conv.token.len() >= 32, "token carries at least 128 bits");
    // created_at is RFC 3339.
    assert!(time::OffsetDateTime::parse(
        messages[0]["created_at"].as_str().unwrap_or(""),
        &time::format_description::well_known::Rfc3339
    )
    .is_ok());

    let english = app.say(&conv, "How much is shipping?").await;
    assert_eq!(english["state"], "bot");
    assert!(english["handoff"].is_null());
    let bot = &english["messages"][1];
    assert_eq!(bot["author"], "bot");
    assert!(bot["text"].as_str().unwrap_or("").contains("€"));
}

#[tokio::test]
async fn a_request_for_a_person_is_handed_off_assigned_answered_resolved_and_rated() {
    let app = spawn_app().await;
    let conv = app.start(Some("Wie lange dauert der Versand?")).await;
    let handed = app
        .say(&conv, "Ich möchte mit einem Mitarbeiter sprechen")
        .await;
    assert_eq!(
        handed["state"], "queued",
        "nobody is online yet: the conversation waits"
    );
    let reasons = handed["handoff"]["reasons"].as_array().expect("reasons");
    assert!(reasons.iter().any(|r| r == "human_requested"));

    // Ben comes online: the router gives him the waiting conversation.
    let ben = app.token_for(BEN.0, BEN.1).await;
    app.online(BEN.0, &ben).await;
    let seen = app.conversation(&conv).await;
    assert_eq!(seen["state"], "assigned");
    assert_eq!(seen["assignee"]["name"], "Ben Berger");
    assert!(seen["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .any(|m| m["author"] == "system"));

    let inbox: serde_json::Value = app
        .get("/api/v1/agent/conversations", Some(&ben))
        .await
        .json()
        .await
        .expect("json");
    assert!(inbox["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .any(|c| c["id"] == conv.id.as_str()));

    // The agent sees the whole transcript, the bot's part included, and replies.
    let transcript = app
        .get(&format!("/api/v1/conversations/{}", conv.id), Some(&ben))
        .await;
    assert_eq!(transcript.status(), StatusCode::OK);
    let transcript: serde_json::Value = transcript.json().await.expect("json");
    assert!(transcript["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .any(|m| m["author"] == "bot"));
    let reply = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&ben),
            json!({"text": "Hallo, ich bin Ben. Wie kann ich helfen?"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);

    // The customer writes again: a person has it, so the bot stays quiet.
    let more = app.say(&conv, "Danke, es geht um meine Lieferung.").await;
    assert_eq!(more["state"], "assigned");
    assert_eq!(more["messages"].as_array().expect("messages").len(), 1);

    let seen = app.conversation(&conv).await;
    assert!(
        seen["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .any(|m| m["author"] == "agent"
                && m["text"] == "Hallo, ich bin Ben. Wie kann ich helfen?")
    );

    let resolved = app
        .post(
            &format!("/api/v1/conversations/{}/resolve", conv.id),
            Some(&ben),
            json!({}),
        )
        .await;
    assert_eq!(resolved.status(), StatusCode::OK);
    assert_eq!(app.conversation(&conv).await["state"], "resolved");

    let rated = app
        .post(
            &format!("/api/v1/conversations/{}/rating", conv.id),
            Some(&conv.token),
            json!({"score": 5, "comment": "Super"}),
        )
        .await;
    assert_eq!(rated.status(), StatusCode::NO_CONTENT);

    // Every step is in the event log, for analytics.
    let id = desk::ConversationId::parse(&conv.id).expect("id");
    let kinds: Vec<String> = app
        .store
        .events(&id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for kind in ["created", "handoff", "assigned", "resolved", "rating"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "event {kind} missing from {kinds:?}"
        );
    }
}

#[tokio::test]
async fn handback_returns_the_conversation_to_the_bot() {
    let app = spawn_app().await;
    let ben = app.token_for(BEN.0, BEN.1).await;
    app.online(BEN.0, &ben).await;
    let conv = app.start(Some("agent please")).await;
    assert_eq!(app.conversation(&conv).await["state"], "assigned");
    let back = app
        .post(
            &format!("/api/v1/conversations/{}/handback", conv.id),
            Some(&ben),
            json!({}),
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    let answered = app.say(&conv, "Welche Zahlungsarten gibt es?").await;
    assert_eq!(answered["state"], "bot");
    assert_eq!(answered["messages"][1]["author"], "bot");
}

#[tokio::test]
async fn the_queue_respects_capacity_and_drains_when_an_agent_frees_up() {
    let app = spawn_app().await;
    let ben = app.token_for(BEN.0, BEN.1).await;
    app.online(BEN.0, &ben).await; // capacity 3
    let mut convs = Vec::new();
    for _ in 0..4 {
        convs.push(
            app.start(Some("Ich möchte mit einem Menschen sprechen"))
                .await,
        );
    }
    let mut states = Vec::new();
    for c in &convs {
        states.push(
            app.conversation(c).await["state"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        );
    }
    assert_eq!(states.iter().filter(|s| *s == "assigned").count(), 3);
    assert_eq!(states.iter().filter(|s| *s == "queued").count(), 1);
    let first_assigned = convs
        .iter()
        .zip(&states)
        .find(|(_, s)| *s == "assigned")
        .map(|(c, _)| c)
        .expect("one");
    let res = app
        .post(
            &format!("/api/v1/conversations/{}/resolve", first_assigned.id),
            Some(&ben),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let waiting = convs
        .iter()
        .zip(&states)
        .find(|(_, s)| *s == "queued")
        .map(|(c, _)| c)
        .expect("one");
    assert_eq!(app.conversation(waiting).await["state"], "assigned");
}

#[tokio::test]
async fn two_failed_understandings_in_a_row_hand_off_with_repeated_failure() {
    let app = spawn_app().await;
    let conv = app.start(Some("Wo ist meine Bestellung?")).await;
    // Saying the same thing again after an answer means the answer did not help.
    let again = app.say(&conv, "Wo ist meine Bestellung??").await;
    assert_eq!(again["state"], "queued");
    let reasons = again["handoff"]["reasons"].as_array().expect("reasons");
    assert!(
        reasons.iter().any(|r| r == "repeated_failure"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn live_events_deliver_an_agent_reply_to_the_customer() {
    use futures_util::StreamExt;
    let app = spawn_app().await;
    let ben = app.token_for(BEN.0, BEN.1).await;
    app.online(BEN.0, &ben).await;
    let conv = app.start(Some("Bitte einen Mitarbeiter")).await;
    let stream = app
        .get(
            &format!("/api/v1/conversations/{}/events", conv.id),
            Some(&conv.token),
        )
        .await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/event-stream"));
    let mut body = stream.bytes_stream();
    let reply = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            Some(&ben),
            json!({"text": "Live-Antwort von Ben"}),
        )
        .await;
    assert_eq!(reply.status(), StatusCode::CREATED);
    let mut seen = String::new();
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
            if seen.contains("Live-Antwort von Ben") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(found, "the reply did not arrive as an SSE event: {seen}");
    assert!(seen.contains("event: message"));
    assert!(seen.contains("\"author\":\"agent\""));
}

#[tokio::test]
async fn the_summary_counts_machine_and_people_for_admins_only() {
    let app = spawn_app().await;
    let bot = app.start(Some("Wo ist meine Bestellung?")).await;
    assert_eq!(bot.body["state"], "bot");
    let person = app
        .start(Some("Ich möchte mit einem Menschen sprechen"))
        .await;
    assert_ne!(person.body["state"], "bot");

    let admin = app.token_for(ADMIN.0, ADMIN.1).await;
    let res = app.get("/api/v1/metrics/summary", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["conversations"], 2, "{body}");
    assert_eq!(body["self_service_rate"], 0.5, "{body}");
    assert_eq!(body["handoff_rate"], 0.5, "{body}");
    assert_eq!(body["handoff_reasons"]["human_requested"], 1, "{body}");
    assert_eq!(body["contacts_per_customer"], 1.0, "{body}");
    assert_eq!(body["csat"]["count"], 0, "{body}");
    // Queue length at the end of each day of the range, then at its end: the handed-off
    // conversation waits (nobody is online).
    let queue = body["queue_length"].as_array().expect("queue_length");
    assert_eq!(queue.len(), 31, "{body}");
    assert!(queue[..30].iter().all(|p| p["length"] == 0), "{body}");
    assert_eq!(queue[30]["length"], 1, "{body}");
    assert!(
        queue[30]["at"].as_str().is_some_and(|at| at.ends_with('Z')),
        "{body}"
    );

    // A range before any of it, in unix ms and RFC 3339.
    let res = app
        .get(
            "/api/v1/metrics/summary?from=0&to=2000-01-01T00:00:00Z",
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["conversations"], 0, "{body}");

    let (status, code) = error_code(
        app.get("/api/v1/metrics/summary?from=yesterday", Some(&admin))
            .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let ben = app.token_for(BEN.0, BEN.1).await;
    let res = app.get("/api/v1/metrics/summary", Some(&ben)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.get("/api/v1/metrics/summary", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_dashboard_draws_svg_charts_in_both_languages() {
    let app = spawn_app().await;
    app.start(Some("Wo ist meine Bestellung?")).await;
    app.start(Some("Ich möchte mit einem Menschen sprechen"))
        .await;
    let admin = app.token_for(ADMIN.0, ADMIN.1).await;
    for (lang, heading) in [
        ("en", "Self-service rate over time"),
        ("de", "Übergabegründe"),
    ] {
        let res = app
            .get(&format!("/admin/dashboard?lang={lang}"), Some(&admin))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.expect("page");
        assert!(page.contains(heading), "{lang}");
        assert!(page.contains("<svg"), "{lang}");
        assert!(page.contains("id=\"chart-reasons\""), "{lang}");
        assert!(page.contains("id=\"chart-queue\""), "{lang}");
    }
    // The queue chart's accessible title, in both languages.
    for (lang, title) in [
        (
            "de",
            "<title id=\"t-queue\">Wartende Gespräche am Ende jedes Tages</title>",
        ),
        (
            "en",
            "<title id=\"t-queue\">Conversations waiting in the queue at the end of each day</title>",
        ),
    ] {
        let page = app
            .get(&format!("/admin/dashboard?lang={lang}"), Some(&admin))
            .await
            .text()
            .await
            .expect("page");
        assert!(page.contains(title), "{lang}: {page}");
    }
    let res = app
        .get(
            "/admin/dashboard?from=2026-01-01&to=2026-01-31",
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .get("/admin/dashboard?from=nonsense", Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let ben = app.token_for(BEN.0, BEN.1).await;
    let res = app.get("/admin/dashboard", Some(&ben)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Each chart's table as CSV, for admins only.
    let res = app
        .get("/admin/dashboard.csv?lang=en&chart=reasons", Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let csv = res.text().await.expect("csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Reason,Conversations"));
    assert!(lines.any(|l| l.ends_with(",1")), "{csv}");
    let res = app
        .get("/admin/dashboard.csv?chart=nonsense", Some(&admin))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "not_found");
    let res = app
        .get("/admin/dashboard.csv?chart=reasons", Some(&ben))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn exports_are_csv_without_formulas() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/conversations",
            None,
            json!({"text": "Wo ist meine Bestellung?", "customer": {"name": "=HYPERLINK(\"x\")", "email": "kim@x.org"}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let admin = app.token_for(ADMIN.0, ADMIN.1).await;
    let res = app.get("/api/v1/conversations.csv", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let body = res.text().await.expect("csv");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].starts_with("id,created_at,"));
    assert!(
        lines[1].contains(",\"'=HYPERLINK(\"\"x\"\")\",kim@x.org,"),
        "{body}"
    );
    let res = app.get("/api/v1/metrics/summary.csv", Some(&admin)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.expect("csv");
    assert!(body.contains("total,conversations,1\r\n"), "{body}");
    assert!(body.contains("\r\nqueue_length,"), "{body}");
    let ben = app.token_for(BEN.0, BEN.1).await;
    let res = app.get("/api/v1/conversations.csv", Some(&ben)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// One sample line of the Prometheus text format: `name{label="value",...} number`.
fn is_sample(line: &str) -> bool {
    let (series, value) = match line.rsplit_once(' ') {
        Some(parts) => parts,
        None => return false,
    };
    let number = value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value);
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.strip_suffix('}')),
        None => (series, Some("")),
    };
    let name_ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    let labels_ok = labels.is_some_and(|l| {
        l.is_empty()
            || l.split("\",").all(|pair| {
                pair.split_once("=\"").is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            })
    });
    number && name_ok && labels_ok
}

#[tokio::test]
async fn metrics_are_exposed_in_the_prometheus_text_format() {
    let app = spawn_app().await;
    app.start(Some("Ich möchte mit einem Menschen sprechen"))
        .await;
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("text");
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            assert!(
                comment.starts_with(" TYPE ") || comment.starts_with(" HELP "),
                "{line}"
            );
        } else {
            assert!(is_sample(line), "not a sample: {line:?}");
        }
    }
    for wanted in [
        "tandem_messages_total{author=\"customer\"}",
        "tandem_handoffs_total{reason=\"human_requested\"}",
        "tandem_queue_length ",
        "tandem_triage_seconds_bucket{le=",
        "tandem_http_request_seconds_bucket{le=",
    ] {
        assert!(text.contains(wanted), "{wanted} missing in\n{text}");
    }
}
