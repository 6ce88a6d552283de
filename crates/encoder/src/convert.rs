//! E5S1 → a model directory:
//!
//! | file | what |
//! |---|---|
//! | `model.safetensors` | every weight but the word embeddings, f32, with Hugging Face BERT names (`embeddings.position_embeddings.weight`, `encoder.layer.{i}.attention.self.query.weight`, …); the Q4_0 linears are dequantised here, once |
//! | `word_embeddings.safetensors` | the word embeddings kept in Q4_0: one `U8` tensor `embeddings.word_embeddings.q4_0` of 250,037 rows × 216 bytes (12 blocks of 18) |
//! | `tokenizer.bin` | the vocabulary, scores and normalisation map (`TTK1` + the E5S1 layout) |
//! | `config.json` | a Hugging Face BERT config (read by candle's `bert::Config`) |
//! | `manifest.json` | the source's sha256s, the converter, every file's size and sha256; written last |

use std::collections::BTreeMap;
use std::path::Path;

use crate::manifest::{self, FileRecord, Manifest};
use crate::q4file::{E5File, Kind};
use crate::weights::{self, Dtype, TensorOut};
use crate::EncoderError;

/// The E5S1 names of one layer's tensors and their Hugging Face names under
/// `encoder.layer.{i}.`.
const LAYER_TENSORS: &[(&str, &str)] = &[
    ("q", "attention.self.query"),
    ("k", "attention.self.key"),
    ("v", "attention.self.value"),
    ("ao", "attention.output.dense"),
    ("aln", "attention.output.LayerNorm"),
    ("fi", "intermediate.dense"),
    ("fo", "output.dense"),
    ("oln", "output.LayerNorm"),
];

fn corrupt(reason: impl Into<String>) -> EncoderError {
    EncoderError::Corrupt {
        file: manifest::MODEL_PATH_IN_WHEEL.into(),
        reason: reason.into(),
    }
}

fn f32_tensor(name: String, shape: Vec<usize>, values: &[f32]) -> TensorOut {
    TensorOut {
        name,
        dtype: Dtype::F32,
        shape,
        data: crate::bytes::f32s_to_le(values),
    }
}

/// Converts the E5S1 bytes (which must have the pinned sha256) into `out`, an existing empty
/// directory, and returns the manifest it wrote. `wheel_sha256` is recorded as the source.
pub fn convert(model: &[u8], wheel_sha256: &str, out: &Path) -> Result<Manifest, EncoderError> {
    let got = manifest::sha256_hex(model);
    if got != manifest::MODEL_SHA256 {
        return Err(EncoderError::WrongSha256 {
            what: manifest::MODEL_PATH_IN_WHEEL.into(),
            expected: manifest::MODEL_SHA256.into(),
            found: got,
        });
    }
    convert_unchecked(model, wheel_sha256, out)
}

