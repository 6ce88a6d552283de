//! The forward pass: candle's stock BERT encoder (`candle_transformers::models::bert::
//! BertEncoder`) behind embeddings computed here, because the word-embedding table stays in
//! Q4_0 and only the rows of a batch's tokens are decoded. Then the masked mean over the tokens
//! and L2 normalisation. All in f32 on the CPU (f16 gives NaN there).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{LayerNorm, Module, VarBuilder};
use candle_transformers::models::bert::{BertEncoder, Config, HiddenAct};

use crate::manifest;
use crate::q4::Q4Table;
use crate::weights::{Dtype, WeightsFile};
use crate::EncoderError;

/// The word-embedding tensor in `word_embeddings.safetensors`.
pub const WORDS_TENSOR: &str = "embeddings.word_embeddings.q4_0";

/// multilingual-e5-small, loaded.
pub struct Bert {
    words: Q4Table,
    /// Position embeddings `[positions, hidden]`.
    positions: Tensor,
    /// The embedding of token type 0 (every token here), `[hidden]`.
    token_type: Tensor,
    layer_norm: LayerNorm,
    encoder: BertEncoder,
    hidden: usize,
    max_positions: usize,
    device: Device,
}

fn corrupt(file: &str, reason: impl Into<String>) -> EncoderError {
    EncoderError::Corrupt {
        file: file.into(),
        reason: reason.into(),
    }
}

impl Bert {
    pub fn load(dir: &Path, config: &Config) -> Result<Self, EncoderError> {
        if config.hidden_act != HiddenAct::Gelu {
            return Err(corrupt(
                manifest::CONFIG_FILE,
                "hidden_act must be \"gelu\" (erf)",
            ));
        }
        let device = Device::Cpu;
        let h = config.hidden_size;

        let mut file = WeightsFile::open(&dir.join(manifest::MODEL_FILE))
            .map_err(|e| corrupt(manifest::MODEL_FILE, e))?;
        let names: Vec<String> = file.tensors.keys().cloned().collect();
        let mut tensors = HashMap::with_capacity(names.len());
        for name in names {
            let (info, bytes) = file
                .read_bytes(&name)
                .map_err(|e| corrupt(manifest::MODEL_FILE, e))?;
            if info.dtype != Dtype::F32 {
                return Err(corrupt(manifest::MODEL_FILE, format!("{name} is not F32")));
            }
            let values = crate::bytes::f32s_from_le(&bytes);
            drop(bytes);
            let t = Tensor::from_vec(values, info.shape.as_slice(), &device)?;
            tensors.insert(name, t);
        }
        drop(file);
        let mut take = |name: &str, shape: &[usize]| -> Result<Tensor, EncoderError> {
            let t = tensors
                .remove(name)
                .ok_or_else(|| corrupt(manifest::MODEL_FILE, format!("{name} is missing")))?;
            if t.dims() != shape {
                return Err(corrupt(
                    manifest::MODEL_FILE,
                    format!("{name}: shape {:?}, expected {shape:?}", t.dims()),
                ));
            }
            Ok(t)
        };
        let positions = take(
            "embeddings.position_embeddings.weight",
            &[config.max_position_embeddings, h],
        )?;
        let token_type = take(
            "embeddings.token_type_embeddings.weight",
            &[config.type_vocab_size, h],
        )?
        .get(0)?;
        let layer_norm = LayerNorm::new(
            take("embeddings.LayerNorm.weight", &[h])?,
            take("embeddings.LayerNorm.bias", &[h])?,
            config.layer_norm_eps,
        );
        // The rest is the stock encoder's, under its Hugging Face names.
        let encoder = BertEncoder::load(
            VarBuilder::from_tensors(tensors, DType::F32, &device).pp("encoder"),
            config,
        )
        .map_err(|e| corrupt(manifest::MODEL_FILE, e.to_string()))?;

        let mut words_file = WeightsFile::open(&dir.join(manifest::WORDS_FILE))
            .map_err(|e| corrupt(manifest::WORDS_FILE, e))?;
        let (info, bytes) = words_file
            .read_bytes(WORDS_TENSOR)
            .map_err(|e| corrupt(manifest::WORDS_FILE, e))?;
        if info.dtype != Dtype::U8
            || info.shape.first() != Some(&config.vocab_size)
            || info.shape.get(1).copied() != crate::q4::bytes_for(h)
        {
            return Err(corrupt(
                manifest::WORDS_FILE,
                format!("{WORDS_TENSOR}: {:?} {:?}", info.dtype, info.shape),
            ));
        }
        let words = Q4Table::new(config.vocab_size, h, bytes)
            .map_err(|e| corrupt(manifest::WORDS_FILE, e))?;

        Ok(Bert {
            words,
            positions,
            token_type,
            layer_norm,
            encoder,
            hidden: h,
            max_positions: config.max_position_embeddings,
            device,
        })
    }

    pub fn hidden(&self) -> usize {
        self.hidden
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// Mean-pooled, L2-normalised embeddings of a batch of token-id sequences (each at most
    /// `max_positions` long, `<s>`/`</s>` included), padded with `pad` to the longest.
    pub fn embed(&self, batch: &[Vec<u32>], pad: u32) -> Result<Vec<Vec<f32>>, EncoderError> {
        let b = batch.len();
        let s = batch.iter().map(Vec::len).max().unwrap_or(0);
        if b == 0 || s == 0 {
            return Ok(vec![Vec::new(); b]);
        }
        if s > self.max_positions {
            return Err(EncoderError::Model(format!(
                "{s} tokens, at most {} fit",
                self.max_positions
            )));
        }
        let h = self.hidden;
        let mut words = vec![0f32; b * s * h];
        let mut mask = vec![0f32; b * s];
        for (i, ids) in batch.iter().enumerate() {
            for t in 0..s {
                let id = ids.get(t).copied();
                let row = &mut words[(i * s + t) * h..(i * s + t + 1) * h];
                self.words
                    .row_into(id.unwrap_or(pad) as usize, row)
                    .ok_or_else(|| EncoderError::Model(format!("token id {id:?} out of range")))?;
                mask[i * s + t] = if id.is_some() { 1.0 } else { 0.0 };
            }
        }
        let words = Tensor::from_vec(words, (b, s, h), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, s), &self.device)?;

        // word + position (0, 1, …) + token type 0, then LayerNorm: BertEmbeddings' recipe.
        let x = words
            .broadcast_add(&self.positions.narrow(0, 0, s)?)?
            .broadcast_add(&self.token_type)?;
        let x = self.layer_norm.forward(&x)?;

        // Padding gets a large negative score before the softmax: (1 − mask) · f32::MIN,
        // shaped [b, 1, 1, s] (what BertModel's extended attention mask is).
        let attention = ((1.0 - &mask)? * f64::from(f32::MIN))?
            .unsqueeze(1)?
            .unsqueeze(1)?;
        let hidden = self.encoder.forward(&x, &attention)?;

        let mask3 = mask.unsqueeze(D::Minus1)?;
        let summed = hidden.broadcast_mul(&mask3)?.sum(1)?;
        let counts = mask.sum_keepdim(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12)?;
        Ok(mean.broadcast_div(&norm)?.to_vec2::<f32>()?)
    }
}
