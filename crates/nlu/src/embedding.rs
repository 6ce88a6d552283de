//! The seam for an optional sentence encoder (the second stage of the cascade).
//!
//! The machine tier never loads a model itself: a desk that opts in hands it an [`Embedder`]
//! (the `encoder` crate's multilingual-e5-small), and everything here stays light without one.

/// A sentence encoder: texts in, unit vectors out.
pub trait Embedder: Send + Sync {
    /// The length of every vector.
    fn dim(&self) -> usize;
    /// One L2-normalised vector per text, in input order. Implementations add their own
    /// prompt (multilingual-e5 wants `"query: "` in front of every text).
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Why an encoder could not embed a text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sentence encoder failed: {0}")]
pub struct EmbedError(pub String);

/// Cosine similarity of two unit vectors (their dot product).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Vectors by text, as a training left them.
pub type Kept = std::sync::Arc<std::collections::HashMap<String, std::sync::Arc<[f32]>>>;

/// A sentence encoder for one training that reuses the vectors an earlier training made
/// (`seed`): a playbook that gained one example is embedded once more for that example, not
/// for all of its examples, answers and the built-in background. After [`Remembering::finish`]
/// it remembers nothing new: the trained tier keeps it for customers' messages, and looks up the
/// training's texts (an example typed back) instead of embedding them again.
pub struct Remembering {
    /// For customers' messages once the training is over.
    inner: std::sync::Arc<dyn Embedder>,
    /// For the training's own texts.
    training: std::sync::Arc<dyn Embedder>,
    seed: Kept,
    learned: std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<[f32]>>>,
    frozen: std::sync::OnceLock<Kept>,
}

impl Remembering {
    /// `training` embeds the training's texts (say, without a latency budget), `inner` the
    /// texts that come after it.
    pub fn new(
        inner: std::sync::Arc<dyn Embedder>,
        training: std::sync::Arc<dyn Embedder>,
        seed: Kept,
    ) -> Self {
        Self {
            inner,
            training,
            seed,
            learned: std::sync::Mutex::default(),
            frozen: std::sync::OnceLock::new(),
        }
    }

    /// Ends the training: the vectors of every text it asked for, to seed the next one.
    pub fn finish(&self) -> Kept {
        let learned = std::mem::take(
            &mut *self
                .learned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        self.frozen
            .get_or_init(|| std::sync::Arc::new(learned))
            .clone()
    }
}

impl Embedder for Remembering {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out: Vec<Option<Vec<f32>>> = Vec::with_capacity(texts.len());
        if let Some(kept) = self.frozen.get() {
            out.extend(texts.iter().map(|t| kept.get(*t).map(|v| v.to_vec())));
        } else {
            let mut learned = self
                .learned
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for t in texts {
                let known = learned.get(*t).or_else(|| self.seed.get(*t)).cloned();
                if let Some(v) = &known {
                    learned.insert((*t).to_owned(), v.clone());
                }
                out.push(known.map(|v| v.to_vec()));
            }
        }
        let missing: Vec<&str> = texts
            .iter()
            .zip(&out)
            .filter(|(_, v)| v.is_none())
            .map(|(t, _)| *t)
            .collect();
        if !missing.is_empty() {
            let by = match self.frozen.get() {
                Some(_) => &self.inner,
                None => &self.training,
            };
            let mut fresh = by.embed(&missing)?.into_iter();
            let mut learned = (self.frozen.get().is_none()).then(|| {
                self.learned
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            for (t, slot) in texts.iter().zip(out.iter_mut()) {
                if slot.is_none() {
                    let v = fresh
                        .next()
                        .ok_or_else(|| EmbedError("the encoder returned too few vectors".into()))?;
                    if let Some(learned) = learned.as_mut() {
                        learned.insert((*t).to_owned(), v.as_slice().into());
                    }
                    *slot = Some(v);
                }
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Counts the texts it embeds; a text's vector is its length.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Embedder for Counting {
        fn dim(&self) -> usize {
            1
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|t| vec![t.len() as f32]).collect())
        }
    }

    #[test]
    fn a_second_training_embeds_only_what_is_new() {
        let inner = Arc::new(Counting::default());
        let first = Remembering::new(inner.clone(), inner.clone(), Kept::default());
        let v = first.embed(&["ab", "abc", "ab"]).expect("embeds");
        assert_eq!(v, vec![vec![2.0], vec![3.0], vec![2.0]]);
        let kept = first.finish();
        assert_eq!(kept.len(), 2);
        let embedded = inner.0.load(Ordering::SeqCst);
        // After its training, it looks up what it knows and remembers nothing new.
        assert_eq!(
            first.embed(&["abc", "wxyz"]).expect("embeds"),
            vec![vec![3.0], vec![4.0]]
        );
        assert_eq!(inner.0.load(Ordering::SeqCst), embedded + 1);
        assert_eq!(first.finish().len(), 2);
        let second = Remembering::new(inner.clone(), inner.clone(), kept);
        let before = inner.0.load(Ordering::SeqCst);
        let v = second.embed(&["abc", "abcde"]).expect("embeds");
        assert_eq!(v, vec![vec![3.0], vec![5.0]]);
        assert_eq!(
            inner.0.load(Ordering::SeqCst),
            before + 1,
            "only the new text"
        );
        let kept = second.finish();
        assert!(kept.contains_key("abc") && kept.contains_key("abcde"));
        assert!(
            !kept.contains_key("ab"),
            "a text the training no longer asked for is dropped"
        );
    }
}
