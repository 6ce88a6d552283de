//! The single writer thread and its group commit: requests that arrive while a transaction is
//! being committed are batched into the next one, each inside its own savepoint, so one fsync
//! covers many acknowledged writes and a failing request rolls back only itself.

use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{Result, StoreError};

const MAX_BATCH: usize = 512;

type Completion = Box<dyn FnOnce(Result<()>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(conn: Connection) -> Result<Self> {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx))
            .map_err(|e| StoreError::Backend(format!("cannot start writer thread: {e}")))?;
        Ok(Self { jobs })
    }

    /// Runs `f` in the next group transaction and returns its result once that has committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let out = f(conn);
            let ok = out.is_ok();
            let done: Completion = Box::new(move |committed: Result<()>| {
                let _ = tx.send(committed.and(out));
            });
            (ok, done)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Backend("writer thread has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("writer thread dropped a request".into()))?
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let done = commit_batch(&conn, batch);
        let (completions, outcome) = done;
        for complete in completions {
            complete(
                outcome
                    .as_ref()
                    .map(|_| ())
                    .map_err(|e| StoreError::Backend(e.clone())),
            );
        }
    }
}

fn commit_batch(conn: &Connection, batch: Vec<Job>) -> (Vec<Completion>, Result<(), String>) {
    let mut completions = Vec::with_capacity(batch.len());
    if let Err(e) = run_cached(conn, "BEGIN IMMEDIATE") {
        let msg = e.to_string();
        tracing::error!(error = %msg, "cannot begin write transaction");
        for job in batch {
            // Run nothing; fail every request of the batch.
            drop(job);
        }
        return (completions, Err(msg));
    }
    for job in batch {
        let step = run_cached(conn, "SAVEPOINT request");
        if let Err(e) = step {
            tracing::error!(error = %e, "cannot open savepoint");
            continue;
        }
        let (ok, complete) = job(conn);
        let end = if ok {
            run_cached(conn, "RELEASE request")
        } else {
            run_cached(conn, "ROLLBACK TO request")
                .and_then(|()| run_cached(conn, "RELEASE request"))
        };
        if let Err(e) = end {
            tracing::error!(error = %e, "cannot close savepoint");
        }
        completions.push(complete);
    }
    match run_cached(conn, "COMMIT") {
        Ok(()) => (completions, Ok(())),
        Err(e) => {
            let msg = e.to_string();
            tracing::error!(error = %msg, "group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            (completions, Err(msg))
        }
    }
}

/// Transaction control through the statement cache: parsed once, not once per request.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
