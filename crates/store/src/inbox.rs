//! The console's inbox per agent: what each agent has read of a conversation (a read marker,
//! the last message they saw), and finding conversations by what was written in them.

use desk::{AgentId, ConversationId, ConversationState, MessageId};

use crate::Conversation;

/// Who may see the conversations a [`Find`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every conversation (admins).
    All,
    /// The conversations an agent may read: assigned to them (now or when they were resolved)
    /// and the queue, the same rule as the API's per-object authorization.
    VisibleTo(AgentId),
}

/// What to look for; the newest conversations come first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Find {
    /// Words that the customer's name, e-mail, subject or any message holds (case-insensitive,
    /// as a whole phrase). `None`: no condition on the words.
    pub text: Option<String>,
    pub scope: Scope,
    pub state: Option<ConversationState>,
    pub limit: u32,
}

/// The inbox's storage, beside [`crate::Store`] (reached by `Store::inbox`).
#[async_trait::async_trait]
pub trait Inbox: Send + Sync {
    /// The agent has seen the conversation up to message `upto` (`None`: its latest message).
    /// A marker never moves back.
    async fn mark_read(
        &self,
        agent: AgentId,
        conversation: &ConversationId,
        upto: Option<MessageId>,
    ) -> crate::Result<()>;
    /// How many messages in each conversation the agent has not read: the customer's, and
    /// colleagues' replies and notes (the bot's and their own do not count). Conversations with
    /// none are left out.
    async fn unread(
        &self,
        agent: AgentId,
        conversations: &[ConversationId],
    ) -> crate::Result<Vec<(ConversationId, u32)>>;
    /// The conversations that match, newest first, at most `find.limit`.
    async fn find(&self, find: Find) -> crate::Result<Vec<Conversation>>;
}

/// The messages that count as unread for an agent (SQL shared by both backends; `{me}` is the
/// agent's parameter).
pub(crate) fn unread_condition(me: &str) -> String {
    format!("(m.author = 'customer' OR (m.author IN ('agent', 'note') AND m.agent_id <> {me}))")
}

/// One parameter of [`find_sql`].
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// The WHERE clause (with its order and limit) of [`Inbox::find`] and its parameters, in a
/// backend's words: `mark` numbers the parameters (`?` or `$`), `like` is the case-insensitive
/// match with backslash escapes (`LIKE … ESCAPE '\'` on SQLite, `ILIKE` on PostgreSQL; `{}` is
/// the pattern's parameter).
pub(crate) fn find_sql(find: &Find, mark: char, like: &str) -> (String, Vec<Param>) {
    let mut parts = Vec::new();
    let mut values = Vec::new();
    let mut add = |v: Param| {
        values.push(v);
        format!("{mark}{}", values.len())
    };
    if let Scope::VisibleTo(agent) = find.scope {
        let me = add(Param::Int(agent.get()));
        parts.push(format!("(c.assignee_id = {me} OR c.state = 'queued')"));
    }
    if let Some(state) = find.state {
        let state = add(Param::Text(state.as_str().to_owned()));
        parts.push(format!("c.state = {state}"));
    }
    if let Some(text) = &find.text {
        let matches = like.replace("{}", &add(Param::Text(like_pattern(text))));
        parts.push(format!(
            "(c.customer_name {matches} OR c.customer_email {matches} OR c.subject {matches}
              OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
                         AND m.text {matches}))"
        ));
    }
    if parts.is_empty() {
        parts.push("1 = 1".to_owned());
    }
    let limit = add(Param::Int(i64::from(find.limit)));
    (
        format!(
            // Only `created_at`: SQLite then walks `conversations_by_created` backwards and stops
            // at the limit (a second key made it sort every match first: 2.7 s over 1,000,000).
            "{} ORDER BY c.created_at DESC LIMIT {limit}",
            parts.join(" AND ")
        ),
        values,
    )
}

/// `text` as a LIKE pattern that matches it anywhere, with `\` escaping the pattern's own
/// wildcards.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_scoped_and_numbered() {
        let find = Find {
            text: Some("Rechnung".into()),
            scope: Scope::VisibleTo(AgentId::new(7)),
            state: Some(ConversationState::Resolved),
            limit: 20,
        };
        let (sql, values) = find_sql(&find, '$', "ILIKE {}");
        assert!(sql.starts_with("(c.assignee_id = $1 OR c.state = 'queued') AND c.state = $2"));
        assert!(sql.contains("m.text ILIKE $3"));
        assert!(sql.ends_with("LIMIT $4"));
        assert_eq!(values.len(), 4);
        let all = Find {
            text: None,
            scope: Scope::All,
            state: None,
            limit: 5,
        };
        assert_eq!(
            find_sql(&all, '?', "").0,
            "1 = 1 ORDER BY c.created_at DESC LIMIT ?1"
        );
    }

    #[test]
    fn a_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern("Rechnung"), "%Rechnung%");
    }
}
