//! A bounds-checked little-endian reader over a byte slice: every read of the model files goes
//! through it, so a truncated or corrupt file is an error, never a panic.

/// Reads little-endian values from a byte slice; every read checks the bounds.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

/// A read past the end, or a value out of its range.
#[derive(Debug)]
pub(crate) struct Truncated(pub String);

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Truncated> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| {
                Truncated(format!(
                    "{what}: needs {n} bytes at offset {}, the file has {}",
                    self.pos,
                    self.data.len()
                ))
            })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Truncated> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, Truncated> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, Truncated> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, Truncated> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, Truncated> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn f32(&mut self, what: &str) -> Result<f32, Truncated> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    /// A count or size stored as a signed 32-bit integer: must not be negative.
    pub(crate) fn count(&mut self, what: &str) -> Result<usize, Truncated> {
        let v = i32::from_le_bytes(self.array(what)?);
        usize::try_from(v).map_err(|_| Truncated(format!("{what}: negative ({v})")))
    }

    pub(crate) fn u32s(&mut self, n: usize, what: &str) -> Result<Vec<u32>, Truncated> {
        let bytes = self.take(n.saturating_mul(4), what)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub(crate) fn f32s(&mut self, n: usize, what: &str) -> Result<Vec<f32>, Truncated> {
        let bytes = self.take(n.saturating_mul(4), what)?;
        Ok(f32s_from_le(bytes))
    }
}

/// Little-endian f32s from bytes (a multiple of 4 long; a tail is ignored).
pub(crate) fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Little-endian bytes of f32s.
pub(crate) fn f32s_to_le(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
