//! The cascade: the fast path decides alone when it is sure; the optional encoder stage is
//! consulted only when it is not, or when the message's language is poorly covered.

use std::sync::Arc;

use crate::calibrate::{self, Calibrator, Outcome};
use crate::embedding::{EmbedError, Embedder};
use crate::features::{self, RawFeatures};
use crate::model::{ClassId, Core, LexicalModel, Prediction};
use crate::semantic::{self, Coverage, Fused, JointOutcome, SemanticCore, SemanticStage};

/// How many texts go to the encoder at once while training.
const EMBED_BATCH: usize = 32;

/// The trained intent models of one playbook.
pub struct Cascade {
    fast: LexicalModel,
    semantic: Option<SemanticStage>,
}

/// What training learned, for logs and `tandem eval`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CascadeReport {
    /// Fast-path confidence from which the encoder is not consulted (`None`: no encoder).
    pub sure: Option<f32>,
    /// The encoder stage's fusion weight of the fast path and its answer levels (fused, alone).
    pub lexical_weight: Option<f32>,
    pub answer_at: Option<(f32, f32)>,
}

/// The playbook's labelled examples.
pub struct Examples<'a> {
    pub texts: Vec<&'a str>,
    pub labels: Vec<ClassId>,
    pub classes: usize,
    pub oos_class: Option<ClassId>,
    /// The built-in background (see [`crate::background`]): negative evidence, never a class.
    pub background: Vec<crate::background::Line>,
    /// The intents' answer texts with their class: ranking evidence for the final models.
    pub answers: Vec<(&'a str, ClassId)>,
}

/// Embed many texts in batches, reporting progress as (done, total).
pub fn embed_all(
    embedder: &dyn Embedder,
    texts: &[&str],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(EMBED_BATCH) {
        let vecs = embedder.embed(chunk)?;
        if vecs.len() != chunk.len() {
            return Err(EmbedError(format!(
                "the encoder returned {} vectors for {} texts",
                vecs.len(),
                chunk.len()
            )));
        }
        out.extend(vecs);
        progress(out.len(), texts.len());
    }
    Ok(out)
}

