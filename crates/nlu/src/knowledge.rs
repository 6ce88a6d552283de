//! Knowledge base: the playbook's articles in an in-memory tantivy index.
//!
//! Titles and bodies are indexed in folded form (see [`crate::normalize`]) plus 4-grams inside
//! words, so umlaut spellings, inflections and German compounds still find their article. Used for
//! agents' suggested articles and for answering with an article when no intent fits but one
//! article clearly does ([`Knowledge::clear_match`]). With a sentence encoder, suggestions are
//! hybrid: BM25 and vector similarity ranks fused by reciprocal rank, so an English question also
//! finds a German-worded article and paraphrases find theirs.

use std::collections::HashSet;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::embedding::{cosine, EmbedError, Embedder};
use crate::normalize::{self, stopwords};
use crate::ArticleHit;

const GRAM: usize = 4;
/// Share of the query's content words an article must contain to count as a clear match.
const CLEAR_COVERAGE: f32 = 0.6;
/// The best article must score this much higher than the runner-up in the same locale.
const CLEAR_LEAD: f32 = 1.3;

/// Reciprocal-rank-fusion constant (the usual 60).
const RRF_K: f32 = 60.0;
/// A vector-only candidate must come this close to the best article's cosine.
const VECTOR_BAND: f32 = 0.03;

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge base: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("knowledge base: {0}")]
    Encoder(#[from] EmbedError),
}

/// The articles' vectors and the encoder that made them.
struct Vectors {
    embedder: Arc<dyn Embedder>,
    of_article: Vec<Vec<f32>>,
}

struct Entry {
    id: String,
    title: String,
    locale: Option<String>,
    words: HashSet<String>,
}

/// The searchable articles.
pub struct Knowledge {
    entries: Vec<Entry>,
    reader: Option<IndexReader>,
    fields: Fields,
    vectors: Option<Vectors>,
}

#[derive(Clone, Copy)]
struct Fields {
    idx: Field,
    title: Field,
    body: Field,
    grams: Field,
}

fn grams_of(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        let padded: Vec<char> = format!("_{w}_").chars().collect();
        if padded.len() <= GRAM {
            out.push(padded.iter().collect());
            continue;
        }
        for win in padded.windows(GRAM) {
            out.push(win.iter().collect());
        }
    }
    out
}

fn content_words(text: &str) -> Vec<String> {
    normalize::tokens(text)
        .into_iter()
        .filter(|t| t.len() > 1 && !stopwords::is_stopword(t))
        .collect()
}

/// Do two folded words name the same thing (same word, inflection, or compound part)?
fn related(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 5
        && (long.starts_with(short)
            || long.ends_with(short)
            || (short.get(..5).is_some() && short.get(..5) == long.get(..5)))
}

impl Knowledge {
    /// Index the articles; with an encoder, also embed them for hybrid suggestions.
    pub fn build_with(
        articles: &[playbook::Article],
        encoder: Option<Arc<dyn Embedder>>,
    ) -> Result<Self, KnowledgeError> {
        let mut k = Self::build(articles)?;
        if let Some(embedder) = encoder.filter(|_| !articles.is_empty()) {
            let texts: Vec<String> = articles
                .iter()
                .map(|a| format!("{}. {}", a.title, a.body))
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let of_article = crate::cascade::embed_all(embedder.as_ref(), &refs, &mut |_, _| {})?;
            k.vectors = Some(Vectors {
                embedder,
                of_article,
            });
        }
        Ok(k)
    }

