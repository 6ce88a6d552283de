//! A transaction whose `BEGIN` travels with its first statement (tokio-postgres pipelines
//! requests issued together on one connection): the full message path saves a round trip.
//!
//! Why the shortcut is safe:
//! - If the first statement fails, the caller rolls back and reports the error; nothing is
//!   acknowledged that did not commit.
//! - Dropped before it was released (an error on the way, or a request cancelled by its
//!   deadline), the connection leaves the pool and closes, and the server rolls back. A pooled
//!   connection is never handed out inside someone's transaction.

use deadpool_postgres::Client;

pub(super) struct Pipelined {
    client: Option<Client>,
}

impl Pipelined {
    pub(super) fn new(client: Client) -> Self {
        Self {
            client: Some(client),
        }
    }

    pub(super) fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a Pipelined transaction holds its client until it is released")
    }

    /// The transaction ended (committed or rolled back): the connection goes back to the pool.
    pub(super) fn release(mut self) {
        self.client.take();
    }

    /// Rolls back, then releases; if even that fails, the connection is dropped.
    pub(super) async fn rollback(self) {
        if self.client().batch_execute("ROLLBACK").await.is_ok() {
            self.release();
        }
    }
}

impl Drop for Pipelined {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            drop(Client::take(c));
        }
    }
}
