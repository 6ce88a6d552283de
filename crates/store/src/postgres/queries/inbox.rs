//! The inbox's read markers and search on PostgreSQL.

use super::*;
use crate::inbox::{find_sql, unread_condition, Find, Inbox, Param};
use crate::postgres::PgStore;
use tokio_postgres::types::ToSql;

#[async_trait::async_trait]
impl Inbox for PgStore {
    async fn mark_read(
        &self,
        agent: AgentId,
        conversation: &ConversationId,
        upto: Option<MessageId>,
    ) -> Result<()> {
        exec(
            &self.client().await?,
            "INSERT INTO reads (agent_id, conversation_id, message_id) 
             VALUES ($1, $2, coalesce($3::BIGINT, (SELECT max(id) FROM messages
                                                   WHERE conversation_id = $2), 0))
             ON CONFLICT (agent_id, conversation_id)
             DO UPDATE SET message_id = GREATEST(reads.message_id, excluded.message_id)",
            &[
                &agent.get(),
                &conversation.as_str(),
                &upto.map(MessageId::get),
            ],
        )
        .await?;
        Ok(())
    }

    async fn unread(
        &self,
        agent: AgentId,
        conversations: &[ConversationId],
    ) -> Result<Vec<(ConversationId, u32)>> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = conversations.iter().map(|c| c.as_str()).collect();
        // One round trip for the whole inbox.
        let rows = query(
            &self.client().await?,
            &format!(
                "SELECT m.conversation_id, count(*) FROM messages m
                 LEFT JOIN reads r ON r.agent_id = $1 AND r.conversation_id = m.conversation_id
                 WHERE m.conversation_id = ANY($2) AND m.id > coalesce(r.message_id, 0) AND {}
                 GROUP BY m.conversation_id",
                unread_condition("$1")
            ),
            &[&agent.get(), &ids],
        )
        .await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get(1)?;
                Ok((
                    conversation_id(r.try_get(0)?)?,
                    u32::try_from(n).unwrap_or(u32::MAX),
                ))
            })
            .collect()
    }

    async fn find(&self, find: Find) -> Result<Vec<Conversation>> {
        let (clause, values) = find_sql(&find, '$', "ILIKE {}");
        let values: Vec<Box<dyn ToSql + Sync + Send>> = values
            .into_iter()
            .map(|v| match v {
                Param::Int(i) => Box::new(i) as Box<dyn ToSql + Sync + Send>,
                Param::Text(t) => Box::new(t),
            })
            .collect();
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        query(
            &self.client().await?,
            &format!("{CONVERSATION_SELECT} WHERE {clause}"),
            &params,
        )
        .await?
        .iter()
        .map(conversation_row)
        .collect()
    }
}
