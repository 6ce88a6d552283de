//! `--encoder auto|off|DIR` (or `TANDEM_ENCODER`): the optional multilingual sentence encoder as
//! the machine tier's second stage. `serve` runs it by default (see `serve_encoder`); `triage`
//! and `eval` only when asked.
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use nlu::embedding::Embedder;

/// What `--encoder` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncoderChoice {
    /// The model in the default directory (`encoder::default_model_dir`).
    Auto,
    /// No encoder: the fast path alone.
    Off,
    /// A model directory made by `tandem model fetch` (write `./auto` or `./off` for a
    /// directory of that name).
    Dir(PathBuf),
}

impl FromStr for EncoderChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" => Err("expected auto, off or a model directory".into()),
            "auto" => Ok(EncoderChoice::Auto),
            "off" => Ok(EncoderChoice::Off),
            _ => Ok(EncoderChoice::Dir(PathBuf::from(s))),
        }
    }
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct EncoderArgs {
    /// The multilingual sentence encoder (multilingual-e5-small) as the machine tier's second
    /// stage: a model directory made by `tandem model fetch`, `auto` (the default directory's
    /// model, if there is one) or `off` (the default here: the fast path alone).
    #[arg(long, env = "TANDEM_ENCODER", value_name = "auto|off|DIR")]
    pub encoder: Option<EncoderChoice>,
}

impl EncoderArgs {
    /// Load the encoder once (shared by every request), reporting on stderr.
    pub fn load(&self) -> anyhow::Result<Option<Arc<dyn Embedder>>> {
        let dir = match &self.encoder {
            None | Some(EncoderChoice::Off) => return Ok(None),
            Some(EncoderChoice::Dir(dir)) => dir.clone(),
            Some(EncoderChoice::Auto) => {
                let dir = encoder::default_model_dir();
                if !installed(&dir) {
                    eprintln!(
                        "no encoder model in {} (`tandem model fetch` puts it there): the fast path alone",
                        dir.display()
                    );
                    return Ok(None);
                }
                dir
            }
        };
        let started = Instant::now();
        let encoder = load_model(&dir)?;
        eprintln!(
            "sentence encoder loaded from {} in {} ms",
            dir.display(),
            started.elapsed().as_millis()
        );
        Ok(Some(Arc::new(encoder)))
    }
}

/// Whether `dir` looks like a model directory (its manifest is there); loading checks the rest.
pub fn installed(dir: &Path) -> bool {
    dir.join(encoder::manifest::MANIFEST_FILE).is_file()
}

/// The model in `dir`, with an error that says how to get one.
pub fn load_model(dir: &Path) -> anyhow::Result<encoder::Encoder> {
    encoder::Encoder::load(dir).with_context(|| {
        format!(
            "cannot load the sentence encoder from {} (run `tandem model fetch --dir {}` first)",
            dir.display(),
            dir.display()
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_off_or_a_directory() {
        assert_eq!("auto".parse(), Ok(EncoderChoice::Auto));
        assert_eq!("off".parse(), Ok(EncoderChoice::Off));
        assert_eq!(
            "./auto".parse(),
            Ok(EncoderChoice::Dir(PathBuf::from("./auto")))
        );
        assert_eq!(
            "/srv/e5".parse(),
            Ok(EncoderChoice::Dir(PathBuf::from("/srv/e5")))
        );
        assert!("".parse::<EncoderChoice>().is_err());
    }
}
