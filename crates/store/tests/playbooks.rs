//! The playbook's versions on both backends: numbered in order, never overwritten, a stale edit
//! refused; on PostgreSQL every node hears of a new version.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::{NewVersion, Store, StoreError};
use test_support::PgDatabase;

fn version(toml: &str, after: Option<i64>) -> NewVersion {
    NewVersion {
        toml: toml.into(),
        author: "ada@x.example".into(),
        summary: format!("after {after:?}"),
        source: after.is_none().then(|| "abc123".into()),
        after,
    }
}

async fn versions_in_order(s: Arc<dyn Store>) {
    let p = s.playbooks();
    assert!(p.playbook_version(None).await.unwrap().is_none());
    assert!(p.playbook_versions().await.unwrap().is_empty());
    let first = p.add_playbook_version(version("v1", None)).await.unwrap();
    assert_eq!(first.version, 1);
    assert_eq!(first.source.as_deref(), Some("abc123"));
    // A second "first" version (another node starting at the same time) is refused.
    assert!(matches!(
        p.add_playbook_version(version("other", None)).await,
        Err(StoreError::Conflict(_))
    ));
    let second = p
        .add_playbook_version(version("v2", Some(1)))
        .await
        .unwrap();
    assert_eq!(second.version, 2);
    // An edit made from version 1 after version 2 came in is stale.
    assert!(matches!(
        p.add_playbook_version(version("stale", Some(1))).await,
        Err(StoreError::Conflict(_))
    ));
    let latest = p.playbook_version(None).await.unwrap().unwrap();
    assert_eq!((latest.info.version, latest.toml.as_str()), (2, "v2"));
    let old = p.playbook_version(Some(1)).await.unwrap().unwrap();
    assert_eq!((old.info.version, old.toml.as_str()), (1, "v1"));
    assert_eq!(old.info, first);
    assert!(p.playbook_version(Some(7)).await.unwrap().is_none());
    let listed: Vec<i64> = p
        .playbook_versions()
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(listed, vec![2, 1], "newest first");
}

#[tokio::test]
async fn sqlite_keeps_playbook_versions() {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
    assert!(s.playbook_notices().is_none());
    versions_in_order(s).await;
}

#[tokio::test]
async fn postgres_keeps_playbook_versions_and_tells_every_node() {
    let db = PgDatabase::create("playbooks").await;
    let s: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let other: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url).await.unwrap());
    let mut heard = other.playbook_notices().unwrap();
    versions_in_order(s).await;
    for want in [1, 2] {
        let got = tokio::time::timeout(Duration::from_secs(10), heard.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, want);
    }
}
