//! Q4_0 weights (ggml's layout): blocks of 32 weights, each an f16 scale `d` and 16 bytes; byte
//! `j` holds weight `j` in its low nibble and weight `j + 16` in its high nibble, and a weight is
//! `(q − 8) · d`. The word-embedding table stays in this form in memory (54 MB instead of 384 MB
//! of f32); the rows a batch needs are decoded when it runs.

use half::f16;

/// Weights per block.
pub const BLOCK_WEIGHTS: usize = 32;
/// Bytes per block: the f16 scale and 16 bytes of nibbles.
pub const BLOCK_BYTES: usize = 18;

/// Bytes of `n` weights (`n` a multiple of 32).
pub fn bytes_for(n: usize) -> Option<usize> {
    n.is_multiple_of(BLOCK_WEIGHTS)
        .then(|| n / BLOCK_WEIGHTS * BLOCK_BYTES)
}

/// Decodes one block into 32 weights.
pub fn dequantize_block(block: &[u8; BLOCK_BYTES], out: &mut [f32; BLOCK_WEIGHTS]) {
    let d = f16::from_bits(u16::from_le_bytes([block[0], block[1]])).to_f32();
    for (j, &byte) in block[2..].iter().enumerate() {
        out[j] = (f32::from(byte & 0x0f) - 8.0) * d;
        out[j + 16] = (f32::from(byte >> 4) - 8.0) * d;
    }
}

/// Decodes whole blocks: `out.len()` weights from `bytes_for(out.len())` bytes. Extra input or
/// output beyond whole blocks is left alone.
pub fn dequantize(bytes: &[u8], out: &mut [f32]) {
    for (block, out) in bytes
        .chunks_exact(BLOCK_BYTES)
        .zip(out.chunks_exact_mut(BLOCK_WEIGHTS))
    {
        let mut weights = [0f32; BLOCK_WEIGHTS];
        let mut raw = [0u8; BLOCK_BYTES];
        raw.copy_from_slice(block);
        dequantize_block(&raw, &mut weights);
        out.copy_from_slice(&weights);
    }
}

/// A Q4_0 matrix kept quantised, read one row at a time: the word embeddings.
pub struct Q4Table {
    rows: usize,
    cols: usize,
    row_bytes: usize,
    data: Vec<u8>,
}

impl Q4Table {
    /// `data` holds `rows` rows of `cols` weights each (`cols` a multiple of 32).
    pub fn new(rows: usize, cols: usize, data: Vec<u8>) -> Result<Self, String> {
        let row_bytes =
            bytes_for(cols).ok_or_else(|| format!("{cols} columns: not whole Q4_0 blocks"))?;
        if rows.checked_mul(row_bytes) != Some(data.len()) {
            return Err(format!(
                "{rows}×{cols} Q4_0 needs {} bytes, got {}",
                rows.saturating_mul(row_bytes),
                data.len()
            ));
        }
        Ok(Q4Table {
            rows,
            cols,
            row_bytes,
            data,
        })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Decodes row `row` into `out` (`cols` long). `None` when the row does not exist.
    pub fn row_into(&self, row: usize, out: &mut [f32]) -> Option<()> {
        if row >= self.rows || out.len() != self.cols {
            return None;
        }
        let start = row * self.row_bytes;
        dequantize(&self.data[start..start + self.row_bytes], out);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(d: f32, nibbles: &[u8; 32]) -> [u8; BLOCK_BYTES] {
        let mut b = [0u8; BLOCK_BYTES];
        b[..2].copy_from_slice(&f16::from_f32(d).to_bits().to_le_bytes());
        for j in 0..16 {
            b[2 + j] = nibbles[j] | (nibbles[j + 16] << 4);
        }
        b
    }

    #[test]
    fn a_block_decodes_low_nibbles_first_then_high_nibbles() {
        let nibbles: [u8; 32] = std::array::from_fn(|i| (i % 16) as u8);
        let mut out = [0f32; 32];
        dequantize_block(&block(0.5, &nibbles), &mut out);
        for (i, w) in out.iter().enumerate() {
            assert_eq!(*w, ((i % 16) as f32 - 8.0) * 0.5, "weight {i}");
        }
    }

    #[test]
    fn byte_j_carries_weights_j_and_j_plus_16() {
        let mut b = [0u8; BLOCK_BYTES];
        b[..2].copy_from_slice(&f16::from_f32(2.0).to_bits().to_le_bytes());
        b[2 + 3] = 0xA1; // weight 3 = 1, weight 19 = 10
        let mut out = [0f32; 32];
        dequantize_block(&b, &mut out);
        assert_eq!(out[3], (1.0 - 8.0) * 2.0);
        assert_eq!(out[19], (10.0 - 8.0) * 2.0);
        assert_eq!(out[0], -16.0, "a zero nibble is −8·d");
    }

    #[test]
    fn a_table_decodes_the_row_asked_for() {
        let row0 = block(1.0, &[8; 32]);
        let row1 = block(0.25, &[12; 32]);
        let data = [row0, row1].concat();
        let table = Q4Table::new(2, 32, data).expect("table");
        let mut out = vec![0f32; 32];
        table.row_into(1, &mut out).expect("row 1");
        assert!(out.iter().all(|&w| w == 1.0));
        table.row_into(0, &mut out).expect("row 0");
        assert!(out.iter().all(|&w| w == 0.0));
        assert!(table.row_into(2, &mut out).is_none());
    }

    #[test]
    fn a_table_of_the_wrong_size_is_refused() {
        assert!(Q4Table::new(2, 32, vec![0; 35]).is_err());
        assert!(Q4Table::new(1, 30, vec![0; 18]).is_err());
    }
}
