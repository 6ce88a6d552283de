//! `tandem playbook export|import|versions`: the playbook the desk keeps in its store, as TOML
//! files a team can keep in Git. A running desk picks up an imported version by itself (within
//! seconds on PostgreSQL, within `server::teach::BACKSTOP` on SQLite).

use std::path::PathBuf;

use anyhow::Context;
use playbook::Playbook;

#[derive(clap::Args, Debug)]
pub struct PlaybookArgs {
    #[command(subcommand)]
    pub what: PlaybookWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum PlaybookWhat {
    /// Write a version of the playbook as TOML (the newest by default).
    Export(ExportArgs),
    /// Check a TOML file and make it the newest version.
    Import(ImportArgs),
    /// List the versions, newest first.
    Versions(StoreArgs),
}

/// Which desk: the same flags as `tandem serve`.
#[derive(clap::Args, Debug)]
pub struct StoreArgs {
    /// Where the embedded SQLite database lives.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "./tandem-data")]
    pub data_dir: PathBuf,
    /// `sqlite:///path/to/file.db` or `postgres://user@host:5432/db`.
    #[arg(long, env = "TANDEM_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The version to write [default: the newest].
    #[arg(long)]
    pub version: Option<i64>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The playbook (TOML, docs/playbook.md).
    pub file: PathBuf,
    /// One line on what changed [default: "Imported from FILE"].
    #[arg(long)]
    pub summary: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: PlaybookArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match args.what {
            PlaybookWhat::Export(a) => export(a).await,
            PlaybookWhat::Import(a) => import(a).await,
            PlaybookWhat::Versions(a) => versions(a).await,
        }
    })
}

async fn open(args: &StoreArgs) -> anyhow::Result<std::sync::Arc<dyn store::Store>> {
    super::serve::open_store(args.database_url.as_deref(), &args.data_dir).await
}

async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let store = open(&args.store).await?;
    let Some(v) = store.playbooks().playbook_version(args.version).await? else {
        match args.version {
            Some(n) => anyhow::bail!("there is no playbook version {n} (`tandem playbook versions` lists them)"),
            None => anyhow::bail!(
                "the store holds no playbook yet: it gets one when `tandem serve` first starts on it"
            ),
        }
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &v.toml)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote playbook version {} to {}",
                v.info.version,
                path.display()
            );
        }
        None => print!("{}", v.toml),
    }
    Ok(())
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    if let Err(problems) = Playbook::check(&text) {
        for p in &problems {
            eprintln!("{}:{p}", args.file.display());
        }
        anyhow::bail!(
            "{} is not imported: {} problem(s); nothing changed",
            args.file.display(),
            problems.len()
        );
    }
    let store = open(&args.store).await?;
    let summary = args
        .summary
        .unwrap_or_else(|| format!("Imported from {}", args.file.display()));
    let v = server::teach::add_after_newest(
        store.playbooks(),
        "import",
        &summary,
        Some(server::teach::source_of(&text)),
        |_| Ok::<_, anyhow::Error>(text.clone()),
    )
    .await?;
    println!(
        "playbook version {} added; a running desk answers with it within {} s",
        v.version,
        server::teach::BACKSTOP.as_secs()
    );
    Ok(())
}

async fn versions(args: StoreArgs) -> anyhow::Result<()> {
    let store = open(&args).await?;
    let all = store.playbooks().playbook_versions().await?;
    if all.is_empty() {
        println!("no versions yet: the store gets one when `tandem serve` first starts on it");
    }
    for v in all {
        println!(
            "{:>5}  {}  {:<24}  {}",
            v.version,
            server::wire::rfc3339(v.created_at_ms),
            v.author,
            v.summary
        );
    }
    Ok(())
}