/// [`convert`] without the sha256 check (for toy files in tests).
pub(crate) fn convert_unchecked(
    model: &[u8],
    wheel_sha256: &str,
    out: &Path,
) -> Result<Manifest, EncoderError> {
    let file = E5File::parse(model).map_err(corrupt)?;
    let s = &file.shape;
    let (h, ff) = (s.hidden, s.feed_forward);

    // Everything but the word embeddings, in f32.
    let mut tensors = vec![
        f32_tensor(
            "embeddings.position_embeddings.weight".into(),
            vec![s.positions, h],
            &file.f32s("emb.pos", s.positions * h).map_err(corrupt)?,
        ),
        f32_tensor(
            "embeddings.token_type_embeddings.weight".into(),
            vec![s.token_types, h],
            &file.f32s("emb.type", s.token_types * h).map_err(corrupt)?,
        ),
        f32_tensor(
            "embeddings.LayerNorm.weight".into(),
            vec![h],
            &file.f32s("emb.ln.w", h).map_err(corrupt)?,
        ),
        f32_tensor(
            "embeddings.LayerNorm.bias".into(),
            vec![h],
            &file.f32s("emb.ln.b", h).map_err(corrupt)?,
        ),
    ];
    for layer in 0..s.layers {
        for &(short, long) in LAYER_TENSORS {
            // Linear weights are stored [out, in], as candle's Linear wants them.
            let (weight_shape, bias_len) = match short {
                "fi" => (vec![ff, h], ff),
                "fo" => (vec![h, ff], h),
                "aln" | "oln" => (vec![h], h),
                _ => (vec![h, h], h),
            };
            let elements = weight_shape.iter().product();
            let prefix = format!("encoder.layer.{layer}.{long}");
            let w = file
                .f32s(&format!("l{layer}.{short}.w"), elements)
                .map_err(corrupt)?;
            let b = file
                .f32s(&format!("l{layer}.{short}.b"), bias_len)
                .map_err(corrupt)?;
            tensors.push(f32_tensor(format!("{prefix}.weight"), weight_shape, &w));
            tensors.push(f32_tensor(format!("{prefix}.bias"), vec![bias_len], &b));
        }
    }
    let expected_entries = 5 + s.layers * LAYER_TENSORS.len() * 2;
    if file.tensors.len() != expected_entries {
        return Err(corrupt(format!(
            "{} tensors, expected {expected_entries}",
            file.tensors.len()
        )));
    }
    let meta = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        (
            "source".to_string(),
            format!("{} {}", manifest::PACKAGE, manifest::MODEL_PATH_IN_WHEEL),
        ),
        (
            "note".to_string(),
            "embeddings.word_embeddings.weight is in word_embeddings.safetensors (Q4_0)".into(),
        ),
    ]);
    weights::write(&out.join(manifest::MODEL_FILE), &tensors, &meta)?;
    drop(tensors);

    // The word embeddings, still Q4_0.
    let words = file
        .raw("emb.word", Kind::Q4_0, s.vocabulary * h)
        .map_err(corrupt)?;
    let row_bytes = crate::q4::bytes_for(h).ok_or_else(|| corrupt("hidden size"))?;
    let meta = BTreeMap::from([
        ("quantisation".to_string(), "q4_0".to_string()),
        ("rows".to_string(), s.vocabulary.to_string()),
        ("cols".to_string(), h.to_string()),
        (
            "layout".to_string(),
            "per row, blocks of 32 weights: f16 scale d (LE), 16 bytes; byte j = weight j \
             (low nibble) and weight j+16 (high nibble); weight = (q - 8) * d"
                .to_string(),
        ),
    ]);
    weights::write(
        &out.join(manifest::WORDS_FILE),
        &[TensorOut {
            name: crate::model::WORDS_TENSOR.into(),
            dtype: Dtype::U8,
            shape: vec![s.vocabulary, row_bytes],
            data: words.to_vec(),
        }],
        &meta,
    )?;

    std::fs::write(
        out.join(manifest::TOKENIZER_FILE),
        file.tokenizer.to_file_bytes(),
    )?;

    let config = serde_json::json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": s.vocabulary,
        "hidden_size": h,
        "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads,
        "intermediate_size": ff,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": s.positions,
        "type_vocab_size": s.token_types,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": file.tokenizer.pad,
        "bos_token_id": file.tokenizer.bos,
        "eos_token_id": file.tokenizer.eos,
        "position_embedding_type": "absolute",
        "classifier_dropout": null,
    });
    let mut config = serde_json::to_vec_pretty(&config).map_err(std::io::Error::other)?;
    config.push(b'\n');
    std::fs::write(out.join(manifest::CONFIG_FILE), config)?;

    let mut files = BTreeMap::new();
    for name in [
        manifest::MODEL_FILE,
        manifest::WORDS_FILE,
        manifest::TOKENIZER_FILE,
        manifest::CONFIG_FILE,
    ] {
        let path = out.join(name);
        files.insert(
            name.to_string(),
            FileRecord {
                bytes: std::fs::metadata(&path)?.len(),
                sha256: manifest::sha256_file(&path)?,
            },
        );
    }
    let manifest = Manifest {
        format: manifest::FORMAT.into(),
        format_version: manifest::FORMAT_VERSION,
        converter: manifest::CONVERTER.into(),
        model: "intfloat/multilingual-e5-small (word embeddings and linears Q4_0 in the source; \
                linears dequantised to f32 here)"
            .into(),
        source: manifest::Source {
            wheel_sha256: wheel_sha256.into(),
            ..Manifest::expected_source()
        },
        files,
    };
    let mut text = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    text.push(b'\n');
    let path = out.join(manifest::MANIFEST_FILE);
    std::fs::write(&path, text)?;
    std::fs::File::open(&path)?.sync_all()?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::TokenizerParts;
    use crate::Encoder;

    /// A tiny E5S1 file (hidden 32, one layer, two heads) with pseudo-random weights.
    fn toy_file() -> Vec<u8> {
        let (h, ff, vocab, positions, types) = (32usize, 64usize, 12usize, 16usize, 2usize);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut q4 = |n: usize| -> Vec<u8> {
            let mut out = Vec::new();
            for _ in 0..n / 32 {
                out.extend_from_slice(&half::f16::from_f32(0.05).to_bits().to_le_bytes());
                out.extend((0..16).map(|_| (next() & 0xff) as u8));
            }
            out
        };
        let f32s = |v: Vec<f32>| crate::bytes::f32s_to_le(&v);
        let mut tensors: Vec<(String, u8, usize, Vec<u8>)> = vec![
            ("emb.word".into(), 1, vocab * h, q4(vocab * h)),
            (
                "emb.pos".into(),
                0,
                positions * h,
                f32s((0..positions * h).map(|i| (i % 7) as f32 * 0.01).collect()),
            ),
            ("emb.type".into(), 0, types * h, f32s(vec![0.01; types * h])),
            ("emb.ln.w".into(), 0, h, f32s(vec![1.0; h])),
            ("emb.ln.b".into(), 0, h, f32s(vec![0.0; h])),
        ];
        for (short, rows, cols) in [
            ("q", h, h),
            ("k", h, h),
            ("v", h, h),
            ("ao", h, h),
            ("aln", h, 0),
            ("fi", ff, h),
            ("fo", h, ff),
            ("oln", h, 0),
        ] {
            if cols == 0 {
                tensors.push((format!("l0.{short}.w"), 0, h, f32s(vec![1.0; h])));
            } else {
                tensors.push((format!("l0.{short}.w"), 1, rows * cols, q4(rows * cols)));
            }
            tensors.push((format!("l0.{short}.b"), 0, rows, f32s(vec![0.01; rows])));
        }

        let mut out = b"E5S1".to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        for v in [h, 1, 2, ff, vocab, positions, types] {
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        out.extend_from_slice(&1e-12f32.to_le_bytes());
        out.extend_from_slice(&32i32.to_le_bytes());
        let pieces = [
            "<s>", "<pad>", "</s>", "<unk>", "▁", "▁query", ":", "▁a", "▁b", "a", "b",
        ];
        let mut offsets = vec![0u32];
        let mut blob = Vec::new();
        for p in pieces {
            blob.extend_from_slice(p.as_bytes());
            offsets.push(blob.len() as u32);
        }
        TokenizerParts {
            bos: 0,
            eos: 2,
            pad: 1,
            unk: 3,
            offsets,
            scores: pieces.iter().map(|p| -(p.len() as f32)).collect(),
            blob,
            normalisation: vec![(0x09, vec![0x20])],
        }
        .write_body(&mut out);
        let dir_len: usize = 4 + tensors
            .iter()
            .map(|t| 2 + t.0.len() + 1 + 4 + 16)
            .sum::<usize>();
        let mut offset = out.len() + dir_len;
        out.extend_from_slice(&(tensors.len() as i32).to_le_bytes());
        for (name, kind, n, data) in &tensors {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(*kind);
            out.extend_from_slice(&(*n as u32).to_le_bytes());
            out.extend_from_slice(&(offset as u64).to_le_bytes());
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            offset += data.len();
        }
        for (_, _, _, data) in &tensors {
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn a_toy_model_converts_loads_and_embeds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = toy_file();
        let parsed = E5File::parse(&file).expect("toy file parses");
        assert_eq!(parsed.tensors.len(), 21);
        let manifest = convert_unchecked(&file, "wheel-sha", dir.path()).expect("convert");
        assert_eq!(manifest.source.wheel_sha256, "wheel-sha");
        assert_eq!(manifest.files.len(), 4);

        let enc = Encoder::load(dir.path()).expect("load");
        assert_eq!(enc.dim(), 32);
        assert_eq!(enc.token_ids("a\tb"), vec![0, 5, 6, 7, 8, 2]);
        let batch = enc.embed(&["a b a b a", "b", "a"]).expect("embed");
        for v in &batch {
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
        }
        // Padding must not change a text's vector: alone it has no padding at all.
        for (text, batched) in ["a b a b a", "b", "a"].iter().zip(&batch) {
            let alone = enc.embed(&[text]).expect("embed alone");
            let diff = alone[0]
                .iter()
                .zip(batched)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(diff < 1e-5, "{text:?}: batched and alone differ by {diff}");
        }
        assert_ne!(batch[1], batch[2]);
    }

    #[test]
    fn a_toy_file_with_a_tensor_outside_the_file_is_refused() {
        let mut file = toy_file();
        file.truncate(file.len() - 10);
        let err = E5File::parse(&file).err().unwrap_or_default();
        assert!(err.contains("outside"), "{err}");
    }
}
