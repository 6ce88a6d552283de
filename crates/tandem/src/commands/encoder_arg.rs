//! `--encoder DIR` (or `TANDEM_ENCODER`) on `serve`, `triage` and `eval`: the optional
//! multilingual sentence encoder as the machine tier's second stage.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use nlu::embedding::Embedder;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct EncoderArgs {
    /// A model directory made by `tandem model fetch`. Adds the multilingual sentence encoder
    /// (multilingual-e5-small) as the machine tier's second stage; without it Tandem stays as
    /// light as before.
    #[arg(long, env = "TANDEM_ENCODER", value_name = "DIR")]
    pub encoder: Option<PathBuf>,
}

impl EncoderArgs {
    /// Load the encoder once (shared by every request), reporting on stderr.
    pub fn load(&self) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
        let Some(dir) = &self.encoder else {
            return Ok(None);
        };
        let started = Instant::now();
        let encoder = encoder::Encoder::load(dir).with_context(|| {
            format!(
                "cannot load the sentence encoder from {} (run `tandem model fetch --dir {}` first)",
                dir.display(),
                dir.display()
            )
        })?;
        eprintln!(
            "sentence encoder loaded from {} in {} ms",
            dir.display(),
            started.elapsed().as_millis()
        );
        Ok(Some(Arc::new(encoder)))
    }

    /// As [`EncoderArgs::load`], for a server: concurrent requests' texts share forward passes
    /// ([`nlu::batcher::Batcher`]).
    pub fn load_batched(&self) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
        let Some(encoder) = self.load()? else {
            return Ok(None);
        };
        let batcher = nlu::batcher::Batcher::new(encoder)
            .context("cannot start the sentence encoder's worker thread")?;
        Ok(Some(Arc::new(batcher)))
    }
}

/// A progress printer for embedding the playbook: a line at every tenth, on stderr.
pub fn progress(what: &'static str) -> impl FnMut(usize, usize) {
    let mut last_tenth = 0usize;
    let started = Instant::now();
    move |done, total| {
        let tenth = (done * 10).checked_div(total).unwrap_or(10);
        if tenth > last_tenth || done == total {
            last_tenth = tenth;
            eprintln!(
                "{what}: {done}/{total} embedded ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
}
