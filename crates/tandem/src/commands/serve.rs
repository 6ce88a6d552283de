//! `tandem serve`: open the store, load the playbook, bootstrap accounts and serve.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::ArgAction;
use playbook::Playbook;
use server::{bootstrap, Application, Settings};
use store::postgres::PgStore;
use store::sqlite::SqliteStore;
use store::Store;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// A TOML file of settings: keys are these flags' names (`bind = "0.0.0.0:8080"`). Its values
    /// override the defaults; `TANDEM_*` variables and flags override it (docs/cli.md).
    #[arg(long, env = "TANDEM_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub encoder: super::serve_encoder::ServeEncoderArgs,
    #[command(flatten)]
    pub mail: super::serve_mail::ServeMailArgs,
    /// The playbook (TOML). Without it, the built-in demo shop runs, with demo agents.
    #[arg(long, env = "TANDEM_PLAYBOOK")]
    pub playbook: Option<PathBuf>,
    /// Where the embedded SQLite database lives.
    #[arg(long, env = "TANDEM_DATA_DIR", default_value = "./tandem-data")]
    pub data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "TANDEM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// `sqlite:///path/to/file.db` or `postgres://user@host:5432/db` (several nodes may share
    /// one PostgreSQL database); empty means SQLite in the data dir.
    #[arg(long, env = "TANDEM_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Rate limits on public endpoints. Turn off only for load tests.
    #[arg(long, env = "TANDEM_RATE_LIMITS", default_value_t = true, action = ArgAction::Set)]
    pub rate_limits: bool,
    /// Run the demo desk (no `--playbook`) on an address other than loopback. Its accounts have
    /// published passwords, so without this it only listens on 127.0.0.1 / ::1.
    #[arg(long, env = "TANDEM_DEMO", default_value_t = false, action = ArgAction::Set)]
    pub demo: bool,
    /// Mark cookies `Secure`; set this when the desk is served over HTTPS.
    #[arg(long, env = "TANDEM_SECURE_COOKIES", default_value_t = false, action = ArgAction::Set)]
    pub secure_cookies: bool,
    /// Seconds an assigned agent has for a first reply before the conversation moves to another
    /// fit agent (0: never).
    #[arg(long, env = "TANDEM_FIRST_RESPONSE_TIMEOUT_SECS", default_value_t = server::FIRST_RESPONSE_TIMEOUT_SECS)]
    pub first_response_timeout_secs: u64,
    /// Open connections one client address may hold; more are closed at once (a proxy or a
    /// load test shares one address).
    #[arg(long, env = "TANDEM_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = server::connections::PER_ADDRESS)]
    pub max_connections_per_address: usize,
    /// Seconds a new connection may take to send its first request's headers (slow clients).
    #[arg(long, env = "TANDEM_HEADER_TIMEOUT_SECS", default_value_t = server::connections::HEADER_TIMEOUT.as_secs())]
    pub header_timeout_secs: u64,
    /// Erase conversations resolved more than this many days ago, at start and then daily
    /// (customers' names, addresses and texts; analytics keep their counts). Default: off.
    #[arg(long, env = "TANDEM_RETENTION_DAYS", value_name = "DAYS")]
    pub retention_days: Option<u32>,
    /// On an empty database: create the first admin with this e-mail (with `--admin-password`)
    /// instead of the demo accounts.
    #[arg(long, env = "TANDEM_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// The first admin's password (at least 12 characters, not a common one). Prefer the environment variable or
    /// the config file: a flag shows in the process list.
    #[arg(long, env = "TANDEM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// The help center's CAPTCHA signing key (at least 32 characters). Default: one generated
    /// once and stored in the database.
    #[arg(long, env = "TANDEM_CAPTCHA_SECRET", hide_env_values = true)]
    pub captcha_secret: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed for rate limits, comma-separated IP
    /// addresses. Default: none (the peer address counts).
    #[arg(long, env = "TANDEM_TRUSTED_PROXIES", value_name = "IP,IP")]
    pub trusted_proxies: Option<String>,
}

