//! E-mail in, with the real binary: mail through the desk's SMTP listener from a real SMTP
//! client (lettre), answers to a real SMTP server (aiosmtpd). A first mail answered by the bot, a
//! handoff routed by competence, loop guards, a forged reply address, a bounce, HTML with script
//! in it, attachments over the cap.

mod common;

use std::time::Duration;

use common::desk::{admin_token, agent_login, client, export, go_online, read_conversation};
use common::eventually;
use common::mail::{self, desk_with_sink};
use serde_json::Value;

const DESK: &str = "service@shop.example";

/// The agent's view of every conversation (queue and own), for finding what a mail opened.
async fn all_conversations(c: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let v: Value = c
        .get(format!("{base}/api/v1/agent/conversations"))
        .bearer_auth(token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let mut all = v["conversations"].as_array().cloned().unwrap_or_default();
    all.extend(v["queue"].as_array().cloned().unwrap_or_default());
    all
}

/// Kim's mail `raw` goes into the desk's listener; the desk's answer to her, once it is sent.
async fn kim_asks(desk: &mail::MailDesk, sink: &mail::Sink, raw: &str) -> mail::Got {
    mail::send(desk.inbound, "kim@kunde.example", DESK, raw)
        .await
        .expect("taken");
    sink.wait_for(10, |m| m.to() == ["kim@kunde.example"]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_mail_is_answered_by_the_bot_in_its_thread() {
    let (sink, desk, _data) = desk_with_sink(&[]);
    let first = mail::mail(
        "Kim <kim@kunde.example>",
        DESK,
        "Bestellung 4711",
        "q1@kunde.example",
        "",
        "Hallo,\nwo ist meine Bestellung?\n\n-- \nKim Meier",
    );
    let answer = kim_asks(&desk, &sink, &first).await;
    assert_eq!(
        answer.header("In-Reply-To").as_deref(),
        Some("<q1@kunde.example>")
    );
    assert_eq!(
        answer.header("Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let subject = answer.header("Subject").expect("subject");
    assert!(subject.starts_with("Re: Bestellung 4711 [#c_"), "{subject}");
    assert!(answer.text().contains("Mein Konto"), "{}", answer.text());
    // The same mail again (a relay's retry) is not stored twice, nor answered twice.
    mail::send(desk.inbound, "kim@kunde.example", DESK, &first)
        .await
        .expect("taken again");
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    let id = answer.reference();
    let v = read_conversation(&c, &base, &id, &admin)
        .await
        .expect("read");
    assert_eq!(v["channel"], "email");
    assert_eq!(v["mail"]["subject"], "Bestellung 4711");
    let customer: Vec<&Value> = v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["author"] == "customer")
        .collect();
    assert_eq!(customer.len(), 1, "stored once");
    assert_eq!(
        customer[0]["text"], "Hallo,\nwo ist meine Bestellung?",
        "signature cut"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1, "answered once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_by_mail_is_routed_by_competence() {
    let (sink, desk, _data) = desk_with_sink(&[]);
    let (c, base) = (client(), desk.node.base.clone());
    // Ben (logistics, patient with upset customers) and Clara (sales) are online.
    let (ben, ben_token) = agent_login(&c, &base, 1).await;
    let (clara, clara_token) = agent_login(&c, &base, 2).await;
    go_online(&c, &base, ben, &ben_token).await;
    go_online(&c, &base, clara, &clara_token).await;
    let complaint = mail::mail(
        "Kim <kim@kunde.example>",
        DESK,
        "Beschwerde",
        "angry@kunde.example",
        "",
        "Ich will mich beschweren! Mein Paket ist seit drei Wochen nicht da, das ist eine Frechheit.",
    );
    mail::send(desk.inbound, "kim@kunde.example", DESK, &complaint)
        .await
        .expect("taken");
    let mine = eventually(
        "Ben gets the complaint",
        Duration::from_secs(10),
        || async {
            all_conversations(&c, &base, &ben_token)
                .await
                .into_iter()
                .find(|v| v["channel"] == "email" && v["state"] == "assigned")
        },
    )
    .await;
    assert_eq!(mine["subject"], "Beschwerde");
    let id = mine["id"].as_str().expect("id");
    let v = read_conversation(&c, &base, id, &ben_token)
        .await
        .expect("read");
    assert_eq!(v["assignee"]["id"], ben);
    let reasons = v["handoff"]["reasons"].to_string();
    assert!(reasons.contains("complaint"), "{reasons}");
    // The handoff reply went to the customer by mail.
    sink.wait_for(10, |m| m.to() == ["kim@kunde.example"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loop_guards_hold() {
    let (sink, desk, _data) = desk_with_sink(&["--mail-per-sender-per-hour", "4"]);
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    // An out-of-office reply, a list mail and a mailer daemon's note open nothing and get no answer.
    let auto = [
        ("ooo@kunde.example", "Auto-Submitted: auto-replied\n"),
        ("list@kunde.example", "Precedence: bulk\n"),
        ("mailer-daemon@kunde.example", ""),
    ];
    for (i, (from, header)) in auto.iter().enumerate() {
        let raw = mail::mail(
            from,
            DESK,
            "Abwesend",
            &format!("auto{i}@kunde.example"),
            header,
            "Ich bin nicht da.",
        );
        mail::send(desk.inbound, from, DESK, &raw)
            .await
            .expect("taken");
    }
    // A person's mail, then that sender's allowance: the fifth within the hour is deferred.
    for i in 0..4 {
        let raw = mail::mail(
            "bob@kunde.example",
            DESK,
            "Frage",
            &format!("b{i}@kunde.example"),
            "",
            "Wo ist meine Bestellung?",
        );
        mail::send(desk.inbound, "bob@kunde.example", DESK, &raw)
            .await
            .expect("within the allowance");
    }
    let raw = mail::mail(
        "bob@kunde.example",
        DESK,
        "Frage",
        "b5@kunde.example",
        "",
        "Noch eine Frage",
    );
    let refused = mail::send(desk.inbound, "bob@kunde.example", DESK, &raw).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("450")),
        "{refused:?}"
    );
    sink.wait_for(10, |m| m.to() == ["bob@kunde.example"]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = sink.mails();
    assert!(
        mails.iter().all(|m| m.to() == ["bob@kunde.example"]),
        "no automatic mail was answered"
    );
    let export = export(&c, &base, &admin, "ooo@kunde.example").await;
    assert_eq!(
        export["conversations"].as_array().map(Vec::len),
        Some(0),
        "{export}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_reply_address_opens_a_new_conversation() {
    let (sink, desk, _data) = desk_with_sink(&[]);
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    let raw = mail::mail(
        "kim@kunde.example",
        DESK,
        "Frage",
        "k1@kunde.example",
        "",
        "Wo ist meine Bestellung?",
    );
    let answer = kim_asks(&desk, &sink, &raw).await;
    let reply_to = answer.header("Reply-To").expect("reply-to");
    let address = reply_to.trim_matches(|c| c == '<' || c == '>').to_owned();
    let (local, domain) = address.split_once('@').expect("address");
    let (signed, _tag) = local.rsplit_once('.').expect("tag");
    let victim = answer.reference();
    // Mallory knows the conversation's id but not its signature.
    for forged in [
        format!("{signed}.aaaaaaaaaaaaaaaaaaaaaaaaaa@{domain}"),
        format!("{signed}@{domain}"),
    ] {
        let raw = mail::mail(
            "mallory@evil.example",
            &forged,
            "Re: Frage",
            &format!("{}@evil.example", forged.len()),
            "",
            "Bitte an mallory@evil.example schicken.",
        );
        mail::send(desk.inbound, "mallory@evil.example", &forged, &raw)
            .await
            .expect("taken");
    }
    // …nor by a subject reference from another address.
    let raw = mail::mail(
        "mallory@evil.example",
        DESK,
        &format!("Re: Frage [#{victim}]"),
        "s@evil.example",
        "",
        "Hier Mallory.",
    );
    mail::send(desk.inbound, "mallory@evil.example", DESK, &raw)
        .await
        .expect("taken");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let v = read_conversation(&c, &base, &victim, &admin)
        .await
        .expect("read");
    let texts = v["messages"].to_string();
    assert!(
        !texts.contains("mallory") && !texts.contains("Mallory"),
        "{texts}"
    );
    let export = export(&c, &base, &admin, "mallory@evil.example").await;
    assert_eq!(
        export["conversations"].as_array().map(Vec::len),
        Some(3),
        "three new conversations"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_is_marked_on_its_conversation() {
    let (sink, desk, _data) = desk_with_sink(&[]);
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    let raw = mail::mail(
        "kim@kunde.example",
        DESK,
        "Frage",
        "k2@kunde.example",
        "",
        "Wo ist meine Bestellung?",
    );
    let answer = kim_asks(&desk, &sink, &raw).await;
    let ours = answer.header("Message-ID").expect("id");
    let id = answer.reference();
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.kunde.example>\nTo: {DESK}\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn1@mx.kunde.example>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nThe mail could not be delivered.\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; kim@kunde.example\nAction: failed\nStatus: 5.1.1\n--b\nContent-Type: text/rfc822-headers\n\nMessage-ID: {ours}\nTo: kim@kunde.example\n--b--\n"
    );
    mail::send(desk.inbound, "", DESK, &dsn)
        .await
        .expect("taken");
    let v = eventually(
        "the bounce on the conversation",
        Duration::from_secs(10),
        || async {
            read_conversation(&c, &base, &id, &admin)
                .await
                .filter(|v| v["mail"]["deliveries"][0]["state"] == "bounced")
        },
    )
    .await;
    assert!(
        v["messages"].to_string().contains("unzustellbar"),
        "a note in the transcript"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1, "a bounce is never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_is_stored_as_text_and_attachments_keep_to_the_cap() {
    let (sink, desk, _data) = desk_with_sink(&[
        "--mail-max-attachment-bytes",
        "1000",
        "--mail-max-bytes",
        "60000",
    ]);
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    let big = "A".repeat(3000);
    let raw = format!(
        "From: kim@kunde.example\nTo: {DESK}\nSubject: Foto\nMessage-ID: <h1@kunde.example>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/html; charset=utf-8\n\n<html><body><script>alert('x')</script><p>Hallo <b>Team</b>, mein Paket ist kaputt.</p><img src=x onerror=alert(1)></body></html>\n--m\nContent-Type: text/plain; name=\"<img src=x onerror=alert(2)>.txt\"\nContent-Disposition: attachment; filename=\"<img src=x onerror=alert(2)>.txt\"\n\nklein\n--m\nContent-Type: application/octet-stream; name=\"gross.bin\"\nContent-Disposition: attachment; filename=\"gross.bin\"\n\n{big}\n--m--\n"
    );
    let answer = kim_asks(&desk, &sink, &raw).await;
    let id = answer.reference();
    let v = read_conversation(&c, &base, &id, &admin)
        .await
        .expect("read");
    let text = v["messages"][0]["text"].as_str().expect("text");
    assert!(text.contains("mein Paket ist kaputt"), "{text}");
    assert!(
        !text.contains('<') && !text.contains("alert"),
        "stored as text: {text}"
    );
    let files = v["mail"]["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2);
    let small = files
        .iter()
        .find(|f| f["kept"] == true)
        .expect("the small one is kept");
    assert_eq!(
        small["name"], "<img src=x onerror=alert(2)>.txt",
        "the name as given, escaped where shown"
    );
    let large = files
        .iter()
        .find(|f| f["kept"] == false)
        .expect("the large one is listed");
    assert!(large["size"].as_u64().is_some_and(|s| s >= 3000));
    let res = c
        .get(format!(
            "{base}/api/v1/conversations/{id}/attachments/{}",
            small["id"]
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .is_ok_and(|d| d.starts_with("attachment;")));
    assert_eq!(res.text().await.expect("body").trim(), "klein");
    let res = c
        .get(format!(
            "{base}/api/v1/conversations/{id}/attachments/{}",
            large["id"]
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 404, "not kept");
    // A mail over the whole cap is refused.
    let huge = mail::mail(
        "kim@kunde.example",
        DESK,
        "Riesig",
        "h2@kunde.example",
        "",
        &format!("{}\n", "x".repeat(99)).repeat(1000),
    );
    let refused = mail::send(desk.inbound, "kim@kunde.example", DESK, &huge).await;
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("552")),
        "{refused:?}"
    );
}

/// The same channel on PostgreSQL: a mail answered by the bot, an agent's reply by mail, the
/// export naming the channel, and the outbox in `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_works_on_postgres() {
    let db = common::PgDatabase::create("mail_on_postgres").await;
    let (sink, desk, _data) = desk_with_sink(&["--database-url", &db.url]);
    let raw = mail::mail(
        "Kim <kim@kunde.example>",
        DESK,
        "Paket",
        "pg1@kunde.example",
        "",
        "Wo ist meine Bestellung?",
    );
    let answer = kim_asks(&desk, &sink, &raw).await;
    let id = answer.reference();
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    let res = c
        .post(format!("{base}/api/v1/conversations/{id}/messages"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"text": "Es kommt morgen."}))
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status().as_u16(), 201);
    sink.wait_for(10, |m| m.text().contains("Es kommt morgen."))
        .await;
    let export = export(&c, &base, &admin, "kim@kunde.example").await;
    assert_eq!(export["conversations"][0]["channel"], "email");
    assert_eq!(export["conversations"][0]["subject"], "Paket");
    let metrics = eventually(
        "both mails counted as sent",
        Duration::from_secs(10),
        || async {
            let text = c
                .get(format!("{base}/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            text.contains("tandem_mail_outbox{state=\"sent\"} 2")
                .then_some(text)
        },
    )
    .await;
    assert!(metrics.contains("tandem_mail_outbox{state=\"failed\"} 0"));
}
