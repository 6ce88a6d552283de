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
