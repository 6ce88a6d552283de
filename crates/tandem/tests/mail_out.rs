//! E-mail out, with the real binary and a real SMTP server (aiosmtpd): the contact form's round
//! trip, retries and failures shown to agents, and the outbox across `kill -9`.

mod common;

use std::time::Duration;

use common::desk::{admin_token, client, read_conversation, solved_captcha};
use common::eventually;
use common::mail::{self, desk_with_sink, start_desk_on, Sink};
use serde_json::{json, Value};

/// Sends the help center's contact form (math CAPTCHA solved) and returns the conversation id.
async fn contact(c: &reqwest::Client, base: &str, email: &str, text: &str) -> String {
    let captcha = solved_captcha(c, base).await;
    let res = c
        .post(format!("{base}/api/v1/contact"))
        .json(
            &json!({"name": "Kim Meier", "email": email, "text": text, "locale": "de",
                      "captcha": captcha}),
        )
        .send()
        .await
        .expect("contact");
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.expect("json");
    body["conversation_id"].as_str().expect("id").to_owned()
}

async fn post_as(c: &reqwest::Client, base: &str, token: &str, id: &str, text: &str) -> Value {
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .bearer_auth(token)
        .json(&json!({"text": text}))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 201, "{:?}", res.text().await);
    res.json().await.expect("json")
}

/// The contract of issue 17: a contact-form conversation is an e-mail conversation; the bot's
/// confirmation and an agent's reply reach the SMTP server addressed to the customer, with a
/// signed Reply-To; the customer's answer to it comes back into the same conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_form_is_answered_by_mail_and_the_reply_threads_back() {
    let (sink, desk, _data) = desk_with_sink(&[]);
    let (c, base) = (client(), desk.node.base.clone());
    let id = contact(&c, &base, "kim@kunde.example", "Wo ist meine Bestellung?").await;
    let admin = admin_token(&c, &base).await;
    let conversation = read_conversation(&c, &base, &id, &admin)
        .await
        .expect("read");
    assert_eq!(conversation["channel"], "email");
    assert_eq!(conversation["mail"]["address"], "kim@kunde.example");
    // The bot's answer is the confirmation, marked as automatic.
    let bot = sink.wait_for(10, |m| m.to() == ["kim@kunde.example"]).await;
    assert_eq!(
        bot.header("Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    assert!(bot.text().contains("Mein Konto"), "{}", bot.text());
    assert!(bot.raw.contains("text/html"));
    // An agent's reply goes out within 10 s, with the agent's text and a signed Reply-To.
    post_as(&c, &base, &admin, &id, "Ihr Paket ist unterwegs, Kim.").await;
    let reply = sink
        .wait_for(10, |m| m.text().contains("Ihr Paket ist unterwegs"))
        .await;
    assert_eq!(reply.to(), ["kim@kunde.example"]);
    assert_eq!(reply.header("Auto-Submitted"), None);
    let reply_to = reply.header("Reply-To").expect("Reply-To");
    assert!(
        reply_to.contains("reply+") && reply_to.contains("@shop.example"),
        "{reply_to}"
    );
    let message_id = reply.header("Message-ID").expect("Message-ID");
    assert!(reply
        .header("References")
        .is_some_and(|r| r.contains("@shop.example")));
    // The customer answers that mail, quoting it; the answer lands in the same conversation.
    let address = reply_to
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    let answer = mail::mail(
        "Kim Meier <kim@kunde.example>",
        &address,
        "Re: Ihre Anfrage",
        "answer-1@kunde.example",
        &format!("In-Reply-To: {message_id}\n"),
        "Danke, dann warte ich.\n\nAm 29.11.2026 schrieb Beispiel-Shop <service@shop.example>:\n> Ihr Paket ist unterwegs, Kim.",
    );
    mail::send(desk.inbound, "kim@kunde.example", &address, &answer)
        .await
        .expect("the listener takes the answer");
    let texts = eventually(
        "the answer in the conversation",
        Duration::from_secs(10),
        || async {
            let v = read_conversation(&c, &base, &id, &admin).await?;
            let texts: Vec<String> = v["messages"]
                .as_array()?
                .iter()
                .filter(|m| m["author"] == "customer")
                .filter_map(|m| m["text"].as_str().map(str::to_owned))
                .collect();
            (texts.len() == 2).then_some(texts)
        },
    )
    .await;
    assert_eq!(texts[1], "Danke, dann warte ich.", "the quote is cut");
}

/// A refused recipient is given up at once and shown as failed; a server that asks to try
/// later gets the mail on the next try.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_fail_visibly_and_temporary_errors_are_retried() {
    let (sink, desk, _data) = desk_with_sink(&["--mail-retry-secs", "1"]);
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    let refused = contact(
        &c,
        &base,
        "reject@kunde.example",
        "Wo ist meine Bestellung?",
    )
    .await;
    let later = contact(&c, &base, "later@kunde.example", "Wo ist meine Bestellung?").await;
    let state_of = |id: String| {
        let (c, base, admin) = (c.clone(), base.clone(), admin.clone());
        async move {
            let v = read_conversation(&c, &base, &id, &admin).await?;
            let d = v["mail"]["deliveries"].as_array()?.first()?.clone();
            Some(d)
        }
    };
    let failed = eventually("the refused mail to fail", Duration::from_secs(15), || {
        let f = state_of(refused.clone());
        async move { f.await.filter(|d| d["state"] == "failed") }
    })
    .await;
    assert_eq!(failed["attempts"], 1, "a permanent refusal is not retried");
    assert!(
        failed["error"].as_str().is_some_and(|e| e.contains("550")),
        "{failed}"
    );
    let sent = eventually(
        "the deferred mail to go out",
        Duration::from_secs(15),
        || {
            let f = state_of(later.clone());
            async move { f.await.filter(|d| d["state"] == "sent") }
        },
    )
    .await;
    assert_eq!(sent["attempts"], 2);
    sink.wait_for(5, |m| m.to() == ["later@kunde.example"])
        .await;
    assert!(sink
        .mails()
        .iter()
        .all(|m| m.to() != ["reject@kunde.example"]));
}

