//! The people teach the machine: the playbook lives in the store, every change is a new version,
//! and the machine tier is retrained in the background and swapped in without a restart.
//!
//! - At start the desk adopts a version ([`adopt`]): the file it was given (or the demo) becomes
//!   version 1 of an empty store; after that the store holds the truth. A `--playbook` file that
//!   changed since it was last imported is imported again as a new version, so editing the file
//!   and restarting still works.
//! - An edit ([`change`], [`rollback`]) reads the newest version, applies itself, and adds the
//!   next version after it; if another edit came in between, it is applied again on that one.
//! - The [`Teacher`] retrains on the newest version when woken: by an edit on this node, by the
//!   store's notice of another node's edit (PostgreSQL), or every [`BACKSTOP`] in case a notice
//!   was missed. While it trains, the old tier keeps answering.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use playbook::{EditError, Playbook};
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{NewVersion, Store, StoreError, VersionInfo};
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::service::{DeskError, DeskResult};
use crate::state::{AppState, Taught};

/// How often a node looks for a new version even without a notice.
pub const BACKSTOP: Duration = Duration::from_secs(10);
/// How often an edit is tried again when other edits keep coming in between.
const ATTEMPTS: usize = 5;

/// The playbook file `tandem serve` was given, as read.
#[derive(Debug, Clone)]
pub struct PlaybookFile {
    pub path: String,
    pub text: String,
}

