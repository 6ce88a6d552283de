//! Helpers shared by the tests of `store`, `server` and `tandem` (dev-dependency only).
//!
//! `app` (feature `app`): the server's test harness, the real app on port 0.
//!
//! [`PgDatabase`]: a fresh PostgreSQL database for one test, dropped when the guard goes, also
//! when the test fails. PostgreSQL is expected at `TANDEM_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`, which CI machines start); a test that needs it fails
//! with a clear message when it cannot be reached.

#[cfg(feature = "app")]
pub mod app;

use std::sync::atomic::{AtomicU32, Ordering};

/// The PostgreSQL server the tests use, without a trailing slash.
pub fn pg_server() -> String {
    std::env::var("TANDEM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
        .trim_end_matches('/')
        .to_owned()
}

/// A client on `url`, its connection driven on the current runtime.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required for these tests and cannot be reached at {url}: {e}")
        });
    tokio::spawn(connection);
    client
}

/// A fresh PostgreSQL database for one test, dropped with the guard (also on panic).
pub struct PgDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates `tandem_<pid>_<n>_<test>` (cut to PostgreSQL's 63 bytes).
    pub async fn create(test: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = pg_server();
        let admin = format!("{server}/postgres");
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name: String = format!("tandem_{}_{n}_{test}", std::process::id())
            .chars()
            .take(63)
            .collect();
        connect(&admin)
            .await
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        let url = format!("{server}/{name}");
        Self { admin, name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime: a thread with its own waits for the drop.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async { connect(&admin).await.batch_execute(&sql).await })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}
