//! Canned responses on SQLite.

use super::*;
use crate::sqlite::SqliteStore;
use crate::{CannedResponse, CannedResponses, NewCanned};

const COLUMNS: &str = "id, owner_id, title, text, locale, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<CannedResponse> {
    Ok(CannedResponse {
        id: r.get(0)?,
        owner: r.get::<_, Option<i64>>(1)?.map(AgentId::new),
        title: r.get(2)?,
        text: r.get(3)?,
        locale: r.get::<_, Option<String>>(4)?.map(Locale::trusted),
        updated_at_ms: r.get(5)?,
    })
}

fn one(c: &Connection, id: i64) -> Result<Option<CannedResponse>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM canned_responses WHERE id = ?1"
    ))?
    .query_row([id], row)
    .optional()?)
}

#[async_trait::async_trait]
impl CannedResponses for SqliteStore {
    async fn canned_for(&self, agent: AgentId) -> Result<Vec<CannedResponse>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM canned_responses
                 WHERE owner_id IS NULL OR owner_id = ?1 ORDER BY lower(title), id"
            ))?
            .query_map([agent.get()], row)?
            .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn canned(&self, id: i64) -> Result<Option<CannedResponse>> {
        self.read(move |c| one(c, id)).await
    }

    async fn add_canned(&self, new: NewCanned) -> Result<CannedResponse> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| {
                exec(
                    c,
                    "INSERT INTO canned_responses (owner_id, title, text, locale, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        new.owner.map(|a| a.get()),
                        new.title,
                        new.text,
                        new.locale.as_ref().map(|l| l.as_str()),
                        now
                    ],
                )?;
                one(c, c.last_insert_rowid())?.ok_or(StoreError::NotFound)
            })
            .await
    }

    async fn update_canned(&self, id: i64, new: NewCanned) -> Result<CannedResponse> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| {
                let n = exec(
                    c,
                    "UPDATE canned_responses SET title = ?2, text = ?3, locale = ?4, updated_at = ?5
                     WHERE id = ?1",
                    params![
                        id,
                        new.title,
                        new.text,
                        new.locale.as_ref().map(|l| l.as_str()),
                        now
                    ],
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                one(c, id)?.ok_or(StoreError::NotFound)
            })
            .await
    }

    async fn delete_canned(&self, id: i64) -> Result<()> {
        self.writer
            .write(
                move |c| match exec(c, "DELETE FROM canned_responses WHERE id = ?1", [id])? {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                },
            )
            .await
    }
}
