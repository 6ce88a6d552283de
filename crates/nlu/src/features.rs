//! Features: turns normalised text into sparse TF-IDF vectors.
//!
//! Two blocks, each L2-normalised and then weighted so the whole vector has unit length:
//! - words: unigrams and bigrams of the folded tokens;
//! - characters: 3–5 character n-grams inside word boundaries (`<zahler>`), which carry typos,
//!   inflection and German compounds (`Zählerstandsmeldung` shares most n-grams with `Zählerstand`).
//!
//! Features are hashed to 64 bits and then indexed by a vocabulary learned from the playbook, so
//! the model only stores weights for features that occur in training.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::normalize;

/// A sparse vector: (feature index, value), sorted by index, without duplicates.
pub type SparseVec = Vec<(u32, f32)>;

/// Share of the squared norm given to the word block (the rest goes to character n-grams).
const WORD_BLOCK_WEIGHT: f32 = 0.5;
const CHAR_MIN: usize = 3;
const CHAR_MAX: usize = 5;

/// Hasher for keys that already are good 64-bit hashes.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x100_0000_01b3;

fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    // final avalanche so that similar strings spread over the hash map
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The hashed features of one text, split in the two blocks, with raw term counts.
#[derive(Debug, Default, Clone)]
pub struct RawFeatures {
    pub words: Vec<(u64, f32)>,
    pub chars: Vec<(u64, f32)>,
}

impl RawFeatures {
    /// The share of the text's word features that `known` knows: words never seen in training
    /// are a strong out-of-scope cue.
    pub fn coverage(&self, known: impl Fn(&u64) -> bool) -> f32 {
        if self.words.is_empty() {
            return 0.0;
        }
        let n = self.words.iter().filter(|(h, _)| known(h)).count();
        n as f32 / self.words.len() as f32
    }
}

/// Extract hashed word and character features from already-folded tokens.
pub fn raw_features(tokens: &[String]) -> RawFeatures {
    let mut words: Vec<u64> = Vec::with_capacity(tokens.len() * 2);
    let mut chars: Vec<u64> = Vec::with_capacity(tokens.len() * 16);
    for (i, tok) in tokens.iter().enumerate() {
        words.push(fnv(FNV_OFFSET ^ 1, tok.as_bytes()));
        if let Some(next) = tokens.get(i + 1) {
            let h = fnv(FNV_OFFSET ^ 2, tok.as_bytes());
            words.push(fnv(h, next.as_bytes()));
        }
        let bounded: Vec<u8> = std::iter::once(b'<')
            .chain(tok.bytes())
            .chain(std::iter::once(b'>'))
            .collect();
        // n-grams over bytes; folded text is mostly ASCII and a split multi-byte char only
        // produces a consistent extra n-gram.
        for n in CHAR_MIN..=CHAR_MAX {
            if bounded.len() < n {
                break;
            }
            for start in 0..=bounded.len() - n {
                chars.push(fnv(
                    FNV_OFFSET ^ (10 + n as u64),
                    &bounded[start..start + n],
                ));
            }
        }
    }
    RawFeatures {
        words: count(words),
        chars: count(chars),
    }
}

fn count(mut hashes: Vec<u64>) -> Vec<(u64, f32)> {
    hashes.sort_unstable();
    let mut out: Vec<(u64, f32)> = Vec::with_capacity(hashes.len());
    for h in hashes {
        match out.last_mut() {
            Some((last, c)) if *last == h => *c += 1.0,
            _ => out.push((h, 1.0)),
        }
    }
    out
}

/// The learned vocabulary with inverse document frequencies.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    index: HashKeyed<u32>,
    idf: Vec<f32>,
    /// idf given to a feature never seen in training (used by [`Vectorizer::similarity`]).
    unseen_idf: f32,
}

