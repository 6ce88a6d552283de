//! Live events: every stored change is published here after it commits, and the SSE endpoints
//! subscribe. Changes committed through other nodes arrive as store notices and are read back
//! from the store before they are published. The store stays the source of truth: a client
//! that reconnects re-reads it.

use std::sync::Arc;

use desk::{AgentId, ConversationId};
use store::{Appended, Store};
use tokio::sync::broadcast;

use crate::wire;

#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub conversation: ConversationId,
    pub assignee: Option<AgentId>,
    pub kind: LiveKind,
}

#[derive(Debug, Clone)]
pub enum LiveKind {
    Message(wire::Message),
    State(wire::StateChange),
    /// Someone is typing (`customer` or `agent`): passed on to this node's listeners, never
    /// stored (another node's listeners do not see it).
    Typing(desk::Author),
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
        }
    }
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// Publishes what a write of this node produced, after its commit, and counts it in this
    /// node's metrics. (Writes of other nodes arrive through [`relay`] and are only published.)
    pub fn publish_write(&self, appended: &Appended) {
        crate::telemetry::count_write(appended);
        self.publish(appended);
    }

    /// Publishes what one write produced: its messages, then its state change.
    /// Someone is typing in the conversation.
    pub fn typing(&self, conversation: &ConversationId, who: desk::Author) {
        let _ = self.tx.send(LiveEvent {
            conversation: conversation.clone(),
            assignee: None,
            kind: LiveKind::Typing(who),
        });
    }

    pub fn publish(&self, appended: &Appended) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let conv = &appended.conversation;
        let assignee = conv.assignee.as_ref().map(|a| a.id);
        for m in &appended.messages {
            let _ = self.tx.send(LiveEvent {
                conversation: conv.id.clone(),
                assignee,
                kind: LiveKind::Message(wire::Message::from(m)),
            });
        }
        if appended.state_changed {
            let _ = self.tx.send(LiveEvent {
                conversation: conv.id.clone(),
                assignee,
                kind: LiveKind::State(wire::StateChange::from(conv)),
            });
        }
    }
}

/// Publishes, on this node's hub, what other nodes wrote: notices are read back from the
/// store in batches (a notice only names ids). Does nothing for a store no other node writes to.
pub fn relay(store: Arc<dyn Store>, hub: Hub) {
    let Some(mut notices) = store.notices() else {
        return;
    };
    tokio::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(first) => {
                    // Whatever else arrived meanwhile is read back with it, in one round trip.
                    let mut batch = vec![first];
                    while batch.len() < RELAY_BATCH {
                        match notices.try_recv() {
                            Ok(n) => batch.push(n),
                            Err(broadcast::error::TryRecvError::Lagged(n)) => lagged(n),
                            Err(_) => break,
                        }
                    }
                    if hub.tx.receiver_count() == 0 {
                        continue;
                    }
                    match store.changes(&batch).await {
                        Ok(changes) => changes.iter().for_each(|a| hub.publish(a)),
                        Err(e) => {
                            tracing::error!(error = %e, "cannot read the changes of another node")
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => lagged(n),
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// At most this many other nodes' changes are read back together.
const RELAY_BATCH: usize = 256;

fn lagged(missed: u64) {
    // Listeners re-read the store when they reconnect; nothing is lost for good.
    tracing::warn!(missed, "live relay fell behind other nodes' changes");
}
