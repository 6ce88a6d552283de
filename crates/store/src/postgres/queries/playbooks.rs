//! The playbook's versions on PostgreSQL. A new version is announced on the channel
//! `tandem_playbook` in its own transaction (they are rare, so the commit order NOTIFY imposes
//! costs nothing here).

use super::*;
use crate::postgres::PgStore;
use crate::{NewVersion, PlaybookVersion, Playbooks, VersionInfo};

/// The channel new playbook versions are announced on (payload: the version number).
pub(crate) const PLAYBOOK_CHANNEL: &str = "tandem_playbook";

const INFO: &str = "version, author, summary, source, created_at";

fn info(r: &Row) -> Result<VersionInfo> {
    Ok(VersionInfo {
        version: r.try_get(0)?,
        author: r.try_get(1)?,
        summary: r.try_get(2)?,
        source: r.try_get(3)?,
        created_at_ms: r.try_get(4)?,
    })
}

#[async_trait::async_trait]
impl Playbooks for PgStore {
    async fn playbook_versions(&self) -> Result<Vec<VersionInfo>> {
        query(
            &self.client().await?,
            &format!("SELECT {INFO} FROM playbook_versions ORDER BY version DESC"),
            &[],
        )
        .await?
        .iter()
        .map(info)
        .collect()
    }

    async fn playbook_version(&self, n: Option<i64>) -> Result<Option<PlaybookVersion>> {
        query_opt(
            &self.client().await?,
            &format!(
                "SELECT {INFO}, toml FROM playbook_versions
                 WHERE version = coalesce($1, (SELECT max(version) FROM playbook_versions))"
            ),
            &[&n],
        )
        .await?
        .map(|r| {
            Ok(PlaybookVersion {
                info: info(&r)?,
                toml: r.try_get(5)?,
            })
        })
        .transpose()
    }

    async fn add_playbook_version(&self, new: NewVersion) -> Result<VersionInfo> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let version = new.after.unwrap_or(0) + 1;
        // The primary key settles a race between two nodes; the check settles a stale `after`.
        let latest: Option<i64> = tx
            .query_one("SELECT max(version) FROM playbook_versions", &[])
            .await?
            .try_get(0)?;
        if latest != new.after {
            return Err(StoreError::Conflict(format!(
                "the playbook is at version {}, not {}",
                latest.unwrap_or(0),
                new.after.unwrap_or(0)
            )));
        }
        let now = self.clock.now_ms();
        tx.execute(
            "INSERT INTO playbook_versions (version, toml, author, summary, source, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &version,
                &new.toml,
                &new.author,
                &new.summary,
                &new.source,
                &now,
            ],
        )
        .await?;
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&PLAYBOOK_CHANNEL, &version.to_string()],
        )
        .await?;
        tx.commit().await?;
        Ok(VersionInfo {
            version,
            author: new.author,
            summary: new.summary,
            source: new.source,
            created_at_ms: now,
        })
    }
}
