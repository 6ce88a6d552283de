//! Lessons from the people's work on both backends: kept once per question of a conversation,
//! listed while open, settled once.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use desk::{ConversationId, Guess, Locale};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::{LessonStatus, NewLesson, Store};
use test_support::PgDatabase;

fn lesson(conversation: &str, question: &str) -> NewLesson {
    NewLesson {
        conversation: ConversationId::parse(conversation).unwrap(),
        question: question.into(),
        answer: "Ja, ab [Nummer] Stück gibt es Rabatt.".into(),
        locale: Locale::parse("de").unwrap(),
        guesses: vec![Guess {
            intent: "prices".into(),
            confidence: 0.31,
        }],
        by_agent: false,
    }
}

async fn lessons_open_and_settle(s: Arc<dyn Store>) {
    let l = s.lessons();
    assert!(l
        .add_lesson(lesson("c_1", "Gibt es Mengenrabatt?"))
        .await
        .unwrap());
    assert!(
        !l.add_lesson(lesson("c_1", "Gibt es Mengenrabatt?"))
            .await
            .unwrap(),
        "the same question of the same conversation is kept once"
    );
    assert!(l
        .add_lesson(lesson("c_2", "Rabatt ab 10 Stück?"))
        .await
        .unwrap());
    assert!(l
        .add_lesson(lesson("c_3", "Habt ihr Gutscheine?"))
        .await
        .unwrap());
    let open = l.open_lessons(10).await.unwrap();
    assert_eq!(open.len(), 3);
    assert_eq!(
        open[0].new,
        lesson("c_1", "Gibt es Mengenrabatt?"),
        "oldest first, as kept"
    );
    assert_eq!(open[0].status, LessonStatus::Open);
    assert_eq!(l.open_lessons(2).await.unwrap().len(), 2, "the limit");
    let (first, second) = (open[0].id, open[1].id);
    assert_eq!(
        l.settle_lessons(&[first, second], LessonStatus::Accepted)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        l.settle_lessons(&[first, open[2].id], LessonStatus::Rejected)
            .await
            .unwrap(),
        1,
        "a settled lesson stays as it was settled"
    );
    assert!(l.open_lessons(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_keeps_lessons() {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("l.db")).unwrap());
    lessons_open_and_settle(s).await;
}

#[tokio::test]
async fn postgres_keeps_lessons() {
    let db = PgDatabase::create("lessons").await;
    let s: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    lessons_open_and_settle(s).await;
}