/// `Debug` without secrets: a database URL's password, the first admin's password and the
/// CAPTCHA key are redacted.
impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("ServeArgs")
            .field("config", &self.config)
            .field("encoder", &self.encoder)
            .field("mail", &self.mail)
            .field("playbook", &self.playbook)
            .field("data_dir", &self.data_dir)
            .field("bind", &self.bind)
            .field("demo", &self.demo)
            .field("retention_days", &self.retention_days)
            .field(
                "max_connections_per_address",
                &self.max_connections_per_address,
            )
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_password),
            )
            .field("rate_limits", &self.rate_limits)
            .field("secure_cookies", &self.secure_cookies)
            .field(
                "first_response_timeout_secs",
                &self.first_response_timeout_secs,
            )
            .field("admin_email", &self.admin_email)
            .field("admin_password", &secret(&self.admin_password))
            .field("captcha_secret", &secret(&self.captcha_secret))
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:<redacted>@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// How often queued conversations are routed again, so requirements relax as they wait.
const ROUTING_TICK: std::time::Duration = std::time::Duration::from_secs(5);
/// How often retention (`--retention-days`) runs.
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Opens the store the URL names: SQLite in the data dir by default, `sqlite://PATH`, or
/// `postgres://…` / `postgresql://…`. The scheme alone picks the backend.
pub async fn open_store(
    database_url: Option<&str>,
    data_dir: &std::path::Path,
) -> anyhow::Result<Arc<dyn Store>> {
    let path = match database_url.map(str::trim).filter(|u| !u.is_empty()) {
        None => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
            data_dir.join("tandem.db")
        }
        Some(url) => match url.split_once("://") {
            Some(("sqlite", path)) => PathBuf::from(path),
            Some(("postgres" | "postgresql", _)) => {
                let store = PgStore::connect(url)
                    .await
                    .context("cannot open the PostgreSQL database")?;
                return Ok(Arc::new(store));
            }
            _ => anyhow::bail!(
                "unsupported --database-url {url:?}: expected sqlite://PATH or postgres://…"
            ),
        },
    };
    let store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open database {}", path.display()))?;
    Ok(Arc::new(store))
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TANDEM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn")),
        )
        .init();
    let demo = args.playbook.is_none();
    if demo {
        demo_guard(&args.bind, args.demo)?;
    }
    let (playbook, playbook_file) = match &args.playbook {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read playbook {}", path.display()))?;
            let playbook =
                Playbook::parse(&text).with_context(|| format!("playbook {}", path.display()))?;
            let path = path.display().to_string();
            (playbook, Some(server::teach::PlaybookFile { path, text }))
        }
        None => (Playbook::demo(), None),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let store = open_store(args.database_url.as_deref(), &args.data_dir).await?;
        let (admin_email, admin_password) = (&args.admin_email, &args.admin_password);
        if bootstrap::first_admin(store.as_ref(), admin_email.as_deref(), admin_password.as_deref()).await? {
            println!("Created the first admin: {}", admin_email.as_deref().unwrap_or_default());
        }
        if demo {
            bootstrap::demo_agents(store.as_ref()).await?;
        }
        // The demo logins are printed only when they exist: a first admin from
        // TANDEM_ADMIN_EMAIL on an empty database means no demo agents are created.
        let demo_logins = match bootstrap::DEMO_LOGINS.first() {
            Some(d) if demo => store.agent_credentials(d.email).await?.is_some(),
            _ => false,
        };
        let start = args.encoder.start()?;
        let encoder = start.batcher();
        let app = Application::build(
            Settings { bind: args.bind.clone(), playbook, playbook_file, rate_limits: args.rate_limits, secure_cookies: args.secure_cookies, first_response_timeout_secs: args.first_response_timeout_secs, encoder, help: help_options(&args)?, connections: server::connections::Connections { per_address: args.max_connections_per_address, header_timeout: std::time::Duration::from_secs(args.header_timeout_secs.max(1)) }, mail: args.mail.settings() },
            store,
        )
        .await?;
        start.begin(app.state(), args.encoder.budget())?;
        tokio::spawn(server::flow::tick_every(app.state().clone(), ROUTING_TICK));
        if let Some(days) = args.retention_days {
            tokio::spawn(server::privacy::retention_every(app.state().clone(), days, RETENTION_EVERY));
        }
        let addr = app.local_addr()?;
        let live = app.state().machine.now();
        let (name, intents, version) = (&live.playbook.desk.name, live.playbook.intents.len(), live.version);
        println!("Tandem desk \"{name}\" ({intents} intents) on http://{addr}/");
        println!("  playbook: version {version}, kept in the store (tandem playbook export / import)");
        println!("  widget demo: http://{addr}/   console: http://{addr}/console   admin: http://{addr}/admin");
        if demo_logins {
            println!("  demo logins:");
            for d in bootstrap::DEMO_LOGINS {
                println!("    {:<6} {:<22} password {}", d.role.as_str(), d.email, d.password);
            }
        }
        app.run().await?;
        Ok(())
    })
}

/// The demo desk's accounts have passwords anyone can read (README, the start-up lines): it
/// listens on loopback only, unless `--demo` says the operator means it.
fn demo_guard(bind: &str, demo: bool) -> anyhow::Result<()> {
    let host = bind.rsplit_once(':').map_or(bind, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    anyhow::ensure!(
        loopback || demo,
        "refusing to start the demo desk on {bind}: its accounts have published passwords. \
         Give your own --playbook, bind to 127.0.0.1, or pass --demo true to run the demo there anyway"
    );
    Ok(())
}

/// The help center's options, from the settings (`--captcha-secret`, `--trusted-proxies`, or
/// their file keys and variables): the server reads no environment.
pub fn help_options(args: &ServeArgs) -> anyhow::Result<server::help::HelpOptions> {
    Ok(server::help::HelpOptions {
        captcha_secret: args.captcha_secret.clone(),
        trusted_proxies: match &args.trusted_proxies {
            Some(list) => server::help::parse_proxies(list)?,
            None => Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let cli = Cli::try_parse_from([
            "serve",
            "--admin-password",
            "first-admin-pw",
            "--captcha-secret",
            "captcha-key-1",
            "--database-url",
            "postgres://tandem:db-pw@db/desk",
        ])
        .expect("parses");
        let shown = format!("{:?}", cli.serve);
        for secret in ["first-admin-pw", "captcha-key-1", "db-pw"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn the_demo_listens_on_loopback_unless_told() {
        for bind in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "127.0.0.1:0",
        ] {
            assert!(demo_guard(bind, false).is_ok(), "{bind}");
        }
        for bind in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.0.0.5:80",
            "desk.example.org:8080",
        ] {
            let e = demo_guard(bind, false).expect_err(bind).to_string();
            assert!(e.contains("--demo"), "{e}");
            assert!(demo_guard(bind, true).is_ok(), "{bind}");
        }
    }

    #[test]
    fn debug_shows_no_database_password() {
        assert_eq!(
            redact_password("postgres://tandem:s3cret@db:5432/desk"),
            "postgres://tandem:<redacted>@db:5432/desk"
        );
        assert_eq!(
            redact_password("postgres://tandem@db/desk"),
            "postgres://tandem@db/desk"
        );
        assert_eq!(redact_password("sqlite:///var/t.db"), "sqlite:///var/t.db");
    }
}
