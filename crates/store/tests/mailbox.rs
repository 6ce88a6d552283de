//! The e-mail channel's storage (`Store::mailbox`), on both backends: the outbox is written with
//! the message, claimed once, retried after a lost lease, and erased with the customer; a
//! customer's mail is stored once, with its attachments.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use desk::{Action, Channel, ConversationId, MailState};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::{
    Customer, InboundMail, MailOutcome, NewAttachment, NewConversation, NewMessage, Store,
    StoreError,
};
use test_support::PgDatabase;

fn conversation(id: &str, channel: Channel, email: Option<&str>) -> NewConversation {
    NewConversation {
        id: ConversationId::parse(id).unwrap(),
        token_hash: format!("hash-{id}"),
        locale: desk::Locale::parse("de").unwrap(),
        customer: Customer {
            name: Some("Kim".into()),
            email: email.map(str::to_owned),
        },
        channel,
        subject: Some("Zählerstand".into()),
        messages: vec![
            NewMessage::mail(
                "Hallo",
                InboundMail {
                    mail_id: format!("<first-{id}@kunde.example>"),
                    attachments: vec![
                        NewAttachment {
                            name: "foto<1>.jpg".into(),
                            content_type: "image/jpeg".into(),
                            size: 3,
                            data: Some(vec![1, 2, 3]),
                        },
                        NewAttachment {
                            name: "big.pdf".into(),
                            content_type: "application/pdf".into(),
                            size: 50_000_000,
                            data: None,
                        },
                    ],
                },
            ),
            NewMessage::bot("Guten Tag!", Action::Answer),
        ],
        change: None,
    }
}