/// A reply stored while the SMTP server is down survives `kill -9` of the desk and goes out,
/// once, when both are back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_a_crash() {
    let smtp_port = mail::free_port();
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let data = tempfile::tempdir().expect("temp dir");
    let inbound = mail::free_port();
    let mut desk = start_desk_on(&smtp, data.path(), inbound, &["--mail-retry-secs", "1"]);
    let (c, base) = (client(), desk.node.base.clone());
    let id = contact(&c, &base, "kim@kunde.example", "Wo ist meine Bestellung?").await;
    let admin = admin_token(&c, &base).await;
    post_as(&c, &base, &admin, &id, "Antwort vor dem Absturz").await;
    // Acknowledged (201); the server is down, so the mails wait in the outbox.
    tokio::time::sleep(Duration::from_millis(500)).await;
    desk.node.child.kill().expect("kill -9");
    let _ = desk.node.child.wait();
    let sink = Sink::start_on(smtp_port);
    let desk = start_desk_on(&smtp, data.path(), inbound, &["--mail-retry-secs", "1"]);
    let got = sink
        .wait_for(20, |m| m.text().contains("Antwort vor dem Absturz"))
        .await;
    assert_eq!(got.to(), ["kim@kunde.example"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let copies = sink
        .mails()
        .iter()
        .filter(|m| m.text().contains("Antwort vor dem Absturz"))
        .count();
    assert_eq!(copies, 1, "sent once");
    let admin = admin_token(&c, &desk.node.base).await;
    let v = read_conversation(&c, &desk.node.base, &id, &admin)
        .await
        .expect("read");
    let states: Vec<&str> = v["mail"]["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .filter_map(|d| d["state"].as_str())
        .collect();
    assert_eq!(states, ["sent", "sent"], "the confirmation and the reply");
}
