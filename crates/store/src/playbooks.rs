//! The playbook's versions: the desk's playbook lives in the store, one row per version, so
//! every node trains the same one and an admin can go back to an earlier one. A version is
//! never changed; a rollback writes the earlier text again as a new version.

/// One version's facts, without its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// 1, 2, 3, …: the newest version is the desk's playbook.
    pub version: i64,
    /// Who made it: an agent's e-mail, or how it came (`import`, `start`).
    pub author: String,
    /// One line on what changed.
    pub summary: String,
    /// SHA-256 (hex) of the file it was imported from, if it came from one at start.
    pub source: Option<String>,
    pub created_at_ms: i64,
}

/// One version with its playbook (TOML, the format of docs/playbook.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybookVersion {
    pub info: VersionInfo,
    pub toml: String,
}

/// A version to add.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub toml: String,
    pub author: String,
    pub summary: String,
    pub source: Option<String>,
    /// The newest version this one was made from; `None`: the store holds none yet. If another
    /// version came in meanwhile the add is refused with `StoreError::Conflict`, so two admins'
    /// edits never silently overwrite each other.
    pub after: Option<i64>,
}

/// The playbook's storage, beside [`crate::Store`] (reached by `Store::playbooks`).
#[async_trait::async_trait]
pub trait Playbooks: Send + Sync {
    /// Every version, newest first.
    async fn playbook_versions(&self) -> crate::Result<Vec<VersionInfo>>;
    /// Version `n`, or the newest with `None`.
    async fn playbook_version(&self, n: Option<i64>) -> crate::Result<Option<PlaybookVersion>>;
    /// Adds the next version (see [`NewVersion::after`]). On PostgreSQL the other nodes hear of
    /// it (`Store::playbook_notices`).
    async fn add_playbook_version(&self, new: NewVersion) -> crate::Result<VersionInfo>;
}
