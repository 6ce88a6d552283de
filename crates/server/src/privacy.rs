//! Customers' rights over their data, without HTTP: what the desk holds about one customer
//! (GDPR Art. 15) and its erasure (Art. 17), found by their e-mail address. The API's
//! `customers` endpoints call it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::service::{DeskError, DeskResult};
use crate::state::AppState;
use crate::wire::{self, rfc3339};

/// Everything the desk holds about one customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerExport {
    pub email: String,
    /// RFC 3339.
    pub exported_at: String,
    /// Every conversation under that address, contact-form messages included, oldest first.
    pub conversations: Vec<ExportedConversation>,
    /// Help-center comments carry a name, not an e-mail, so they cannot be tied to a customer
    /// and are not part of an export (said here so the reader knows).
    pub note: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedConversation {
    pub id: String,
    #[schema(value_type = String)]
    pub state: desk::ConversationState,
    #[schema(value_type = String)]
    pub locale: desk::Locale,
    pub customer_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub messages: Vec<wire::Message>,
    pub ratings: Vec<ExportedRating>,
    /// `chat` or `email`.
    #[schema(value_type = String)]
    pub channel: desk::Channel,
    /// The mail's subject, on an e-mail conversation.
    pub subject: Option<String>,
    /// The attachments of the customer's mails (each one's bytes: `GET
    /// /api/v1/conversations/{id}/attachments/{attachment}`).
    pub attachments: Vec<wire::AttachmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedRating {
    pub score: i64,
    pub comment: Option<String>,
    pub at: String,
}

/// What the desk holds about the customer with `email`.
pub async fn export(state: &AppState, email: &str) -> DeskResult<CustomerExport> {
    let email = desk::Email::parse(email)
        .map_err(|why| DeskError::invalid(format!("email {why}")))?
        .into_string();
    let mut conversations = Vec::new();
    for c in state.store.conversations_of_customer(&email).await? {
        let messages = state.store.messages(&c.id).await?;
        let ratings = state
            .store
            .events(&c.id)
            .await?
            .into_iter()
            .filter(|e| e.kind == "rating")
            .map(|e| ExportedRating {
                score: e.data["score"].as_i64().unwrap_or_default(),
                comment: e.data["comment"].as_str().map(str::to_owned),
                at: rfc3339(e.created_at_ms),
            })
            .collect();
        conversations.push(ExportedConversation {
            id: c.id.to_string(),
            state: c.state,
            locale: c.locale.clone(),
            customer_name: c.customer.name.clone(),
            created_at: rfc3339(c.created_at_ms),
            updated_at: rfc3339(c.updated_at_ms),
            messages: wire::messages(&messages),
            ratings,
            channel: c.channel,
            subject: c.subject.clone(),
            attachments: state
                .store
                .mailbox()
                .attachments(&c.id)
                .await?
                .into_iter()
                .map(wire::AttachmentView::from)
                .collect(),
        });
    }
    tracing::info!(
        conversations = conversations.len(),
        "customer data exported"
    );
    Ok(CustomerExport {
        email,
        exported_at: rfc3339(state.clock.now_ms()),
        conversations,
        note: "Help-center comments carry a name, not an e-mail address, and are not included.",
    })
}

/// Erases the customer with `email` (GDPR Art. 17): what they wrote and who they are goes, the
/// analytics keep their counts under a random pseudonym. Returns how many conversations.
pub async fn erase(state: &AppState, email: &str) -> DeskResult<u64> {
    let email = desk::Email::parse(email)
        .map_err(|why| DeskError::invalid(format!("email {why}")))?
        .into_string();
    let pseudonym = format!("erased:{}", crate::auth::new_token(""));
    let n = state.store.erase_customer(&email, &pseudonym).await?;
    tracing::info!(conversations = n, "customer data erased");
    Ok(n)
}

const DAY_MS: i64 = 86_400_000;

/// Retention: erases every conversation resolved more than `days` days ago (as an erasure does)
/// and returns how many.
pub async fn apply_retention(state: &AppState, days: u32) -> DeskResult<u64> {
    let cutoff = state.clock.now_ms() - i64::from(days) * DAY_MS;
    let n = state.store.erase_resolved_before(cutoff).await?;
    if n > 0 {
        tracing::info!(
            conversations = n,
            days,
            "retention erased old conversations"
        );
    }
    Ok(n)
}

/// Applies [`apply_retention`] now and then every `period` (a day), for as long as the desk
/// runs; a failure is logged and tried again at the next turn.
pub async fn retention_every(state: AppState, days: u32, period: std::time::Duration) {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(e) = apply_retention(&state, days).await {
            tracing::warn!(error = %e, "retention failed; trying again at the next turn");
        }
    }
}
