//! A development aid for `tandem eval`: with `TANDEM_EMBED_CACHE=FILE`, the encoder's vectors are
//! kept in FILE between runs, so re-running a benchmark does not re-embed its playbook. The
//! vectors are the encoder's own; the cache only remembers them (keyed by a 64-bit FNV-1a hash
//! of the text). Never used by `serve`.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nlu::embedding::{EmbedError, Embedder};

pub struct CachedEmbedder {
    inner: Arc<dyn Embedder>,
    file: PathBuf,
    vectors: Mutex<HashMap<u64, Vec<f32>>>,
    dirty: Mutex<bool>,
}

fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl CachedEmbedder {
    /// Wrap `inner`, loading FILE if it exists (a damaged file is ignored and rewritten).
    pub fn open(inner: Arc<dyn Embedder>, file: PathBuf) -> Self {
        let dim = inner.dim();
        let mut vectors = HashMap::new();
        if let Ok(mut f) = std::fs::File::open(&file) {
            let mut bytes = Vec::new();
            if f.read_to_end(&mut bytes).is_ok() {
                let record = 8 + 4 * dim;
                if dim > 0 && bytes.len() % record == 0 {
                    for chunk in bytes.chunks_exact(record) {
                        let (key, rest) = chunk.split_at(8);
                        let key = u64::from_le_bytes(key.try_into().unwrap_or([0; 8]));
                        let v: Vec<f32> = rest
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
                            .collect();
                        vectors.insert(key, v);
                    }
                }
            }
        }
        CachedEmbedder {
            inner,
            file,
            vectors: Mutex::new(vectors),
            dirty: Mutex::new(false),
        }
    }

    /// Write the cache back if it grew.
    pub fn save(&self) -> std::io::Result<()> {
        let dirty = self.dirty.lock().map(|d| *d).unwrap_or(false);
        if !dirty {
            return Ok(());
        }
        let vectors = self
            .vectors
            .lock()
            .map_err(|_| std::io::Error::other("cache lock poisoned"))?;
        let tmp = self.file.with_extension("tmp");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for (k, v) in vectors.iter() {
            f.write_all(&k.to_le_bytes())?;
            for x in v {
                f.write_all(&x.to_le_bytes())?;
            }
        }
        f.flush()?;
        drop(f);
        std::fs::rename(tmp, &self.file)
    }
}

impl Embedder for CachedEmbedder {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let keys: Vec<u64> = texts.iter().map(|t| fnv1a(t)).collect();
        let missing: Vec<usize> = {
            let vectors = self
                .vectors
                .lock()
                .map_err(|_| EmbedError("cache lock poisoned".into()))?;
            (0..texts.len())
                .filter(|&i| !vectors.contains_key(&keys[i]))
                .collect()
        };
        if !missing.is_empty() {
            let batch: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
            let fresh = self.inner.embed(&batch)?;
            let mut vectors = self
                .vectors
                .lock()
                .map_err(|_| EmbedError("cache lock poisoned".into()))?;
            for (i, v) in missing.iter().zip(fresh) {
                vectors.insert(keys[*i], v);
            }
            if let Ok(mut d) = self.dirty.lock() {
                *d = true;
            }
        }
        let vectors = self
            .vectors
            .lock()
            .map_err(|_| EmbedError("cache lock poisoned".into()))?;
        keys.iter()
            .map(|k| {
                vectors
                    .get(k)
                    .cloned()
                    .ok_or_else(|| EmbedError("cache lost a vector".into()))
            })
            .collect()
    }
}
