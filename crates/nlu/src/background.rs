//! The background: what "not this business" looks like, built in.
//!
//! A new playbook rarely says what it must not answer, and an `[out_of_scope]` section of a few
//! lines cannot cover the weather, pizza, elections and every other business's questions. So every
//! playbook is trained with a built-in background of such requests, in German and English
//! (`crates/nlu/lexicon/background.tsv`, written for Tandem): generic off-topic requests and typical requests to
//! some thirty other kinds of businesses. They join the playbook's own `[out_of_scope]` examples
//! as negatives.
//!
//! A line that resembles one of the playbook's own examples is dropped first (an insurer's
//! playbook keeps its claims; the background's claim lines go): its similarity to the nearest
//! example, on the same word and character n-grams the fast path reads, must stay below
//! [`KEEP_BELOW`]. The encoder stage drops whole categories, by its own similarity
//! ([`without_claimed`]), because it reads across languages.

use crate::features::{self, RawFeatures, SparseVec, Vectorizer};
use crate::model::Neighbours;

const TSV: &str = include_str!("../lexicon/background.tsv");

/// A background line is kept only while its cosine to every playbook example stays below this.
/// Set on development playbooks only (see docs/benchmarks.md).
pub const KEEP_BELOW: f32 = 0.5;

/// One background line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub locale: &'static str,
    /// The kind of request or business (`weather`, `bicycle-shop`, …).
    pub category: &'static str,
    pub text: &'static str,
}

/// The built-in background lines.
pub fn lines() -> impl Iterator<Item = Line> {
    TSV.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let locale = parts.next()?;
            let category = parts.next()?;
            let text = parts.next()?.trim();
            (!text.is_empty()).then_some(Line {
                locale,
                category,
                text,
            })
        })
}

/// Keep the lines of every category none of whose lines is `claimed`: a playbook that answers
/// one bicycle-shop question is a bicycle shop, and every bicycle-shop line goes.
pub fn without_claimed(lines: Vec<Line>, claimed: impl Fn(usize) -> bool) -> Vec<Line> {
    let taken: Vec<&str> = (0..lines.len())
        .filter(|&i| claimed(i))
        .map(|i| lines[i].category)
        .collect();
    lines
        .into_iter()
        .filter(|l| !taken.contains(&l.category))
        .collect()
}

/// The background lines that do not resemble any of `examples` (the playbook's intent examples).
pub fn for_playbook(examples: &[&str]) -> Vec<Line> {
    let all: Vec<Line> = lines().collect();
    if examples.is_empty() {
        return all;
    }
    let own: Vec<RawFeatures> = examples.iter().map(|t| features::of_text(t)).collect();
    let candidates: Vec<RawFeatures> = all.iter().map(|l| features::of_text(l.text)).collect();
    let docs: Vec<RawFeatures> = own.iter().chain(candidates.iter()).cloned().collect();
    let vectorizer = Vectorizer::fit(&docs, 1);
    let xs: Vec<SparseVec> = own.iter().map(|r| vectorizer.transform(r)).collect();
    let neighbours = Neighbours::build(&xs, &vec![0; xs.len()], vectorizer.dim(), 1);
    all.into_iter()
        .zip(&candidates)
        .filter(|(_, raw)| {
            let best = neighbours.best_per_class(&vectorizer.transform(raw));
            best.first().copied().unwrap_or(0.0) < KEEP_BELOW
        })
        .map(|(l, _)| l)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_is_bilingual_and_distinct() {
        let all: Vec<Line> = lines().collect();
        assert!(all.len() >= 500, "{}", all.len());
        for locale in ["de", "en"] {
            assert!(all.iter().filter(|l| l.locale == locale).count() >= 150);
        }
        let mut texts: Vec<&str> = all.iter().map(|l| l.text).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), all.len(), "duplicate background lines");
    }

    #[test]
    fn a_claimed_category_goes_whole() {
        let all: Vec<Line> = lines().collect();
        let first = all[0];
        let kept = without_claimed(all.clone(), |i| i == 0);
        assert!(kept.iter().all(|l| l.category != first.category));
        assert!(kept.len() < all.len() - 1, "more than the one line went");
        assert_eq!(without_claimed(all.clone(), |_| false).len(), all.len());
    }

    #[test]
    fn lines_like_the_playbook_are_dropped() {
        let all = lines().count();
        let kept = for_playbook(&["Wie wird das Wetter morgen?", "weather tomorrow"]);
        assert!(
            kept.len() < all && kept.len() > all / 2,
            "{} of {all}",
            kept.len()
        );
        assert!(kept
            .iter()
            .all(|l| !l.text.to_lowercase().contains("wetter morgen")));
        assert_eq!(for_playbook(&[]).len(), all);
    }
}
