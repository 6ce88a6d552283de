//! `tandem triage` (placeholder, filled in by the machine-tier work).
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct TriageArgs {
    #[arg(long, env = "TANDEM_PLAYBOOK")]
    pub playbook: PathBuf,
}

pub fn run(_args: TriageArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
