//! `tandem migrate-store`: copies a whole SQLite desk into an empty PostgreSQL database, ids and
//! password hashes included, so the desk can grow to several nodes without losing anything.

use std::path::PathBuf;

use anyhow::Context;
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::Store as _;

/// Messages and events are copied in pages of this many rows.
const PAGE: u32 = 5_000;

#[derive(clap::Args, Debug)]
pub struct MigrateStoreArgs {
    /// The desk to copy: `sqlite:///path/to/tandem.db` (stop its `tandem serve` first).
    #[arg(long)]
    pub from: String,
    /// Where to copy it: `postgres://user@host:5432/db`, an empty database.
    #[arg(long)]
    pub to: String,
}

fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    match url.split_once("://") {
        Some(("sqlite", path)) => Ok(PathBuf::from(path)),
        None => Ok(PathBuf::from(url)),
        _ => anyhow::bail!("--from must be sqlite://PATH, got {url:?}"),
    }
}

pub fn run(args: MigrateStoreArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(migrate(args))
}

async fn migrate(args: MigrateStoreArgs) -> anyhow::Result<()> {
    let path = sqlite_path(&args.from)?;
    anyhow::ensure!(path.is_file(), "no SQLite desk at {}", path.display());
    anyhow::ensure!(
        args.to.starts_with("postgres://") || args.to.starts_with("postgresql://"),
        "--to must be a postgres:// URL"
    );
    let from =
        SqliteStore::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let to = PgStore::connect(&args.to)
        .await
        .context("cannot open the PostgreSQL database")?;
    anyhow::ensure!(
        to.is_empty().await?,
        "the PostgreSQL database already holds a desk; migrate into an empty one"
    );

    let agents = from.export_agents().await?;
    to.import_agents(&agents).await?;
    // Who is disabled stays disabled (and erased agents stay forgotten: their rows already are).
    for id in from.disabled_agents().await? {
        to.set_disabled(id, true).await?;
    }
    eprintln!("migrate-store: {} agents", agents.len());
    let sessions = from.export_sessions().await?;
    to.import_sessions(&sessions).await?;
    eprintln!("migrate-store: {} sessions", sessions.len());
    let conversations = from.export_conversations().await?;
    for chunk in conversations.chunks(PAGE as usize) {
        to.import_conversations(chunk).await?;
    }
    eprintln!("migrate-store: {} conversations", conversations.len());

    let (mut messages, mut after) = (0usize, 0i64);
    loop {
        let page = from.export_messages(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.get();
        to.import_messages(&page).await?;
        messages += page.len();
        eprintln!("migrate-store: {messages} messages");
    }
    let (mut events, mut after) = (0usize, 0i64);
    loop {
        let page = from.export_events(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        to.import_events(&page).await?;
        events += page.len();
        eprintln!("migrate-store: {events} events");
    }
    let help = from.export_help().await?;
    to.import_help(&help).await?;
    eprintln!(
        "migrate-store: {} articles, {} comments, {} votes",
        help.articles.len(),
        help.comments.len(),
        help.votes.len()
    );
    let versions = copy_playbook_versions(&from, &to).await?;
    eprintln!("migrate-store: {versions} playbook versions");
    to.finish_import().await?;
    println!(
        "Copied {} agents, {} sessions, {} conversations, {messages} messages, {events} events, {} help-center articles and {versions} playbook versions to PostgreSQL.",
        agents.len(),
        sessions.len(),
        conversations.len(),
        help.articles.len()
    );
    Ok(())
}

/// The playbook's versions, oldest first, under the same numbers (their time becomes the copy's).
async fn copy_playbook_versions(from: &SqliteStore, to: &PgStore) -> anyhow::Result<usize> {
    use store::Store;
    let (from, to) = (from.playbooks(), to.playbooks());
    let mut after = None;
    let versions = from.playbook_versions().await?;
    for info in versions.iter().rev() {
        let v = from
            .playbook_version(Some(info.version))
            .await?
            .with_context(|| format!("playbook version {} vanished", info.version))?;
        let added = to
            .add_playbook_version(store::NewVersion {
                toml: v.toml,
                author: info.author.clone(),
                summary: info.summary.clone(),
                source: info.source.clone(),
                after,
            })
            .await?;
        after = Some(added.version);
    }
    Ok(versions.len())
}
