//! The machine tier: text in, triage out.
//!
//! [`MachineTier::train`] learns everything from a playbook (intents and their examples,
//! out-of-scope examples, articles); [`MachineTier::triage`] decides one message: answer, ask to
//! clarify, or hand off with reasons. No database, no HTTP, no downloads.
//!
//! Module map:
//! - [`normalize`]: the canonical folding of German/English text;
//! - [`features`]: TF-IDF word and character n-gram vectors;
//! - [`model`]: the lexical model (the fast path);
//! - [`semantic`]: the optional encoder stage;
//! - [`cascade`]: fast path first, the encoder only when it is unsure;
//! - [`calibrate`]: confidence: shipped for the fast path (fitted across many playbooks), or
//!   learned by cross-validation on a large playbook and for the encoder stage;
//! - [`background`]: the built-in negatives (off-topic and other businesses' requests);
//! - [`verbatim`]: a playbook's example typed back gets its intent;
//! - [`embedding`]: the seam for an optional sentence encoder;
//! - [`signals`]: handoff reasons from rules and word lists;
//! - [`locale`]: German or English;
//! - [`knowledge`]: the article index (tantivy);
//! - [`eval`]: cases and metrics for `tandem eval`.

pub mod background;
pub mod batcher;
pub mod calibrate;
pub mod cascade;
pub mod embedding;
pub mod eval;
pub mod features;
pub mod knowledge;
pub mod locale;
pub mod model;
pub mod normalize;
pub mod semantic;
pub mod signals;
pub mod verbatim;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::calibrate::ANSWER_THRESHOLD;
use crate::cascade::{Cascade, CascadeReport, Examples};
use crate::embedding::{EmbedError, Embedder};
use crate::features::Vectorizer;
use crate::knowledge::Knowledge;
use crate::model::ClassId;
use crate::verbatim::Verbatim;

/// The machine's verdict types are the desk's words (see `desk::verdict`); re-exported so the
/// machine tier's API reads as before.
pub use desk::verdict::{Action, Candidate, Reason, Triage, UnknownReason};

/// The intent model's view of one text (see [`MachineTier::explain`]).
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Intents best first with their ranking scores; `None` is the playbook's out-of-scope class.
    pub ranked: Vec<(Option<String>, f32)>,
    pub confidence: f32,
    pub pair_confidence: f32,
    pub nearest: f32,
    pub evidence: Vec<(&'static str, f32)>,
    /// Which cascade stage decided (`lexical`, `encoder`, `encoder_alone`).
    pub stage: &'static str,
}

