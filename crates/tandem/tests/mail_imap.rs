//! E-mail in through IMAP polling, with the real binary and a real IMAP server (Dovecot): a
//! customer's mail in the mailbox becomes a conversation the bot answers by mail; mails are
//! marked, never deleted, and taken in once across polls and a restart.

mod common;

use std::time::Duration;

use common::desk::{admin_token, client, export};
use common::eventually;
use common::mail::{self, Dovecot, Sink};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_a_polled_mailbox_is_answered_once_and_kept() {
    let imap = Dovecot::start();
    let sink = Sink::start();
    let data = tempfile::tempdir().expect("temp dir");
    imap.deliver(&mail::mail(
        "Kim <kim@kunde.example>",
        "service@shop.example",
        "Paket",
        "imap1@kunde.example",
        "",
        "Wo ist meine Bestellung?",
    ))
    .await;
    let url = imap.url();
    let args = [
        "--imap-url",
        url.as_str(),
        "--imap-password",
        Dovecot::PASSWORD,
        "--imap-poll-secs",
        "1",
    ];
    let desk = mail::start_desk(&sink.url(), data.path(), &args);
    let answer = sink.wait_for(15, |m| m.to() == ["kim@kunde.example"]).await;
    assert_eq!(
        answer.header("In-Reply-To").as_deref(),
        Some("<imap1@kunde.example>")
    );
    assert!(answer.text().contains("Mein Konto"), "{}", answer.text());
    // The mail stays in the mailbox, marked as taken in, and unread for people.
    let flags = eventually("the keyword", Duration::from_secs(10), || async {
        let f = imap.flags().await;
        f.iter()
            .all(|m| m.iter().any(|x| x.contains("TandemStored")))
            .then_some(f)
    })
    .await;
    assert_eq!(flags.len(), 1);
    assert!(!flags[0].iter().any(|x| x.contains("Seen")), "{flags:?}");
    // A second mail arrives while the desk polls; after a restart nothing is taken twice.
    imap.deliver(&mail::mail(
        "Bo <bo@kunde.example>",
        "service@shop.example",
        "Rückgabe",
        "imap2@kunde.example",
        "",
        "Wie kann ich etwas zurückschicken?",
    ))
    .await;
    sink.wait_for(15, |m| m.to() == ["bo@kunde.example"]).await;
    drop(desk);
    let desk = mail::start_desk(&sink.url(), data.path(), &args);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (c, base) = (client(), desk.node.base.clone());
    let admin = admin_token(&c, &base).await;
    for who in ["kim@kunde.example", "bo@kunde.example"] {
        let export = export(&c, &base, &admin, who).await;
        assert_eq!(
            export["conversations"].as_array().map(Vec::len),
            Some(1),
            "{who}: {export}"
        );
    }
    assert_eq!(sink.mails().len(), 2, "each mail answered once");
    assert_eq!(imap.flags().await.len(), 2, "nothing deleted");
}
