//! Canned responses: texts agents insert into a reply. Shared ones (no owner) are the team's and
//! only admins change them; personal ones belong to one agent. Each may name a locale.

use desk::{AgentId, Locale};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponse {
    pub id: i64,
    /// `None`: shared by the whole team.
    pub owner: Option<AgentId>,
    pub title: String,
    /// May hold `{{customer.name}}` and `{{agent.name}}`, filled in when inserted.
    pub text: String,
    /// `None`: for every locale.
    pub locale: Option<Locale>,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCanned {
    pub owner: Option<AgentId>,
    pub title: String,
    pub text: String,
    pub locale: Option<Locale>,
}

/// The canned responses' storage, beside [`crate::Store`] (reached by `Store::canned`).
#[async_trait::async_trait]
pub trait CannedResponses: Send + Sync {
    /// The shared responses and `agent`'s own, by title.
    async fn canned_for(&self, agent: AgentId) -> crate::Result<Vec<CannedResponse>>;
    async fn canned(&self, id: i64) -> crate::Result<Option<CannedResponse>>;
    async fn add_canned(&self, new: NewCanned) -> crate::Result<CannedResponse>;
    /// Replaces title, text and locale; the owner stays.
    async fn update_canned(&self, id: i64, new: NewCanned) -> crate::Result<CannedResponse>;
    async fn delete_canned(&self, id: i64) -> crate::Result<()>;
}
