//! Canned responses on PostgreSQL.

use super::*;
use crate::postgres::PgStore;
use crate::{CannedResponse, CannedResponses, NewCanned};

const COLUMNS: &str = "id, owner_id, title, text, locale, updated_at";

fn row(r: &Row) -> Result<CannedResponse> {
    Ok(CannedResponse {
        id: r.try_get(0)?,
        owner: r.try_get::<_, Option<i64>>(1)?.map(AgentId::new),
        title: r.try_get(2)?,
        text: r.try_get(3)?,
        locale: r.try_get::<_, Option<String>>(4)?.map(Locale::trusted),
        updated_at_ms: r.try_get(5)?,
    })
}

#[async_trait::async_trait]
impl CannedResponses for PgStore {
    async fn canned_for(&self, agent: AgentId) -> Result<Vec<CannedResponse>> {
        query(
            &self.client().await?,
            &format!(
                "SELECT {COLUMNS} FROM canned_responses
                 WHERE owner_id IS NULL OR owner_id = $1 ORDER BY lower(title), id"
            ),
            &[&agent.get()],
        )
        .await?
        .iter()
        .map(row)
        .collect()
    }

    async fn canned(&self, id: i64) -> Result<Option<CannedResponse>> {
        query_opt(
            &self.client().await?,
            &format!("SELECT {COLUMNS} FROM canned_responses WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(row)
        .transpose()
    }

    async fn add_canned(&self, new: NewCanned) -> Result<CannedResponse> {
        let r = query_opt(
            &self.client().await?,
            &format!(
                "INSERT INTO canned_responses (owner_id, title, text, locale, updated_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ),
            &[
                &new.owner.map(|a| a.get()),
                &new.title,
                &new.text,
                &new.locale.as_ref().map(|l| l.as_str()),
                &self.clock.now_ms(),
            ],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        row(&r)
    }

    async fn update_canned(&self, id: i64, new: NewCanned) -> Result<CannedResponse> {
        let r = query_opt(
            &self.client().await?,
            &format!(
                "UPDATE canned_responses SET title = $2, text = $3, locale = $4, updated_at = $5
                 WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &new.title,
                &new.text,
                &new.locale.as_ref().map(|l| l.as_str()),
                &self.clock.now_ms(),
            ],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        row(&r)
    }

    async fn delete_canned(&self, id: i64) -> Result<()> {
        match exec(
            &self.client().await?,
            "DELETE FROM canned_responses WHERE id = $1",
            &[&id],
        )
        .await?
        {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }
}