/// What a version imported from a file records as its source: the SHA-256 of the text (hex).
pub fn source_of(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The version the desk starts with (see the module's notes): its number and playbook.
pub async fn adopt(
    store: &dyn Store,
    given: &Playbook,
    file: Option<&PlaybookFile>,
) -> anyhow::Result<(i64, Playbook)> {
    let playbooks = store.playbooks();
    for _ in 0..ATTEMPTS {
        let versions = playbooks.playbook_versions().await?;
        let latest = versions.first().map(|v| v.version);
        let source = file.map(|f| source_of(&f.text));
        let changed_file = file.filter(|_| {
            !versions
                .iter()
                .any(|v| v.source.is_some() && v.source == source)
        });
        let new = match (latest, changed_file) {
            (None, _) => Some(NewVersion {
                toml: file.map_or_else(|| given.to_toml(), |f| f.text.clone()),
                author: "start".into(),
                summary: file.map_or_else(
                    || "The playbook the desk first started with".into(),
                    |f| format!("Imported from {} at first start", f.path),
                ),
                source: source.clone(),
                after: None,
            }),
            (Some(_), Some(f)) => Some(NewVersion {
                toml: f.text.clone(),
                author: "start".into(),
                summary: format!("Imported from {} at start (the file changed)", f.path),
                source: source.clone(),
                after: latest,
            }),
            (Some(_), None) => None,
        };
        if let Some(new) = new {
            match playbooks.add_playbook_version(new).await {
                Ok(v) => tracing::info!(
                    version = v.version,
                    summary = %v.summary,
                    "playbook version added"
                ),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let Some(newest) = playbooks.playbook_version(None).await? else {
            continue;
        };
        let playbook = Playbook::parse(&newest.toml).map_err(|e| {
            anyhow::anyhow!("playbook version {} is invalid: {e}", newest.info.version)
        })?;
        return Ok((newest.info.version, playbook));
    }
    anyhow::bail!("cannot settle the playbook's version: other nodes keep adding versions")
}

/// Where retraining stands on this node.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Training {
    /// The version being trained now, if any.
    pub running: Option<i64>,
    /// The last version trained here and how long it took.
    pub last_version: Option<i64>,
    pub last_ms: Option<u64>,
    /// Why the last attempt failed, if it did.
    pub error: Option<String>,
    /// While a training embeds the playbook's texts with the encoder: how many of how many
    /// (those an earlier training on this node embedded are looked up, and count at once).
    pub embedded: Option<[usize; 2]>,
}

/// Retrains the machine tier on new playbook versions, one training at a time.
pub struct Teacher {
    wake: watch::Sender<u64>,
    status: Mutex<Training>,
}

impl Default for Teacher {
    fn default() -> Self {
        Self {
            wake: watch::channel(0).0,
            status: Mutex::new(Training::default()),
        }
    }
}

impl Teacher {
    /// Ask for a look at the newest version.
    pub fn wake(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn status(&self) -> Training {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn set(&self, change: impl FnOnce(&mut Training)) {
        if let Ok(mut s) = self.status.lock() {
            change(&mut s);
        }
    }
}

/// Starts retraining in the background: on a wake, on the store's notices, every [`BACKSTOP`].
pub fn start(state: &AppState) {
    let mut wake = state.teacher.wake.subscribe();
    let worker = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = wake.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(BACKSTOP) => {}
            }
            catch_up(&worker).await;
        }
    });
    if let Some(mut notices) = state.store.playbook_notices() {
        let state = state.clone();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match notices.recv().await {
                    Ok(_) | Err(RecvError::Lagged(_)) => state.teacher.wake(),
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
}

/// Trains the newest version if it is newer than the one the desk answers with.
async fn catch_up(state: &AppState) {
    let live = state.machine.now().version;
    let newest = match state.store.playbooks().playbook_version(None).await {
        Ok(Some(v)) if v.info.version > live => v,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the playbook's newest version");
            return;
        }
    };
    let version = newest.info.version;
    state.teacher.set(|s| s.running = Some(version));
    let started = Instant::now();
    let worker = state.clone();
    let trained = tokio::task::spawn_blocking(move || {
        let playbook = Playbook::parse(&newest.toml).map_err(|e| e.to_string())?;
        retrain(&worker, version, playbook).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|_| Err("the training task failed".into()));
    let ms = started.elapsed().as_millis() as u64;
    match &trained {
        Ok(()) => tracing::info!(version, elapsed_ms = ms, "playbook version is live"),
        Err(e) => tracing::error!(version, error = %e, "cannot train playbook version"),
    }
    state.teacher.set(|s| {
        s.running = None;
        s.embedded = None;
        if trained.is_ok() {
            s.last_version = Some(version);
            s.last_ms = Some(ms);
        }
        s.error = trained.err();
    });
}

/// Trains `playbook` (version `version`) with the desk's encoder and puts it in place, unless
/// a newer one got there first. Blocking.
fn retrain(state: &AppState, version: i64, playbook: Playbook) -> Result<(), nlu::NluError> {
    let _one = state.machine.training();
    if state.machine.now().version >= version {
        return Ok(());
    }
    let encoder = state.machine.encoder();
    let (tier, _) = state
        .machine
        .train(&playbook, encoder.as_ref(), &mut |done, total| {
            state.teacher.set(|s| s.embedded = Some([done, total]));
        })?;
    state
        .machine
        .replace(Taught::new(version, playbook, tier), encoder);
    Ok(())
}

/// Adds a version made by `edit` from the newest one, by `author`, summed up by `summary`; the
/// teacher is woken. A refused edit leaves the playbook as it was and names the field.
pub async fn change(
    state: &AppState,
    author: &desk::Agent,
    summary: String,
    edit: impl Fn(&mut Playbook) -> Result<(), EditError>,
) -> DeskResult<VersionInfo> {
    add_version(state, author, summary, |newest| {
        let mut playbook = Playbook::parse(newest).map_err(|e| {
            tracing::error!(error = %e, "the newest playbook version does not parse");
            DeskError::Internal
        })?;
        edit(&mut playbook).map_err(|e| DeskError::invalid(e.to_string()))?;
        playbook
            .checked_toml()
            .map_err(|e| DeskError::invalid(format!("playbook: {e}")))
    })
    .await
}

/// Makes version `version`'s playbook the newest again, as a new version.
pub async fn rollback(
    state: &AppState,
    author: &desk::Agent,
    version: i64,
) -> DeskResult<VersionInfo> {
    let Some(old) = state
        .store
        .playbooks()
        .playbook_version(Some(version))
        .await?
    else {
        return Err(DeskError::invalid(format!(
            "version: there is no version {version}"
        )));
    };
    let summary = format!("Rolled back to version {version}");
    add_version(state, author, summary, |_| Ok(old.toml.clone())).await
}

/// Adds the version `make` writes from the newest one's TOML, again on a newer one if another
/// came in between; the teacher is woken.
async fn add_version(
    state: &AppState,
    author: &desk::Agent,
    summary: String,
    make: impl Fn(&str) -> DeskResult<String>,
) -> DeskResult<VersionInfo> {
    let added = add_after_newest(
        state.store.playbooks(),
        &author.email,
        &summary,
        None,
        |newest| make(&newest.ok_or(DeskError::Internal)?.toml),
    )
    .await?;
    state.teacher.wake();
    Ok(added)
}

/// Adds the version `make` writes from the newest one (`None` in an empty store) after it; if
/// another version came in between, `make` runs again on that one (at most [`ATTEMPTS`] times).
/// Every change of the playbook goes through here: the desk's edits and `tandem playbook import`.
pub async fn add_after_newest<E: From<StoreError>>(
    playbooks: &dyn store::Playbooks,
    author: &str,
    summary: &str,
    source: Option<String>,
    make: impl Fn(Option<&store::PlaybookVersion>) -> Result<String, E>,
) -> Result<VersionInfo, E> {
    for _ in 0..ATTEMPTS {
        let newest = playbooks.playbook_version(None).await?;
        let added = playbooks
            .add_playbook_version(NewVersion {
                toml: make(newest.as_ref())?,
                author: author.to_owned(),
                summary: summary.to_owned(),
                source: source.clone(),
                after: newest.map(|v| v.info.version),
            })
            .await;
        match added {
            Err(StoreError::Conflict(_)) => continue,
            other => return Ok(other?),
        }
    }
    Err(StoreError::Refused("the playbook keeps changing; try again".into()).into())
}

/// A unified diff between versions `from` (default: the one before `to`) and `to` (default: the
/// newest), each written out by the desk, so only what the playbook says shows.
pub async fn diff(
    state: &AppState,
    from: Option<i64>,
    to: Option<i64>,
) -> DeskResult<(i64, i64, String)> {
    let playbooks = state.store.playbooks();
    let to = playbooks
        .playbook_version(to)
        .await?
        .ok_or(DeskError::NotFound)?;
    let from_n = from.unwrap_or(to.info.version - 1);
    let from = match playbooks.playbook_version(Some(from_n)).await? {
        Some(v) => v,
        None if from.is_none() => return Ok((0, to.info.version, String::new())),
        None => return Err(DeskError::NotFound),
    };
    let canonical = |toml: &str| {
        Playbook::parse(toml)
            .map(|p| p.to_toml())
            .unwrap_or_else(|_| toml.to_owned())
    };
    let (a, b) = (canonical(&from.toml), canonical(&to.toml));
    let text = similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("version {}", from.info.version),
            &format!("version {}", to.info.version),
        )
        .to_string();
    Ok((from.info.version, to.info.version, text))
}