impl Cascade {
    /// Train the fast path and, with an encoder, the encoder stage (one cross-validation serves
    /// both calibrations).
    pub fn train(
        examples: &Examples<'_>,
        encoder: Option<Arc<dyn Embedder>>,
        seed: u64,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(Cascade, CascadeReport), EmbedError> {
        let raws: Vec<RawFeatures> = examples
            .texts
            .iter()
            .map(|t| features::of_text(t))
            .collect();
        let refs: Vec<&RawFeatures> = raws.iter().collect();
        let background: Vec<RawFeatures> = examples
            .background
            .iter()
            .map(|l| features::of_text(l.text))
            .collect();
        let answers: Vec<(RawFeatures, ClassId)> = examples
            .answers
            .iter()
            .map(|(t, c)| (features::of_text(t), *c))
            .collect();
        let core = Core::fit_with_answers(
            &refs,
            &examples.labels,
            examples.classes,
            examples.oos_class,
            &background,
            &answers,
            seed,
        );
        let intents = examples.classes - usize::from(examples.oos_class.is_some());
        let per_intent = examples.texts.len() as f32 / intents.max(1) as f32;
        let own_calibration = per_intent >= calibrate::OWN_CALIBRATION_FROM;
        let Some(embedder) = encoder else {
            let calibrator = if own_calibration {
                calibrate::fit(&calibrate::cross_validate(
                    &raws,
                    &background,
                    &examples.labels,
                    examples.classes,
                    examples.oos_class,
                    seed,
                ))
            } else {
                Calibrator::shipped()
            };
            let fast = LexicalModel::new(core, calibrator);
            return Ok((
                Cascade {
                    fast,
                    semantic: None,
                },
                CascadeReport::default(),
            ));
        };
        let texts: Vec<&str> = examples
            .texts
            .iter()
            .copied()
            .chain(examples.background.iter().map(|l| l.text))
            .chain(examples.answers.iter().map(|a| a.0))
            .collect();
        let mut vecs = embed_all(embedder.as_ref(), &texts, progress)?;
        let answer_vecs = vecs.split_off(texts.len() - examples.answers.len());
        // A background category the encoder reads as the playbook's own business (in any
        // language: the lexical filter cannot see across them) is no negative for this playbook.
        let background_vecs = vecs.split_off(examples.texts.len());
        let own: Vec<&Vec<f32>> = vecs
            .iter()
            .zip(&examples.labels)
            .filter(|(_, &l)| Some(l) != examples.oos_class)
            .map(|(v, _)| v)
            .collect();
        let claimed = |i: usize| {
            own.iter().any(|e| {
                crate::embedding::cosine(e, &background_vecs[i]) >= semantic::BACKGROUND_KEEP_BELOW
            })
        };
        let kept = crate::background::without_claimed(examples.background.clone(), claimed);
        let background_vecs: Vec<f32> = examples
            .background
            .iter()
            .zip(&background_vecs)
            .filter(|(l, _)| kept.contains(l))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        let joint = joint_outcomes(&raws, &background, &vecs, examples, seed);
        // The lexical half of the joint outcomes is what `calibrate::cross_validate` computes
        // (the same splits, fits and seeds), so the fast path's calibration comes from it
        // instead of fitting every fold's lexical model a second time.
        let calibrator = if own_calibration {
            let lexical: Vec<Outcome> = joint.iter().map(|o| o.lexical.clone()).collect();
            calibrate::fit(&lexical)
        } else {
            Calibrator::shipped()
        };
        let semantic_calibrator =
            semantic::fit_calibrator(&joint, |o| calibrator.confidence(&o.evidence));
        let vec_refs: Vec<&[f32]> = vecs.iter().map(Vec::as_slice).collect();
        let answer_refs: Vec<(&[f32], ClassId)> = answer_vecs
            .iter()
            .zip(&examples.answers)
            .map(|(v, a)| (v.as_slice(), a.1))
            .collect();
        let semantic_core = SemanticCore::fit_with_answers(
            &vec_refs,
            &examples.labels,
            &answer_refs,
            examples.classes,
            seed,
        );
        let report = CascadeReport {
            sure: Some(semantic_calibrator.sure),
            lexical_weight: Some(semantic_calibrator.lexical_weight),
            answer_at: Some((
                semantic_calibrator.answer_at,
                semantic_calibrator.answer_alone_at,
            )),
        };
        let stage = SemanticStage {
            embedder,
            core: semantic_core,
            calibrator: semantic_calibrator,
            coverage: Coverage::of(examples.texts.iter().copied()),
            background: background_vecs,
            answers: examples
                .answers
                .iter()
                .map(|a| a.1)
                .zip(answer_vecs)
                .collect(),
        };
        Ok((
            Cascade {
                fast: LexicalModel::new(core, calibrator),
                semantic: Some(stage),
            },
            report,
        ))
    }

    pub fn has_encoder(&self) -> bool {
        self.semantic.is_some()
    }

    pub fn lexical_core(&self) -> &Core {
        self.fast.core()
    }

    /// Decide one text: the fast path, then the encoder stage when the fast path is unsure or
    /// cannot read the language. If the encoder fails, the fast path's answer stands.
    pub fn predict(&self, text: &str) -> Prediction {
        let evidence = self.fast.core().evidence(&features::of_text(text));
        let first = self.fast.judge(&evidence);
        let Some(stage) = &self.semantic else {
            return first;
        };
        let covered = stage.coverage.covers(text);
        if covered && first.confidence >= stage.calibrator.sure {
            return first;
        }
        match stage.predict(text, &evidence.probs, &first, covered) {
            Ok(p) => p,
            Err(_) => {
                let mut p = first;
                p.evidence.push(("encoder_failed", 1.0));
                p
            }
        }
    }
}

impl SemanticStage {
    fn predict(
        &self,
        text: &str,
        lexical_probs: &[f32],
        first: &Prediction,
        covered: bool,
    ) -> Result<Prediction, EmbedError> {
        let v = self
            .embedder
            .embed(&[text])?
            .into_iter()
            .next()
            .ok_or_else(|| EmbedError("the encoder returned no vector".into()))?;
        let sem = self.core.evidence(&v);
        let fused: Fused = if covered {
            semantic::fuse(
                Some((lexical_probs, first.top(), first.confidence)),
                &sem,
                self.calibrator.lexical_weight,
            )
        } else {
            semantic::fuse(None, &sem, self.calibrator.lexical_weight)
        };
        let alone = !covered;
        let answer_at = if alone {
            self.calibrator.answer_alone_at
        } else {
            self.calibrator.answer_at
        };
        let mut confidence = self.calibrator.confidence(&fused, alone);
        let mut pair_confidence = self.calibrator.pair_confidence(&fused, alone);
        // Nearer to a background line than to every example of its best intent: not this
        // business's question, however the softmax spreads its probability. Not across
        // languages: a German message is nearer any German line than the English examples
        // (cross-language cosines run lower), so there the calibration alone decides.
        let s_bg = self.nearest_background(&v);
        let s_answer = fused
            .ranked
            .first()
            .map_or(0.0, |r| self.nearest_answer(&v, r.0));
        let own = fused.s1.max(s_answer + semantic::ANSWER_COSINE_LIFT);
        if !alone && own < s_bg + semantic::BACKGROUND_MARGIN {
            confidence = confidence.min(answer_at * 0.99);
            pair_confidence = pair_confidence.min(answer_at * 0.99);
        }
        Ok(Prediction {
            confidence,
            pair_confidence,
            nearest: fused.s_any,
            closeness: if fused.c1 > 0.0 {
                (fused.c2 / fused.c1).min(1.0)
            } else {
                0.0
            },
            evidence: vec![
                ("lexical_confidence", first.confidence),
                ("c1", fused.c1),
                ("c2", fused.c2),
                ("encoder_s1", fused.s1),
                ("encoder_s2", fused.s2),
                ("encoder_s_any", fused.s_any),
                ("agree", if fused.agree { 1.0 } else { 0.0 }),
                ("encoder_background", s_bg),
                ("encoder_s_answer", s_answer),
            ],
            ranked: fused.ranked,
            stage: if alone { "encoder_alone" } else { "encoder" },
            answer_at,
        })
    }
}

/// Cross-validate both models on the same folds.
fn joint_outcomes(
    raws: &[RawFeatures],
    background: &[RawFeatures],
    vecs: &[Vec<f32>],
    examples: &Examples<'_>,
    seed: u64,
) -> Vec<JointOutcome> {
    let mut out = Vec::new();
    for split in calibrate::splits(&examples.labels, examples.classes, examples.oos_class, seed) {
        let fold_seed = seed.wrapping_add(split.fold as u64);
        let train_raw: Vec<&RawFeatures> = split.train.iter().map(|&i| &raws[i]).collect();
        let core = Core::fit(
            &train_raw,
            &split.train_labels,
            split.n_local,
            split.local_oos,
            background,
            fold_seed,
        );
        let train_vecs: Vec<&[f32]> = split.train.iter().map(|&i| vecs[i].as_slice()).collect();
        let sem = SemanticCore::fit(&train_vecs, &split.train_labels, split.n_local, fold_seed);
        for &i in &split.held_out {
            let truth = split.local[i];
            out.push(JointOutcome {
                lexical: Outcome::judge(core.evidence(&raws[i]), truth, split.local_oos),
                semantic: sem.evidence(&vecs[i]),
                truth: (truth != usize::MAX).then_some(truth),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A stand-in encoder for the decision logic only: words map to shared "concepts" across
    /// German and English through a small dictionary, like a multilingual encoder would.
    struct ConceptEncoder {
        calls: AtomicUsize,
    }

    const CONCEPTS: &[&[&str]] = &[
        &[
            "parcel",
            "paket",
            "package",
            "order",
            "bestellung",
            "delivery",
            "lieferung",
        ],
        &[
            "where",
            "wo",
            "when",
            "wann",
            "status",
            "track",
            "verfolgen",
        ],
        &[
            "pay", "payment", "bezahlen", "zahlung", "invoice", "rechnung", "paypal",
        ],
        &[
            "return",
            "retoure",
            "zurucksenden",
            "send",
            "back",
            "refund",
            "erstattung",
        ],
        &[
            "open",
            "hours",
            "offnungszeiten",
            "geoffnet",
            "shop",
            "laden",
            "store",
        ],
        &["weather", "wetter", "joke", "witz", "football", "fussball"],
    ];

    impl Embedder for ConceptEncoder {
        fn dim(&self) -> usize {
            CONCEPTS.len() + 2
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.calls.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts
                .iter()
                .map(|t| {
                    let mut v = vec![0f32; self.dim()];
                    v[CONCEPTS.len() + 1] = 0.5; // a shared component, as real encoders have
                    for tok in crate::normalize::tokens(t) {
                        match CONCEPTS.iter().position(|c| c.contains(&tok.as_str())) {
                            Some(c) => v[c] += 1.0,
                            None => v[CONCEPTS.len()] += 0.2,
                        }
                    }
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.iter().map(|x| x / n).collect()
                })
                .collect())
        }
    }

    fn playbook_examples() -> (Vec<&'static str>, Vec<ClassId>) {
        let intents: [&[&str]; 4] = [
            &[
                "where is my parcel",
                "when will my order arrive",
                "track my package",
                "status of my delivery",
                "where is my order",
                "has my parcel shipped yet",
            ],
            &[
                "how can I pay",
                "can I pay with paypal",
                "payment options",
                "I need an invoice",
                "which payment methods do you accept",
                "pay by invoice",
            ],
            &[
                "how do I return this",
                "I want to send it back",
                "return my order",
                "how do I get a refund",
                "return policy",
                "can I send the shoes back",
            ],
            &[
                "when are you open",
                "opening hours",
                "is the store open on sunday",
                "shop hours",
                "what time does the shop open",
                "are you open today",
            ],
        ];
        let mut texts = Vec::new();
        let mut labels = Vec::new();
        for (c, ex) in intents.iter().enumerate() {
            for e in ex.iter() {
                texts.push(*e);
                labels.push(c);
            }
        }
        (texts, labels)
    }

    fn examples() -> Examples<'static> {
        let (texts, labels) = playbook_examples();
        Examples {
            texts,
            labels,
            classes: 4,
            oos_class: None,
            background: Vec::new(),
            answers: Vec::new(),
        }
    }

    #[test]
    fn the_joint_outcomes_hold_the_fast_path_s_cross_validation() {
        let ex = examples();
        let raws: Vec<RawFeatures> = ex.texts.iter().map(|t| features::of_text(t)).collect();
        let vecs = concepts().embed(&ex.texts).expect("embeds");
        let joint = joint_outcomes(&raws, &[], &vecs, &ex, 7);
        let lexical =
            calibrate::cross_validate(&raws, &[], &ex.labels, ex.classes, ex.oos_class, 7);
        assert!(!lexical.is_empty());
        let from_joint: Vec<&Outcome> = joint.iter().map(|o| &o.lexical).collect();
        assert_eq!(format!("{from_joint:?}"), format!("{lexical:?}"));
    }

    fn concepts() -> Arc<ConceptEncoder> {
        Arc::new(ConceptEncoder {
            calls: AtomicUsize::new(0),
        })
    }

    fn trained(encoder: Option<Arc<ConceptEncoder>>) -> Cascade {
        let enc = encoder.map(|e| e as Arc<dyn Embedder>);
        Cascade::train(&examples(), enc, 11, &mut |_, _| {})
            .expect("trains")
            .0
    }

    #[test]
    fn without_an_encoder_the_fast_path_decides() {
        let c = trained(None);
        assert!(!c.has_encoder());
        let p = c.predict("where is my parcel");
        assert_eq!(p.stage, "lexical");
        assert_eq!(p.top(), Some(0));
    }

    #[test]
    fn a_sure_fast_path_never_calls_the_encoder() {
        let enc = concepts();
        let c = trained(Some(enc.clone()));
        let trained_calls = enc.calls.load(Ordering::SeqCst);
        assert_eq!(
            trained_calls, 24,
            "every example embedded once while training"
        );
        let p = c.predict("where is my parcel");
        if p.stage == "lexical" {
            assert_eq!(enc.calls.load(Ordering::SeqCst), trained_calls);
        }
        assert_eq!(p.top(), Some(0));
        // an exact training example in the covered language is as sure as the fast path gets
        let sure = c
            .semantic
            .as_ref()
            .map(|s| s.calibrator.sure)
            .unwrap_or(1.0);
        let first = c.fast.judge(
            &c.fast
                .core()
                .evidence(&features::of_text("where is my parcel")),
        );
        assert_eq!(first.confidence >= sure, p.stage == "lexical");
    }

    #[test]
    fn another_language_goes_to_the_encoder_alone() {
        let enc = concepts();
        let c = trained(Some(enc.clone()));
        let before = enc.calls.load(Ordering::SeqCst);
        let p = c.predict("Wo ist mein Paket? Ich warte auf die Lieferung");
        assert_eq!(enc.calls.load(Ordering::SeqCst), before + 1);
        assert_eq!(p.stage, "encoder_alone");
        assert_eq!(p.top(), Some(0), "{p:?}");
        let p = c.predict("Wie kann ich die Rechnung bezahlen, geht PayPal?");
        assert_eq!(p.top(), Some(1), "{p:?}");
    }

    #[test]
    fn an_unsure_fast_path_consults_the_encoder() {
        let enc = concepts();
        let c = trained(Some(enc.clone()));
        // English, but worded unlike any example: only the concepts carry it
        let p = c.predict("refund");
        let first = c
            .fast
            .judge(&c.fast.core().evidence(&features::of_text("refund")));
        let sure = c
            .semantic
            .as_ref()
            .map(|s| s.calibrator.sure)
            .unwrap_or(1.0);
        if first.confidence < sure {
            assert_eq!(p.stage, "encoder");
        }
        assert_eq!(p.top(), Some(2), "{p:?}");
    }

    struct Broken;
    impl Embedder for Broken {
        fn dim(&self) -> usize {
            3
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            if texts.len() > 1 || texts.first().is_some_and(|t| t.contains("x")) {
                // training batches work; single messages with an x fail
                if texts.iter().any(|t| t.contains("xyz")) {
                    return Err(EmbedError("boom".into()));
                }
            }
            Ok(texts.iter().map(|_| vec![0.6, 0.8, 0.0]).collect())
        }
    }

    #[test]
    fn an_encoder_failure_leaves_the_fast_path_answer() {
        let (texts, labels) = playbook_examples();
        let examples = Examples {
            texts,
            labels,
            classes: 4,
            oos_class: None,
            background: Vec::new(),
            answers: Vec::new(),
        };
        let (c, _) =
            Cascade::train(&examples, Some(Arc::new(Broken)), 3, &mut |_, _| {}).expect("trains");
        let p = c.predict("xyz wetter");
        assert_eq!(p.stage, "lexical");
        assert!(p.evidence.iter().any(|e| e.0 == "encoder_failed"), "{p:?}");
    }

    #[test]
    fn training_reports_progress() {
        let mut seen = Vec::new();
        Cascade::train(&examples(), Some(concepts()), 3, &mut |d, t| {
            seen.push((d, t))
        })
        .expect("trains");
        assert_eq!(seen.last(), Some(&(24, 24)));
    }
}
