//! Canned responses' storage on both backends: shared and personal, listed per agent, changed and
//! deleted.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use desk::{Competences, Locale, Role};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::{NewAgent, NewCanned, Store, StoreError};
use test_support::PgDatabase;

async fn agent(s: &Arc<dyn Store>, email: &str) -> desk::AgentId {
    s.create_agent(NewAgent {
        name: email.into(),
        email: email.into(),
        password_hash: "$argon2id$test".into(),
        role: Role::Agent,
        locales: vec![Locale::parse("de").unwrap()],
        skills: vec![],
        competences: Competences::default(),
        limits: vec![],
        capacity: 3,
    })
    .await
    .unwrap()
    .id
}

fn canned(owner: Option<desk::AgentId>, title: &str) -> NewCanned {
    NewCanned {
        owner,
        title: title.into(),
        text: "Hallo {{customer.name}}, hier ist {{agent.name}}.".into(),
        locale: Some(Locale::parse("de").unwrap()),
    }
}

async fn shared_and_personal_responses(s: Arc<dyn Store>) {
    let ben = agent(&s, "ben@x.example").await;
    let clara = agent(&s, "clara@x.example").await;
    let shared = s
        .canned()
        .add_canned(canned(None, "Begrüßung"))
        .await
        .unwrap();
    let mine = s
        .canned()
        .add_canned(canned(Some(ben), "Abschied"))
        .await
        .unwrap();
    s.canned()
        .add_canned(canned(Some(clara), "Claras"))
        .await
        .unwrap();
    let bens: Vec<String> = s
        .canned()
        .canned_for(ben)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(
        bens,
        ["Abschied", "Begrüßung"],
        "shared and his own, by title"
    );
    assert_eq!(shared.owner, None);
    assert_eq!(mine.owner, Some(ben));
    let mut changed = canned(Some(ben), "Tschüss");
    changed.locale = None;
    let updated = s.canned().update_canned(mine.id, changed).await.unwrap();
    assert_eq!((updated.title.as_str(), updated.locale), ("Tschüss", None));
    assert_eq!(updated.owner, Some(ben), "the owner stays");
    s.canned().delete_canned(mine.id).await.unwrap();
    assert!(s.canned().canned(mine.id).await.unwrap().is_none());
    assert!(matches!(
        s.canned().delete_canned(mine.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.canned().update_canned(mine.id, canned(None, "x")).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn sqlite_keeps_canned_responses() {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("c.db")).unwrap());
    shared_and_personal_responses(s).await;
}

#[tokio::test]
async fn postgres_keeps_canned_responses() {
    let db = PgDatabase::create("canned").await;
    let s: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    shared_and_personal_responses(s).await;
}
