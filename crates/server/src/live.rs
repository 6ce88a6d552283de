//! Live events: every stored change is published here after it commits, and the SSE endpoints
//! subscribe. The store stays the source of truth: a client that reconnects re-reads it.

use desk::{AgentId, ConversationId};
use store::Appended;
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

    /// Publishes what one write produced: its messages, then its state change.
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