    pub fn build(articles: &[playbook::Article]) -> Result<Self, KnowledgeError> {
        let text_options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("whitespace")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut sb = Schema::builder();
        let fields = Fields {
            idx: sb.add_u64_field("idx", STORED),
            title: sb.add_text_field("title", text_options.clone()),
            body: sb.add_text_field("body", text_options.clone()),
            grams: sb.add_text_field("grams", text_options),
        };
        let entries: Vec<Entry> = articles
            .iter()
            .map(|a| Entry {
                id: a.id.clone(),
                title: a.title.clone(),
                locale: a.locale.clone(),
                words: content_words(&format!("{} {}", a.title, a.body))
                    .into_iter()
                    .collect(),
            })
            .collect();
        if articles.is_empty() {
            return Ok(Knowledge {
                entries,
                reader: None,
                fields,
                vectors: None,
            });
        }
        let index = Index::create_in_ram(sb.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        for (i, a) in articles.iter().enumerate() {
            let words = normalize::tokens(&format!("{} {}", a.title, a.body));
            writer.add_document(doc!(
                fields.idx => i as u64,
                fields.title => normalize::fold(&a.title),
                fields.body => normalize::fold(&a.body),
                fields.grams => grams_of(&words).join(" "),
            ))?;
        }
        writer.commit()?;
        drop(writer);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Knowledge {
            entries,
            reader: Some(reader),
            fields,
            vectors: None,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Articles ranked by BM25 over title, body and in-word 4-grams.
    pub fn search(&self, text: &str, limit: usize) -> Vec<(usize, f32)> {
        let Some(reader) = &self.reader else {
            return Vec::new();
        };
        if limit == 0 {
            return Vec::new();
        }
        let words = content_words(text);
        if words.is_empty() {
            return Vec::new();
        }
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            for (field, boost) in [(f.title, 2.0), (f.body, 1.0)] {
                let q = TermQuery::new(
                    Term::from_field_text(field, w),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
            }
        }
        let grams: HashSet<String> = grams_of(&words).into_iter().collect();
        for g in grams {
            let q = TermQuery::new(
                Term::from_field_text(f.grams, &g),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), 0.3))));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = reader.searcher();
        let Ok(top) = searcher.search(&query, &TopDocs::with_limit(limit)) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, addr)| {
                let doc: TantivyDocument = searcher.doc(addr).ok()?;
                let idx = doc.get_first(f.idx)?.as_u64()? as usize;
                (idx < self.entries.len()).then_some((idx, score))
            })
            .collect()
    }

    /// Lexical hits, fused with vector similarity when an encoder is present (a failing encoder
    /// leaves the lexical ranking).
    pub fn ranked(&self, text: &str, limit: usize) -> Vec<(usize, f32)> {
        let lexical = self.search(text, limit.max(10));
        let Some(v) = &self.vectors else {
            return lexical.into_iter().take(limit).collect();
        };
        let Some(q) = v.embedder.embed(&[text]).ok().and_then(|mut e| e.pop()) else {
            return lexical.into_iter().take(limit).collect();
        };
        let mut sims: Vec<(usize, f32)> = v
            .of_article
            .iter()
            .enumerate()
            .map(|(i, a)| (i, cosine(a, &q)))
            .collect();
        sims.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let best = sims.first().map_or(0.0, |s| s.1);
        let mut fused: Vec<(usize, f32)> = Vec::new();
        let mut add = |i: usize, rank: usize| match fused.iter_mut().find(|f| f.0 == i) {
            Some(f) => f.1 += 1.0 / (RRF_K + rank as f32),
            None => fused.push((i, 1.0 / (RRF_K + rank as f32))),
        };
        for (rank, (i, _)) in lexical.iter().enumerate() {
            add(*i, rank + 1);
        }
        for (rank, (i, s)) in sims.iter().enumerate() {
            let lexical_hit = lexical.iter().any(|l| l.0 == *i);
            if lexical_hit || *s >= best - VECTOR_BAND {
                add(*i, rank + 1);
            }
        }
        fused.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        fused.truncate(limit);
        fused
    }

    pub fn hits(&self, text: &str, limit: usize) -> Vec<ArticleHit> {
        self.ranked(text, limit)
            .into_iter()
            .map(|(i, score)| ArticleHit {
                id: self.entries[i].id.clone(),
                title: self.entries[i].title.clone(),
                score,
            })
            .collect()
    }

    /// The article that clearly answers `text`, if any: it covers most of the text's content
    /// words and leads the other articles of its locale by a margin.
    pub fn clear_match(&self, text: &str, locale: &str) -> Option<String> {
        let words = content_words(text);
        if words.len() < 2 {
            return None;
        }
        let in_locale = |i: usize| {
            self.entries[i]
                .locale
                .as_deref()
                .is_none_or(|l| l == locale)
        };
        let ranked: Vec<(usize, f32)> = self
            .search(text, 10)
            .into_iter()
            .filter(|(i, _)| in_locale(*i))
            .collect();
        let (best, score) = *ranked.first()?;
        if let Some((_, second)) = ranked.get(1) {
            if score < CLEAR_LEAD * second {
                return None;
            }
        }
        let entry = &self.entries[best];
        let covered = words
            .iter()
            .filter(|w| entry.words.iter().any(|a| related(w, a)))
            .count();
        let coverage = covered as f32 / words.len() as f32;
        (covered >= 2 && coverage >= CLEAR_COVERAGE).then(|| entry.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> Knowledge {
        Knowledge::build(&playbook::Playbook::demo().articles).expect("index builds")
    }

    #[test]
    fn finds_articles_across_spellings() {
        let k = kb();
        let hits = k.hits("Ruecksendung Umtausch", 3);
        assert_eq!(hits.first().map(|h| h.id.as_str()), Some("returns"));
        let hits = k.hits("gift wrap my order", 3);
        assert_eq!(
            hits.first().map(|h| h.id.as_str()),
            Some("gift-wrapping-en")
        );
        assert!(k.hits("", 3).is_empty());
    }

    #[test]
    fn clear_match_needs_coverage() {
        let k = kb();
        assert_eq!(
            k.clear_match("Wie wasche ich Wolle richtig?", "de")
                .as_deref(),
            Some("care-instructions")
        );
        assert_eq!(
            k.clear_match("Kann ich bei Ihnen Aktien kaufen?", "de"),
            None
        );
    }

    #[test]
    fn related_words() {
        assert!(related("geschenkverpackung", "geschenk"));
        assert!(related("wolle", "wolle"));
        assert!(!related("wolle", "wasser"));
    }
}