impl Vectorizer {
    /// Learn the vocabulary from training texts' raw features. Features seen in fewer than
    /// `min_df` texts are dropped.
    pub fn fit(docs: &[RawFeatures], min_df: u32) -> Self {
        let mut df: HashKeyed<u32> = HashKeyed::default();
        for d in docs {
            for (h, _) in d.words.iter().chain(d.chars.iter()) {
                *df.entry(*h).or_insert(0) += 1;
            }
        }
        let n = docs.len() as f32;
        let mut kept: Vec<(u64, u32)> = df.into_iter().filter(|(_, c)| *c >= min_df).collect();
        kept.sort_unstable();
        let mut index = HashKeyed::default();
        index.reserve(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        for (i, (h, c)) in kept.into_iter().enumerate() {
            index.insert(h, i as u32);
            idf.push(((1.0 + n) / (1.0 + c as f32)).ln() + 1.0);
        }
        Vectorizer {
            index,
            idf,
            unseen_idf: (1.0 + n).ln() + 1.0,
        }
    }

    pub fn dim(&self) -> usize {
        self.idf.len()
    }

    /// TF-IDF vector of a text's raw features (unknown features are dropped).
    pub fn transform(&self, raw: &RawFeatures) -> SparseVec {
        let mut out: SparseVec = Vec::with_capacity(raw.words.len() + raw.chars.len());
        for (block, weight) in [
            (&raw.words, WORD_BLOCK_WEIGHT),
            (&raw.chars, 1.0 - WORD_BLOCK_WEIGHT),
        ] {
            let start = out.len();
            let mut norm = 0.0f32;
            for (h, tf) in block {
                if let Some(&i) = self.index.get(h) {
                    let v = (1.0 + tf.ln()) * self.idf[i as usize];
                    norm += v * v;
                    out.push((i, v));
                }
            }
            if norm > 0.0 {
                let scale = weight.sqrt() / norm.sqrt();
                for e in &mut out[start..] {
                    e.1 *= scale;
                }
            }
        }
        out.sort_unstable_by_key(|e| e.0);
        out
    }

    /// Cosine similarity of two texts over all their features, including ones never seen in
    /// training (those get the highest idf).
    pub fn similarity(&self, a: &RawFeatures, b: &RawFeatures) -> f32 {
        self.weighed(a).similarity(&self.weighed(b))
    }

    /// A text's features weighed by tf-idf (unseen ones with the highest idf), unit length: for
    /// comparing one text with many.
    pub fn weighed(&self, raw: &RawFeatures) -> Weighed {
        let mut m = HashKeyed::default();
        for (block, weight) in [
            (&raw.words, WORD_BLOCK_WEIGHT),
            (&raw.chars, 1.0 - WORD_BLOCK_WEIGHT),
        ] {
            let vals: Vec<(u64, f32)> = block
                .iter()
                .map(|(h, tf)| {
                    let idf = self
                        .index
                        .get(h)
                        .map(|&i| self.idf[i as usize])
                        .unwrap_or(self.unseen_idf);
                    (*h, (1.0 + tf.ln()) * idf)
                })
                .collect();
            let norm = vals.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (h, v) in vals {
                    *m.entry(h).or_insert(0.0) += v * weight.sqrt() / norm;
                }
            }
        }
        let norm = m.values().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            m.values_mut().for_each(|v| *v /= norm);
        }
        Weighed(m)
    }
}

/// A text's weighed features ([`Vectorizer::weighed`]), unit length.
#[derive(Debug, Clone, Default)]
pub struct Weighed(HashKeyed<f32>);

impl Weighed {
    /// Cosine similarity (0..1).
    pub fn similarity(&self, other: &Weighed) -> f32 {
        let (small, large) = if self.0.len() <= other.0.len() {
            (&self.0, &other.0)
        } else {
            (&other.0, &self.0)
        };
        let dot: f32 = small
            .iter()
            .filter_map(|(h, v)| large.get(h).map(|w| v * w))
            .sum();
        dot.clamp(0.0, 1.0)
    }
}

/// Raw features of a text (folds it first).
pub fn of_text(text: &str) -> RawFeatures {
    raw_features(&normalize::tokens(text))
}

/// Dot product of two sorted sparse vectors.
pub fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_sorted() {
        let docs: Vec<RawFeatures> = ["Wo ist mein Paket", "Zählerstand melden", "Paket verfolgen"]
            .iter()
            .map(|t| of_text(t))
            .collect();
        let v = Vectorizer::fit(&docs, 1);
        let x = v.transform(&of_text("Wo ist mein Paket?"));
        let norm: f32 = x.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(x.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(v.transform(&of_text("")).is_empty());
    }

    #[test]
    fn compounds_and_typos_stay_similar() {
        let docs: Vec<RawFeatures> = ["Zählerstand melden"].iter().map(|t| of_text(t)).collect();
        let v = Vectorizer::fit(&docs, 1);
        let base = of_text("Zählerstand melden");
        // no word in common, yet the character n-grams see the compound
        assert!(v.similarity(&base, &of_text("Zaehlerstandsmeldung")) > 0.2);
        assert!(v.similarity(&base, &of_text("zählerstnd meldn")) > 0.2);
        assert!(v.similarity(&base, &of_text("Where is my parcel")) < 0.1);
        assert!((v.similarity(&base, &base) - 1.0).abs() < 1e-4);
    }
}
