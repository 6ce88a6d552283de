//! `tandem eval` (placeholder, filled in by the machine-tier work).
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EvalArgs {
    #[arg(long, env = "TANDEM_PLAYBOOK")]
    pub playbook: PathBuf,
}

pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
