//! The inbox's read markers and search on SQLite.

use super::*;
use crate::inbox::{find_sql, unread_condition, Find, Inbox, Param};
use crate::sqlite::SqliteStore;
use rusqlite::types::Value;

#[async_trait::async_trait]
impl Inbox for SqliteStore {
    async fn mark_read(
        &self,
        agent: AgentId,
        conversation: &ConversationId,
        upto: Option<MessageId>,
    ) -> Result<()> {
        let conversation = conversation.clone();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO reads (agent_id, conversation_id, message_id) 
                     VALUES (?1, ?2, coalesce(?3, (SELECT max(id) FROM messages
                                                   WHERE conversation_id = ?2), 0))
                     ON CONFLICT (agent_id, conversation_id)
                     DO UPDATE SET message_id = max(message_id, excluded.message_id)",
                    params![agent.get(), conversation.as_str(), upto.map(MessageId::get)],
                )?;
                Ok(())
            })
            .await
    }

    async fn unread(
        &self,
        agent: AgentId,
        conversations: &[ConversationId],
    ) -> Result<Vec<(ConversationId, u32)>> {
        let ids = conversations.to_vec();
        self.read(move |c| {
            // One indexed count per conversation, in one read: no round trips on SQLite.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT count(*) FROM messages m
                 WHERE m.conversation_id = ?2
                   AND m.id > coalesce((SELECT r.message_id FROM reads r
                                        WHERE r.agent_id = ?1 AND r.conversation_id = ?2), 0)
                   AND {}",
                unread_condition("?1")
            ))?;
            let mut out = Vec::new();
            for id in ids {
                let n: i64 = stmt.query_row(params![agent.get(), id.as_str()], |r| r.get(0))?;
                if n > 0 {
                    out.push((id, u32::try_from(n).unwrap_or(u32::MAX)));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn find(&self, find: Find) -> Result<Vec<Conversation>> {
        self.read(move |c| {
            let (clause, values) = find_sql(&find, '?', "LIKE {} ESCAPE '\\'");
            let values = values.into_iter().map(|v| match v {
                Param::Int(i) => Value::Integer(i),
                Param::Text(t) => Value::Text(t),
            });
            conversations_where(c, &clause, rusqlite::params_from_iter(values))
        })
        .await
    }
}
