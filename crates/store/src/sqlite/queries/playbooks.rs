//! The playbook's versions on SQLite.

use super::*;
use crate::sqlite::SqliteStore;
use crate::{NewVersion, PlaybookVersion, Playbooks, VersionInfo};

const INFO: &str = "version, author, summary, source, created_at";

fn info(r: &Row<'_>) -> rusqlite::Result<VersionInfo> {
    Ok(VersionInfo {
        version: r.get(0)?,
        author: r.get(1)?,
        summary: r.get(2)?,
        source: r.get(3)?,
        created_at_ms: r.get(4)?,
    })
}

#[async_trait::async_trait]
impl Playbooks for SqliteStore {
    async fn playbook_versions(&self) -> Result<Vec<VersionInfo>> {
        self.read(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {INFO} FROM playbook_versions ORDER BY version DESC"
            ))?
            .query_map([], info)?
            .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn playbook_version(&self, n: Option<i64>) -> Result<Option<PlaybookVersion>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {INFO}, toml FROM playbook_versions
                 WHERE version = coalesce(?1, (SELECT max(version) FROM playbook_versions))"
            ))?
            .query_row([n], |r| {
                Ok(PlaybookVersion {
                    info: info(r)?,
                    toml: r.get(5)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn add_playbook_version(&self, new: NewVersion) -> Result<VersionInfo> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| {
                let latest: Option<i64> =
                    c.query_row("SELECT max(version) FROM playbook_versions", [], |r| {
                        r.get(0)
                    })?;
                if latest != new.after {
                    return Err(StoreError::Conflict(format!(
                        "the playbook is at version {}, not {}",
                        latest.unwrap_or(0),
                        new.after.unwrap_or(0)
                    )));
                }
                let version = latest.unwrap_or(0) + 1;
                exec(
                    c,
                    "INSERT INTO playbook_versions (version, toml, author, summary, source, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![version, new.toml, new.author, new.summary, new.source, now],
                )?;
                Ok(VersionInfo {
                    version,
                    author: new.author,
                    summary: new.summary,
                    source: new.source,
                    created_at_ms: now,
                })
            })
            .await
    }
}
