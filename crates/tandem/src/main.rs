//! The `tandem` binary: parses the command line and hands off to the command modules.

mod commands;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tandem",
    version,
    about = "A self-hosted sales and service desk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the desk: API, live events, widget, console and admin.
    Serve(Box<commands::serve::ServeArgs>),
    /// Decide answer / clarify / handoff for each text.
    Triage(commands::triage::TriageArgs),
    /// Train on a playbook, decide every case, print the metrics.
    Eval(commands::eval::EvalArgs),
    /// Measure the desk: message round trips per second and latency.
    Bench(commands::bench::BenchArgs),
    /// Copy a SQLite desk into an empty PostgreSQL database (to run several nodes).
    MigrateStore(commands::migrate_store::MigrateStoreArgs),
    /// The optional multilingual encoder's model: `tandem model fetch`.
    Model(commands::model::ModelArgs),
    /// The playbook kept in the store: `tandem playbook export|import|versions`.
    Playbook(commands::playbook::PlaybookArgs),
}

fn main() -> anyhow::Result<()> {
    // `tandem serve --config FILE`: the file's values become the defaults, under the
    // environment and the flags (commands::config).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cmd = commands::config::with_file(
        Cli::command(),
        &args,
        std::env::var_os(commands::config::ENV),
    )?;
    let cli = Cli::from_arg_matches(&cmd.get_matches_from(&args)).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Serve(args) => commands::serve::run(*args),
        Command::Triage(args) => commands::triage::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::MigrateStore(args) => commands::migrate_store::run(args),
        Command::Model(args) => commands::model::run(args),
        Command::Playbook(args) => commands::playbook::run(args),
    }
}