/// A suggested knowledge-base article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleHit {
    pub id: String,
    pub title: String,
    pub score: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum NluError {
    #[error("the playbook has no intent examples to learn from")]
    NoExamples,
    #[error(transparent)]
    Knowledge(#[from] knowledge::KnowledgeError),
    #[error(transparent)]
    Encoder(#[from] EmbedError),
}

struct IntentInfo {
    id: String,
    handoff: bool,
    /// The signal words the intent's own examples carry ("Anwalt" in a legal-cover intent,
    /// "Mahnung" in a dunning one): what it answers, so they ask for no person when it is sure.
    claims: BTreeSet<signals::Trigger>,
}

/// The trained machine tier for one playbook. Immutable; share it in an `Arc`.
pub struct MachineTier {
    intents: Vec<IntentInfo>,
    oos_class: Option<ClassId>,
    cascade: Cascade,
    verbatim: Verbatim,
    vectorizer: Vectorizer,
    knowledge: Knowledge,
    locales: Vec<String>,
}

const SEED: u64 = 0x007a_4de3;
/// The stage name of a playbook example typed back (see [`verbatim`]).
const VERBATIM_STAGE: &str = "example";
/// Clarify only when the runner-up's probability is at least this share of the best intent's.
const CLARIFY_CLOSENESS: f32 = 0.7;
/// ... and when one of the two is right with at least this calibrated probability: asking a
/// customer to choose between two wrong intents costs a turn and their patience.
const CLARIFY_PAIR: f32 = 0.8;

impl MachineTier {
    /// Learn intents, confidence calibration and the article index from a playbook.
    pub fn train(playbook: &playbook::Playbook) -> Result<MachineTier, NluError> {
        Self::train_with(playbook, None, &mut |_, _| {}).map(|(tier, _)| tier)
    }

    /// Like [`MachineTier::train`], with an optional sentence encoder as the cascade's second
    /// stage; `progress` hears (examples embedded, total) while training embeds the playbook.
    pub fn train_with(
        playbook: &playbook::Playbook,
        encoder: Option<Arc<dyn Embedder>>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(MachineTier, CascadeReport), NluError> {
        let mut texts: Vec<&str> = Vec::new();
        let mut labels: Vec<ClassId> = Vec::new();
        for (c, intent) in playbook.intents.iter().enumerate() {
            for e in intent.examples.iter().filter(|e| !e.trim().is_empty()) {
                texts.push(e);
                labels.push(c);
            }
        }
        if texts.is_empty() {
            return Err(NluError::NoExamples);
        }
        let n_intents = playbook.intents.len();
        let background = background::for_playbook(&texts);
        let oos: Vec<&String> = playbook
            .out_of_scope
            .examples
            .iter()
            .filter(|e| !e.trim().is_empty())
            .collect();
        let oos_class = (!oos.is_empty()).then_some(n_intents);
        for e in oos {
            texts.push(e);
            labels.push(n_intents);
        }
        let verbatim = Verbatim::of(texts.iter().copied().zip(labels.iter().copied()));
        let background_class = n_intents + usize::from(oos_class.is_some());
        let answers = playbook
            .intents
            .iter()
            .enumerate()
            .flat_map(|(c, i)| i.answer.values().map(move |a| (a.as_str(), c)))
            .filter(|(a, _)| !a.trim().is_empty())
            .collect();
        let examples = Examples {
            texts,
            labels,
            classes: background_class,
            oos_class,
            background,
            answers,
        };
        let (cascade, report) = Cascade::train(&examples, encoder.clone(), SEED, progress)?;
        let vectorizer = cascade.lexical_core().vectorizer.clone();
        let knowledge = Knowledge::build_with(&playbook.articles, encoder)?;
        Ok((
            MachineTier {
                intents: playbook
                    .intents
                    .iter()
                    .map(|i| IntentInfo {
                        id: i.id.clone(),
                        handoff: i.handoff,
                        claims: i
                            .examples
                            .iter()
                            .flat_map(|e| signals::detect(e).triggers().collect::<Vec<_>>())
                            .collect(),
                    })
                    .collect(),
                oos_class,
                cascade,
                verbatim,
                vectorizer,
                knowledge,
                locales: playbook.desk.locales.clone(),
            },
            report,
        ))
    }

    /// Whether a sentence encoder backs this tier.
    pub fn has_encoder(&self) -> bool {
        self.cascade.has_encoder()
    }

    fn intent_of(&self, class: Option<ClassId>) -> Option<&IntentInfo> {
        class
            .filter(|c| Some(*c) != self.oos_class)
            .and_then(|c| self.intents.get(c))
    }

    /// Decide one message on its own (conversation-level reasons are the desk's business).
    pub fn triage(&self, text: &str) -> Triage {
        self.triage_explained(text).0
    }

    /// [`MachineTier::triage`] and the intent model's view behind it, from one prediction.
    pub fn triage_explained(&self, text: &str) -> (Triage, Explanation) {
        let mut found = signals::detect(text);
        let locale = locale::detect(text, &self.locales);
        let prediction = self.predict(text);
        let explanation = self.explanation(&prediction);
        let top = self.intent_of(prediction.top());
        let confident = top.is_some() && !prediction.is_unsure();
        let intent = if confident { top } else { None };
        // A handoff intent goes to a person anyway, and its reasons tell the router more.
        if let Some(sure) = intent.filter(|i| !i.handoff) {
            found.without_claimed(&sure.claims);
        }
        // An example typed back is answered as its author filed it: the words that would
        // otherwise ask for a person ("hospital", "call me back") are what that intent answers.
        let mut reasons = if prediction.stage == VERBATIM_STAGE {
            Vec::new()
        } else {
            found.reasons
        };
        if intent.is_some_and(|i| i.handoff) {
            reasons.push(Reason::IntentRequiresHuman);
        }
        let candidates = self.candidates(&prediction);
        let mut clarify = false;
        let mut article = None;
        if !confident {
            let second = self.intent_of(prediction.ranked.get(1).map(|r| r.0));
            if let (Some(_), Some(_)) = (top, second) {
                // Too close to call: the pair is likely right and the runner-up nearly as strong.
                clarify = prediction.pair_confidence >= CLARIFY_PAIR
                    && prediction.closeness >= CLARIFY_CLOSENESS;
            }
            if !clarify {
                if reasons.is_empty() && prediction.top() != self.oos_class {
                    article = self.knowledge.clear_match(text, &locale);
                }
                if article.is_none() {
                    reasons.push(Reason::LowConfidence);
                }
            }
        }
        reasons.sort();
        reasons.dedup();
        let action = if !reasons.is_empty() {
            Action::Handoff
        } else if clarify {
            Action::Clarify
        } else {
            Action::Answer
        };
        let intent = match action {
            Action::Clarify => candidates.first().map(|c| c.intent.clone()),
            _ => intent.map(|i| i.id.clone()),
        };
        let triage = Triage {
            text: text.to_string(),
            intent,
            confidence: prediction.confidence.clamp(0.0, 1.0),
            action,
            reasons,
            locale,
            article,
            sentiment: found.sentiment,
            candidates,
        };
        (triage, explanation)
    }

    /// The best three intents of a prediction with their confidences (see [`Candidate`]).
    fn candidates(&self, p: &model::Prediction) -> Vec<Candidate> {
        let best = p.ranked.first().map_or(0.0, |r| r.1);
        p.ranked
            .iter()
            .filter_map(|(c, score)| {
                let info = self.intent_of(Some(*c))?;
                let share = if best > 0.0 {
                    (score / best).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                Some(Candidate {
                    intent: info.id.clone(),
                    confidence: (p.confidence * share).clamp(0.0, 1.0),
                })
            })
            .take(3)
            .collect()
    }

    /// Knowledge-base articles for `text`, best first.
    pub fn suggest_articles(&self, text: &str, limit: usize) -> Vec<ArticleHit> {
        self.knowledge.hits(text, limit)
    }

    /// How alike two messages are (0..1): character and word n-gram cosine, typo-tolerant.
    pub fn similarity(&self, a: &str, b: &str) -> f32 {
        self.vectorizer
            .similarity(&features::of_text(a), &features::of_text(b))
    }

    /// A text as [`MachineTier::similarity`] compares it, to compare one text with many:
    /// `tier.likeness(a).similarity(&tier.likeness(b)) == tier.similarity(a, b)`.
    pub fn likeness(&self, text: &str) -> features::Weighed {
        self.vectorizer.weighed(&features::of_text(text))
    }

    /// The intent model's view of `text`: ranked intents (`None` = the out-of-scope class) with
    /// their scores, and the calibrated confidences. For diagnostics and the agent console.
    pub fn explain(&self, text: &str) -> Explanation {
        self.explanation(&self.predict(text))
    }

    /// A playbook example, typed back, gets its class for certain; anything else goes to the
    /// cascade.
    fn predict(&self, text: &str) -> model::Prediction {
        match self.verbatim.class_of(text) {
            Some(class) => model::Prediction {
                ranked: vec![(class, 1.0)],
                confidence: 1.0,
                pair_confidence: 1.0,
                nearest: 1.0,
                closeness: 0.0,
                evidence: vec![("verbatim", 1.0)],
                stage: VERBATIM_STAGE,
                answer_at: ANSWER_THRESHOLD,
            },
            None => self.cascade.predict(text),
        }
    }

    fn explanation(&self, p: &model::Prediction) -> Explanation {
        Explanation {
            ranked: p
                .ranked
                .iter()
                .map(|(c, s)| (self.intent_of(Some(*c)).map(|i| i.id.clone()), *s))
                .collect(),
            confidence: p.confidence,
            pair_confidence: p.pair_confidence,
            nearest: p.nearest,
            evidence: p.evidence.clone(),
            stage: p.stage,
        }
    }

    /// The intents this tier knows, in playbook order.
    pub fn intent_ids(&self) -> impl Iterator<Item = &str> {
        self.intents.iter().map(|i| i.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> MachineTier {
        MachineTier::train(&playbook::Playbook::demo()).expect("demo trains")
    }

    /// An insurer whose legal-cover intent talks of lawyers, as its customers do.
    const LAWYERS: &str = r#"
[desk]
name = "Versicherung"
locales = ["de", "en"]

[[intent]]
id = "legal_cover"
examples = ["Zahlt meine Rechtsschutzversicherung den Anwalt?", "Brauche eine Deckungszusage für meinen Anwalt",
  "Übernehmt ihr die Anwaltskosten im Streit mit dem Vermieter?", "does my legal cover pay for a lawyer"]
answer.de = "Schicken Sie uns das Schreiben Ihres Anwalts."
answer.en = "Send us your lawyer's letter."

[[intent]]
id = "claim_report"
handoff = true
examples = ["Schaden melden", "Mein Anwalt sagt, ich soll den Schaden melden", "report a claim", "Wasserschaden melden"]
answer.de = "Ein Kollege meldet sich."
answer.en = "A colleague will be in touch."

[[intent]]
id = "address_change"
examples = ["Neue Adresse mitteilen", "Ich bin umgezogen", "change my address", "Adressänderung"]
answer.de = "Ändern Sie Ihre Adresse im Kundenportal."
answer.en = "Change your address in the customer portal."
"#;

    #[test]
    fn an_intent_answers_the_signal_words_its_examples_carry() {
        let tier = MachineTier::train(&playbook::Playbook::parse(LAWYERS).expect("parses"))
            .expect("trains");
        let t = tier.triage("Übernehmt ihr die Anwaltskosten für den Streit mit meinem Vermieter?");
        assert_eq!(t.intent.as_deref(), Some("legal_cover"), "{t:?}");
        assert_eq!(t.action, Action::Answer, "{t:?}");
        // A handoff intent keeps its reasons: they tell the router more.
        let t = tier.triage("Mein Anwalt meint, ich soll den Wasserschaden jetzt melden");
        assert!(t.reasons.contains(&Reason::SensitiveTopic), "{t:?}");
        // Words no intent carries still ask for a person.
        let t = tier.triage("Ich bin umgezogen, und mein Mann ist letzte Woche gestorben");
        assert!(t.reasons.contains(&Reason::SensitiveTopic), "{t:?}");
    }

    #[test]
    fn an_answer_tells_what_its_intent_is_about() {
        // No example of `directions` names the tram or the town hall; its answer does.
        let playbook = playbook::Playbook::parse(
            r#"
[desk]
name = "Praxis"
locales = ["de", "en"]

[[intent]]
id = "directions"
examples = ["Wo seid ihr?", "Wie finde ich euch?", "where are you located"]
answer.de = "Hauptstraße 5, mit der Straßenbahn Linie 4 bis Haltestelle Rathaus, Parkplätze im Hof."
answer.en = "Hauptstraße 5: tram line 4 to the town hall stop, parking in the courtyard."

[[intent]]
id = "opening_hours"
examples = ["Wann habt ihr offen?", "Öffnungszeiten", "when are you open"]
answer.de = "Montag bis Freitag 8 bis 18 Uhr."
answer.en = "Monday to Friday, 8 am to 6 pm."

[[intent]]
id = "invoice"
examples = ["Rechnung herunterladen", "Wo finde ich meine Rechnung?", "download my invoice"]
answer.de = "Im Kundenportal unter Rechnungen."
answer.en = "In the customer portal under invoices."
"#,
        )
        .expect("parses");
        let tier = MachineTier::train(&playbook).expect("trains");
        for text in [
            "Gibt es Parkplätze im Hof?",
            "Haltestelle Rathaus, welche Straßenbahn?",
            "which tram line stops at the town hall?",
        ] {
            let t = tier.triage(text);
            assert_eq!(
                t.candidates.first().map(|c| c.intent.as_str()),
                Some("directions"),
                "{text}: {t:?}"
            );
        }
    }

    #[test]
    fn reasons_round_trip_as_strings() {
        for r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>(), Ok(r));
            assert_eq!(
                serde_json::to_string(&r).expect("serialises"),
                format!("\"{}\"", r.as_str())
            );
        }
        assert!("angry".parse::<Reason>().is_err());
    }

    #[test]
    fn tier_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MachineTier>();
    }

    #[test]
    fn demo_answers_and_hands_off() {
        let tier = demo();
        let t = tier.triage("Wo ist mein Paket?");
        assert_eq!(t.action, Action::Answer, "{t:?}");
        assert_eq!(t.intent.as_deref(), Some("order_status"));
        assert_eq!(t.locale, "de");
        let t = tier.triage("How much is shipping to Austria?");
        assert_eq!(t.locale, "en");
        let t = tier.triage("Ich möchte mit einem Mitarbeiter sprechen");
        assert_eq!(t.action, Action::Handoff);
        assert!(t.reasons.contains(&Reason::HumanRequested));
        let t = tier.triage("Wir brauchen ein Angebot für 500 Stück");
        assert_eq!(t.action, Action::Handoff);
        let t = tier.triage("Wie wird das Wetter morgen in Berlin?");
        assert_eq!(t.action, Action::Handoff, "{t:?}");
        assert!(t.reasons.contains(&Reason::LowConfidence));
    }

    #[test]
    fn json_has_the_contract_fields() {
        let tier = demo();
        let v = serde_json::to_value(tier.triage("Wo ist meine Bestellung?")).expect("json");
        for key in [
            "text",
            "intent",
            "confidence",
            "action",
            "reasons",
            "locale",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(v["reasons"].is_array());
    }

    #[test]
    fn a_handoff_keeps_the_best_guesses() {
        let tier = demo();
        let t = tier.triage("Wie wird das Wetter morgen in Berlin?");
        assert_eq!(t.action, Action::Handoff);
        let v = serde_json::to_value(&t).expect("json");
        let candidates = v["candidates"]
            .as_array()
            .expect("candidates even on handoff");
        assert!(!candidates.is_empty() && candidates.len() <= 3, "{v}");
        for c in candidates {
            assert!(
                c["intent"].is_string() && c["confidence"].is_number(),
                "{c}"
            );
        }
        let t = tier.triage("Wo ist mein Paket?");
        assert_eq!(
            t.candidates.first().map(|c| c.intent.as_str()),
            Some("order_status")
        );
        assert!(t
            .candidates
            .windows(2)
            .all(|w| w[0].confidence >= w[1].confidence));
    }

    #[test]
    fn similarity_sees_repetition() {
        let tier = demo();
        let a = "Wo ist meine Bestellung?";
        assert!(tier.similarity(a, "wo ist meine bestellung") > 0.9);
        assert!(tier.similarity(a, "Wo ist meine Bestelung??") > 0.6);
        assert!(tier.similarity(a, "Tell me a joke") < 0.2);
    }

    #[test]
    fn suggests_articles() {
        let tier = demo();
        let hits = tier.suggest_articles("Wie wasche ich Wolle?", 2);
        assert_eq!(
            hits.first().map(|h| h.id.as_str()),
            Some("care-instructions")
        );
    }
}
