//! The weight files of a model directory, in the safetensors format (an 8-byte header length, a
//! JSON header, then the raw little-endian data). Written and read here, tensor by tensor, so
//! loading never holds a second copy of the whole file: that keeps the peak memory of a load
//! close to what the encoder keeps, without mmap (which would need `unsafe`).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::Deserialize;

/// Element types this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    U8,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::U8 => "U8",
        }
    }
    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::U8 => 1,
        }
    }
}

/// A tensor to write.
pub struct TensorOut {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// Writes a safetensors file (tensors in the given order, `metadata` as `__metadata__`).
pub fn write(
    path: &Path,
    tensors: &[TensorOut],
    metadata: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), serde_json::json!(metadata));
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + t.data.len();
        header.insert(
            t.name.clone(),
            serde_json::json!({"dtype": t.dtype.name(), "shape": t.shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut json = serde_json::to_vec(&header)?;
    // The data starts 8-byte aligned, padded with spaces as the format allows.
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut w = BufWriter::new(File::create(path)?);
    w.write_all(&(json.len() as u64).to_le_bytes())?;
    w.write_all(&json)?;
    for t in tensors {
        w.write_all(&t.data)?;
    }
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()
}

#[derive(Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// A tensor's place in a file being read.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    start: usize,
    len: usize,
}

/// An open safetensors file: the header is parsed, the data is read on demand.
pub struct WeightsFile {
    reader: BufReader<File>,
    data_start: u64,
    pub tensors: BTreeMap<String, TensorInfo>,
    pub metadata: HashMap<String, String>,
}

impl WeightsFile {
    /// Opens the file and checks the header: known types, every tensor's bytes inside the
    /// file and matching its shape.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let file_len = file.metadata().map_err(|e| e.to_string())?.len();
        let mut reader = BufReader::new(file);
        let mut len = [0u8; 8];
        reader
            .read_exact(&mut len)
            .map_err(|_| "too short for a safetensors header".to_string())?;
        let header_len = u64::from_le_bytes(len);
        if header_len > 16 << 20 || 8 + header_len > file_len {
            return Err(format!("header length {header_len} is implausible"));
        }
        let mut json = vec![0u8; header_len as usize];
        reader
            .read_exact(&mut json)
            .map_err(|e| format!("header: {e}"))?;
        let mut raw: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&json).map_err(|e| format!("header: {e}"))?;
        let metadata = match raw.remove("__metadata__") {
            Some(m) => serde_json::from_value(m).map_err(|e| format!("metadata: {e}"))?,
            None => HashMap::new(),
        };
        let data_start = 8 + header_len;
        let data_len = (file_len - data_start) as usize;
        let mut tensors = BTreeMap::new();
        for (name, value) in raw {
            let e: HeaderEntry =
                serde_json::from_value(value).map_err(|err| format!("{name}: {err}"))?;
            let dtype = match e.dtype.as_str() {
                "F32" => Dtype::F32,
                "U8" => Dtype::U8,
                other => return Err(format!("{name}: unsupported dtype {other}")),
            };
            let [start, end] = e.data_offsets;
            let elements = e
                .shape
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d));
            if start > end
                || end > data_len
                || elements.and_then(|n| n.checked_mul(dtype.size())) != Some(end - start)
            {
                return Err(format!(
                    "{name}: bytes {start}..{end} do not fit its shape {:?} or the file",
                    e.shape
                ));
            }
            tensors.insert(
                name,
                TensorInfo {
                    dtype,
                    shape: e.shape,
                    start,
                    len: end - start,
                },
            );
        }
        Ok(WeightsFile {
            reader,
            data_start,
            tensors,
            metadata,
        })
    }

    /// The raw bytes of one tensor.
    pub fn read_bytes(&mut self, name: &str) -> Result<(TensorInfo, Vec<u8>), String> {
        let info = self
            .tensors
            .get(name)
            .cloned()
            .ok_or_else(|| format!("tensor {name} is missing"))?;
        self.reader
            .seek(SeekFrom::Start(self.data_start + info.start as u64))
            .map_err(|e| e.to_string())?;
        let mut data = vec![0u8; info.len];
        self.reader
            .read_exact(&mut data)
            .map_err(|e| format!("{name}: {e}"))?;
        Ok((info, data))
    }
}