async fn a_reply_to_a_mail_joins_the_outbox_with_it(s: Arc<dyn Store>) {
    let mail = s
        .create_conversation(conversation(
            "c_mail",
            Channel::Email,
            Some("kim@kunde.example"),
        ))
        .await
        .unwrap();
    let chat = s
        .create_conversation(conversation(
            "c_chat",
            Channel::Chat,
            Some("kim@kunde.example"),
        ))
        .await
        .unwrap();
    assert_eq!(mail.conversation.channel, Channel::Email);
    assert_eq!(mail.conversation.subject.as_deref(), Some("Zählerstand"));
    let now = s.clock().now_ms();
    let claimed = s.mailbox().claim_mail(now, 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "only the e-mail conversation's bot reply");
    let m = &claimed[0];
    assert_eq!(m.conversation, mail.conversation.id);
    assert_eq!(m.text, "Guten Tag!");
    assert_eq!(m.to.as_deref(), Some("kim@kunde.example"));
    assert_eq!(m.attempts, 1);
    assert_eq!(m.theirs, vec!["<first-c_mail@kunde.example>".to_owned()]);
    // Claimed: nobody else gets it while the lease runs.
    assert!(s
        .mailbox()
        .claim_mail(now, 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    // The sender died: after the lease it is due again, one attempt more.
    let again = s
        .mailbox()
        .claim_mail(now + 60_001, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
    s.mailbox()
        .mail_outcome(m.message, MailOutcome::Sent)
        .await
        .unwrap();
    assert!(s
        .mailbox()
        .claim_mail(now + 200_000, 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let status = s
        .mailbox()
        .mail_status(&mail.conversation.id)
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].state, MailState::Sent);
    assert!(s
        .mailbox()
        .mail_status(&chat.conversation.id)
        .await
        .unwrap()
        .is_empty());
    // The next reply names the first in its thread.
    s.append(
        &mail.conversation.id,
        &[],
        vec![NewMessage::bot("Noch etwas?", Action::Answer)],
        None,
    )
    .await
    .unwrap();
    let next = s
        .mailbox()
        .claim_mail(now + 200_000, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].earlier, vec![m.message]);
}

async fn retries_and_failures_are_kept(s: Arc<dyn Store>) {
    s.create_conversation(conversation(
        "c_retry",
        Channel::Email,
        Some("kim@kunde.example"),
    ))
    .await
    .unwrap();
    let now = s.clock().now_ms();
    let m = s
        .mailbox()
        .claim_mail(now, 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    s.mailbox()
        .mail_outcome(
            m.message,
            MailOutcome::Retry {
                at_ms: now + 5_000,
                error: "421 try later".into(),
            },
        )
        .await
        .unwrap();
    assert!(s
        .mailbox()
        .claim_mail(now + 4_999, 60_000, 10)
        .await
        .unwrap()
        .is_empty());
    let m = s
        .mailbox()
        .claim_mail(now + 5_000, 60_000, 10)
        .await
        .unwrap()
        .remove(0);
    s.mailbox()
        .mail_outcome(
            m.message,
            MailOutcome::Failed {
                error: "550 no such user".into(),
            },
        )
        .await
        .unwrap();
    let status = s.mailbox().mail_status(&m.conversation).await.unwrap();
    assert_eq!(status[0].state, MailState::Failed);
    assert_eq!(status[0].attempts, 2);
    assert_eq!(status[0].last_error.as_deref(), Some("550 no such user"));
    let counts = s.mailbox().outbox_counts().await.unwrap();
    assert_eq!(counts, vec![(MailState::Failed, 1)]);
}

async fn a_mail_is_stored_once_with_its_attachments(s: Arc<dyn Store>) {
    let first = s
        .create_conversation(conversation(
            "c_once",
            Channel::Email,
            Some("kim@kunde.example"),
        ))
        .await
        .unwrap();
    let id = first.conversation.id.clone();
    assert_eq!(
        s.mailbox()
            .mail_seen("<first-c_once@kunde.example>")
            .await
            .unwrap(),
        Some(id.clone())
    );
    assert_eq!(s.mailbox().mail_seen("<other@x>").await.unwrap(), None);
    // The same mail again (a relay that retried, an IMAP fetch after a crash): refused whole.
    let again = s
        .append(
            &id,
            &[],
            vec![NewMessage::mail(
                "Hallo",
                InboundMail {
                    mail_id: "<first-c_once@kunde.example>".into(),
                    attachments: vec![],
                },
            )],
            None,
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(s.messages(&id).await.unwrap().len(), 2);
    let list = s.mailbox().attachments(&id).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].name, "foto<1>.jpg");
    assert!(list[0].kept);
    assert!(!list[1].kept, "over the cap: listed, not kept");
    assert_eq!(list[1].size, 50_000_000);
    let (a, bytes) = s
        .mailbox()
        .attachment(&id, list[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.content_type.as_str(), bytes),
        ("image/jpeg", vec![1, 2, 3])
    );
    assert!(s
        .mailbox()
        .attachment(&id, list[1].id)
        .await
        .unwrap()
        .is_none());
    let other = ConversationId::parse("c_other").unwrap();
    assert!(s
        .mailbox()
        .attachment(&other, list[0].id)
        .await
        .unwrap()
        .is_none());
}

async fn erasure_takes_the_mail_along(s: Arc<dyn Store>) {
    let c = s
        .create_conversation(conversation(
            "c_erase",
            Channel::Email,
            Some("kim@kunde.example"),
        ))
        .await
        .unwrap();
    s.erase_customer("kim@kunde.example", "p1").await.unwrap();
    let id = c.conversation.id;
    assert!(s.mailbox().attachments(&id).await.unwrap().is_empty());
    assert_eq!(
        s.mailbox()
            .mail_seen("<first-c_erase@kunde.example>")
            .await
            .unwrap(),
        None
    );
    let status = s.mailbox().mail_status(&id).await.unwrap();
    assert_eq!(status[0].state, MailState::Failed, "nothing left to send");
    let now = s.clock().now_ms();
    assert!(s.mailbox().claim_mail(now, 1, 10).await.unwrap().is_empty());
    assert_eq!(s.conversation(&id).await.unwrap().unwrap().subject, None);
}

async fn a_chat_moves_to_email(s: Arc<dyn Store>) {
    let c = s
        .create_conversation(conversation("c_move", Channel::Chat, None))
        .await
        .unwrap();
    let id = c.conversation.id;
    s.mailbox()
        .use_email(&id, "kim@kunde.example")
        .await
        .unwrap();
    let moved = s.conversation(&id).await.unwrap().unwrap();
    assert_eq!(moved.channel, Channel::Email);
    assert_eq!(moved.customer.email.as_deref(), Some("kim@kunde.example"));
    s.append(
        &id,
        &[],
        vec![NewMessage::bot("Per Mail!", Action::Answer)],
        None,
    )
    .await
    .unwrap();
    let now = s.clock().now_ms();
    let claimed = s.mailbox().claim_mail(now, 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "only what was written after the move");
    assert_eq!(claimed[0].text, "Per Mail!");
    let unknown = ConversationId::parse("c_nobody").unwrap();
    assert!(matches!(
        s.mailbox().use_email(&unknown, "x@y.example").await,
        Err(StoreError::NotFound)
    ));
}

macro_rules! on_both_backends {
    ($($name:ident),+) => {
        mod sqlite_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::SqliteStore::open(dir.path().join("mail.db")).unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )+
        }
        mod postgres_backend {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::PgDatabase::create(concat!("mail_", stringify!($name))).await;
                    let store = super::PgStore::connect(&db.url).await.unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )+
        }
    };
}

on_both_backends!(
    a_reply_to_a_mail_joins_the_outbox_with_it,
    retries_and_failures_are_kept,
    a_mail_is_stored_once_with_its_attachments,
    erasure_takes_the_mail_along,
    a_chat_moves_to_email
);

/// Two nodes claiming at once never get the same mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_never_claim_the_same_mail() {
    let db = PgDatabase::create("mail_two_nodes").await;
    let a: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    for i in 0..40 {
        a.create_conversation(conversation(
            &format!("c_n{i}"),
            Channel::Email,
            Some("k@x.example"),
        ))
        .await
        .unwrap();
    }
    let now = a.clock().now_ms() + 1;
    let (x, y) = tokio::join!(
        async {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.extend(a.mailbox().claim_mail(now, 60_000, 3).await.unwrap());
            }
            got
        },
        async {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.extend(b.mailbox().claim_mail(now, 60_000, 3).await.unwrap());
            }
            got
        }
    );
    let mut ids: Vec<i64> = x.iter().chain(&y).map(|m| m.message.get()).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "a mail was claimed twice");
    assert_eq!(n, 40);
}
