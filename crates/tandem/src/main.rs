//! The `tandem` binary: parses the command line and hands off to the command modules.

mod commands;

use clap::{Parser, Subcommand};

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
    Serve(commands::serve::ServeArgs),
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => commands::serve::run(args),
        Command::Triage(args) => commands::triage::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::MigrateStore(args) => commands::migrate_store::run(args),
        Command::Model(args) => commands::model::run(args),
    }
}
