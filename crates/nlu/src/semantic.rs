//! The encoder stage: intent evidence from a multilingual sentence encoder.
//!
//! The lexical fast path decides alone when it is sure. When it is not, or when the message is
//! written in a language the playbook's examples barely cover, this stage embeds the message,
//! scores every class with a softmax classifier and the nearest example on the encoder's vectors,
//! averages that with the lexical probabilities (or, across languages, uses it alone) and
//! calibrates the result. Everything is learned from the playbook: the classifier from its
//! examples, the calibration and the "fast path is sure" level from the same cross-validation
//! that calibrates the fast path (whole intents held out as pseudo out-of-scope).

use std::collections::HashSet;
use std::sync::Arc;

use crate::calibrate::{self, dotn, sigmoid, Outcome};
use crate::embedding::{cosine, Embedder};
use crate::model::{ClassId, Rng};

/// The fast path counts as sure once its answers at that confidence were right this often in
/// cross-validation (weighted with the assumed out-of-scope share).
const FAST_PATH_PRECISION: f32 = 0.97;
/// A language with less than this share of the playbook's examples is poorly covered: the
/// lexical model cannot read it, so the encoder decides alone.
const COVERED_SHARE: f32 = 0.2;
const EPOCH_UPDATES: usize = 240_000;
/// The encoder stage hands at least this share of cross-validation's pseudo-out-of-scope
/// questions (whole intents held out) to a person: its answer level is where they reach it,
/// capped at the even-odds level. Held-out intents resemble the playbook's own far more than
/// real off-topic questions do, so real out-of-scope recall runs well above this (0.78 on
/// CLINC150's validation split, where 0.5 was chosen over 0.6/0.7/0.75; never on a test set).
const HANDOFF_RECALL_TARGET: f32 = 0.5;
/// Weights of the fast path's probabilities tried when fusing; cross-validation picks one.
const LEXICAL_WEIGHTS: [f32; 4] = [0.0, 0.2, 0.35, 0.5];

/// Softmax classifier and nearest examples over encoder vectors.
#[derive(Debug, Clone)]
pub struct SemanticCore {
    classes: usize,
    dim: usize,
    /// Mean of the training vectors; vectors are centred before scoring (e5's vectors share a
    /// large common component).
    mean: Vec<f32>,
    /// Class-major weights: `weights[class * dim + i]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Training vectors (uncentred unit vectors, `dim` each) and their classes.
    examples: Vec<f32>,
    labels: Vec<ClassId>,
}

/// What the encoder sees in one text.
#[derive(Debug, Clone)]
pub struct SemanticEvidence {
    /// Class probabilities from the classifier (all classes).
    pub probs: Vec<f32>,
    /// Highest cosine to a training example, per class.
    pub sims: Vec<f32>,
}

impl SemanticEvidence {
    pub fn nearest(&self) -> f32 {
        self.sims.iter().copied().fold(0.0, f32::max)
    }
}

fn centred(v: &[f32], mean: &[f32]) -> Vec<f32> {
    let mut out: Vec<f32> = v.iter().zip(mean).map(|(a, m)| a - m).collect();
    let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        out.iter_mut().for_each(|x| *x /= norm);
    }
    out
}

fn softmax_in_place(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    if sum > 0.0 {
        z.iter_mut().for_each(|v| *v /= sum);
    }
}

impl SemanticCore {
    /// Train on unit vectors `xs` with classes `ys` (every class in `0..classes`).
    pub fn fit(xs: &[&[f32]], ys: &[ClassId], classes: usize, seed: u64) -> Self {
        Self::fit_with_answers(xs, ys, &[], classes, seed)
    }

    /// [`SemanticCore::fit`], with the intents' answers as ranking evidence: the softmax
    /// regression learns from them too, the nearest-example similarities stay the examples'.
    pub fn fit_with_answers(
        examples: &[&[f32]],
        example_ys: &[ClassId],
        answers: &[(&[f32], ClassId)],
        classes: usize,
        seed: u64,
    ) -> Self {
        let mut xs: Vec<&[f32]> = examples.to_vec();
        let mut ys: Vec<ClassId> = example_ys.to_vec();
        for (x, y) in answers {
            xs.push(x);
            ys.push(*y);
        }
        let dim = xs.first().map_or(0, |x| x.len());
        let mut mean = vec![0f32; dim];
        for x in &xs {
            for (m, v) in mean.iter_mut().zip(x.iter()) {
                *m += v;
            }
        }
        if !xs.is_empty() {
            mean.iter_mut().for_each(|m| *m /= xs.len() as f32);
        }
        let centred_xs: Vec<Vec<f32>> = xs.iter().map(|x| centred(x, &mean)).collect();
        let mut weights = vec![0f32; classes * dim];
        let mut bias = vec![0f32; classes];
        let epochs = (EPOCH_UPDATES / xs.len().max(1)).clamp(8, 60);
        let mut order: Vec<usize> = (0..xs.len()).collect();
        let mut rng = Rng::new(seed ^ 0x5e3a_u64);
        let mut z = vec![0f32; classes];
        const L2: f32 = 1e-4;
        // Centred unit vectors are well scaled; a large rate with decay converges in few epochs.
        for epoch in 0..epochs {
            rng.shuffle(&mut order);
            let lr = 2.0 / (1.0 + epoch as f32 * 0.5);
            for &i in &order {
                let x = &centred_xs[i];
                for c in 0..classes {
                    let w = &weights[c * dim..(c + 1) * dim];
                    z[c] = bias[c] + w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>();
                }
                softmax_in_place(&mut z);
                for c in 0..classes {
                    let g = z[c] - if c == ys[i] { 1.0 } else { 0.0 };
                    if g.abs() < 1e-4 {
                        continue;
                    }
                    let w = &mut weights[c * dim..(c + 1) * dim];
                    for (wi, xi) in w.iter_mut().zip(x) {
                        *wi -= lr * (g * xi + L2 * *wi);
                    }
                    bias[c] -= lr * g;
                }
            }
        }
        SemanticCore {
            classes,
            dim,
            mean,
            weights,
            bias,
            examples: examples.iter().flat_map(|x| x.iter().copied()).collect(),
            labels: example_ys.to_vec(),
        }
    }

    pub fn evidence(&self, v: &[f32]) -> SemanticEvidence {
        let x = centred(v, &self.mean);
        let mut probs: Vec<f32> = (0..self.classes)
            .map(|c| {
                let w = &self.weights[c * self.dim..(c + 1) * self.dim];
                self.bias[c] + w.iter().zip(&x).map(|(a, b)| a * b).sum::<f32>()
            })
            .collect();
        softmax_in_place(&mut probs);
        let mut sims = vec![0f32; self.classes];
        if self.dim > 0 {
            for (example, &label) in self.examples.chunks_exact(self.dim).zip(&self.labels) {
                let s = cosine(example, v);
                if s > sims[label] {
                    sims[label] = s;
                }
            }
        }
        SemanticEvidence { probs, sims }
    }
}

/// Combined (or encoder-alone) evidence about one text, ready for calibration.
#[derive(Debug, Clone)]
pub struct Fused {
    /// Classes best first with their fused probability (top few).
    pub ranked: Vec<(ClassId, f32)>,
    pub c1: f32,
    pub c2: f32,
    /// Encoder: nearest-example cosine within the best and second class, and over all classes.
    pub s1: f32,
    pub s2: f32,
    pub s_any: f32,
    /// Calibrated confidence of the fast path (0 when the language is not covered).
    pub lexical: f32,
    /// The fast path's best class agrees with the fused best class.
    pub agree: bool,
}

/// Mix the lexical and encoder probabilities (`lexical == None`: the encoder alone).
pub fn fuse(
    lexical: Option<(&[f32], Option<ClassId>, f32)>,
    semantic: &SemanticEvidence,
    lexical_weight: f32,
) -> Fused {
    let fused: Vec<f32> = match lexical {
        Some((probs, _, _)) => probs
            .iter()
            .zip(&semantic.probs)
            .map(|(a, b)| lexical_weight * a + (1.0 - lexical_weight) * b)
            .collect(),
        None => semantic.probs.clone(),
    };
    let mut ranked: Vec<(ClassId, f32)> = fused.iter().copied().enumerate().collect();
    ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(4);
    let class = |i: usize| ranked.get(i).map(|r| r.0);
    let sim = |i: usize| class(i).map_or(0.0, |c| semantic.sims[c]);
    Fused {
        c1: ranked.first().map_or(0.0, |r| r.1),
        c2: ranked.get(1).map_or(0.0, |r| r.1),
        s1: sim(0),
        s2: sim(1),
        s_any: semantic.nearest(),
        lexical: lexical.map_or(0.0, |l| l.2),
        agree: lexical.is_some_and(|l| l.1.is_some() && l.1 == class(0)),
        ranked,
    }
}

const FUSED_DIM: usize = 7;
const FUSED_PAIR_DIM: usize = 4;
const ALONE_DIM: usize = 4;
const ALONE_PAIR_DIM: usize = 3;

fn fused_features(f: &Fused) -> [f32; FUSED_DIM] {
    [
        f.c1,
        f.c1 - f.c2,
        f.s1,
        f.s_any,
        f.lexical,
        if f.agree { 1.0 } else { 0.0 },
        1.0,
    ]
}
fn fused_pair_features(f: &Fused) -> [f32; FUSED_PAIR_DIM] {
    [f.c1 + f.c2, f.s1.max(f.s2), f.lexical, 1.0]
}
/// Across languages the encoder's cosines run lower than within one (a known trait of
/// multilingual encoders), and the calibration data is all in the playbook's languages: so the
/// encoder-alone calibration sees only relative evidence, never absolute cosine levels.
fn alone_features(f: &Fused) -> [f32; ALONE_DIM] {
    [f.c1, f.c1 - f.c2, f.s1 - f.s2, 1.0]
}
fn alone_pair_features(f: &Fused) -> [f32; ALONE_PAIR_DIM] {
    [f.c1 + f.c2, f.c2, 1.0]
}

/// Calibration of the fused evidence, and the level from which the fast path decides alone.
#[derive(Debug, Clone)]
pub struct SemanticCalibrator {
    fused: [f32; FUSED_DIM],
    fused_pair: [f32; FUSED_PAIR_DIM],
    alone: [f32; ALONE_DIM],
    alone_pair: [f32; ALONE_PAIR_DIM],
    /// Lexical confidence at and above which the encoder is not consulted.
    pub sure: f32,
    /// Share of the fast path's probabilities in the fused ones.
    pub lexical_weight: f32,
    /// Confidence from which the fused / encoder-alone prediction answers.
    pub answer_at: f32,
    pub answer_alone_at: f32,
}

impl SemanticCalibrator {
    /// For playbooks too small to cross-validate: trust the fused probability and similarity.
    pub fn prior() -> Self {
        SemanticCalibrator {
            fused: [4.0, 2.0, 6.0, 0.0, 2.0, 1.0, -8.0],
            fused_pair: [4.0, 6.0, 2.0, -8.0],
            alone: [4.0, 2.0, 4.0, -2.5],
            alone_pair: [4.0, 0.0, -2.5],
            sure: 0.9,
            lexical_weight: 0.35,
            answer_at: calibrate::ANSWER_THRESHOLD,
            answer_alone_at: calibrate::ANSWER_THRESHOLD,
        }
    }

    pub fn confidence(&self, f: &Fused, alone: bool) -> f32 {
        if f.ranked.is_empty() {
            return 0.0;
        }
        if alone {
            sigmoid(dotn(&self.alone, &alone_features(f)))
        } else {
            sigmoid(dotn(&self.fused, &fused_features(f)))
        }
    }

    pub fn pair_confidence(&self, f: &Fused, alone: bool) -> f32 {
        if f.ranked.len() < 2 {
            return self.confidence(f, alone);
        }
        if alone {
            sigmoid(dotn(&self.alone_pair, &alone_pair_features(f)))
        } else {
            sigmoid(dotn(&self.fused_pair, &fused_pair_features(f)))
        }
    }
}

/// One held-out example seen by both models during cross-validation.
#[derive(Debug, Clone)]
pub struct JointOutcome {
    pub lexical: Outcome,
    pub semantic: SemanticEvidence,
    /// The true class in the fold's local numbering (`None`: unknown to the fold's models).
    pub truth: Option<ClassId>,
}

/// Fit the fused calibrators and the fast path's "sure" level on joint outcomes, given the
/// fast path's fitted calibrator.
pub fn fit_calibrator<'a>(
    outcomes: &'a [JointOutcome],
    lexical_confidence: impl Fn(&Outcome) -> f32,
) -> SemanticCalibrator {
    let prior = SemanticCalibrator::prior();
    let n_in = outcomes.iter().filter(|o| o.lexical.in_scope).count();
    if n_in < 4 {
        return prior;
    }
    let weight = calibrate::outcome_weight(outcomes.iter().map(|o| &o.lexical));
    let lexical_confidences: Vec<f32> = outcomes
        .iter()
        .map(|o| lexical_confidence(&o.lexical))
        .collect();
    // The fast path's view of an outcome, as `fuse` takes it (borrowed, never copied).
    let lex = |o: &'a JointOutcome, lc: f32| {
        let top = o.lexical.evidence.ranked.first().map(|r| r.0);
        (o.lexical.evidence.probs.as_slice(), top, lc)
    };
    // The fusion weight that ranks the right intent first most often in cross-validation.
    let lexical_weight = LEXICAL_WEIGHTS
        .iter()
        .copied()
        .map(|w| {
            let right: f32 = outcomes
                .iter()
                .zip(&lexical_confidences)
                .filter(|(o, _)| o.lexical.in_scope)
                .filter(|(o, lc)| {
                    let f = fuse(Some(lex(o, **lc)), &o.semantic, w);
                    o.truth == f.ranked.first().map(|r| r.0)
                })
                .count() as f32;
            (w, right)
        })
        .fold(
            (0.35f32, -1.0f32),
            |best, (w, r)| if r > best.1 { (w, r) } else { best },
        );
    let lexical_weight = lexical_weight.0;
    let mut fused = Vec::new();
    let mut fused_pair = Vec::new();
    let mut alone = Vec::new();
    let mut alone_pair = Vec::new();
    let mut sure_points = Vec::new();
    let mut joints = Vec::new();
    for (o, &lc) in outcomes.iter().zip(&lexical_confidences) {
        let w = weight(&o.lexical);
        let joint = fuse(Some(lex(o, lc)), &o.semantic, lexical_weight);
        let solo = fuse(None, &o.semantic, lexical_weight);
        let right = |f: &Fused, k: usize| {
            let hit = o
                .truth
                .is_some_and(|t| f.ranked.iter().take(k).any(|r| r.0 == t));
            if hit && o.lexical.in_scope {
                1.0
            } else {
                0.0
            }
        };
        fused.push((fused_features(&joint), right(&joint, 1), w));
        fused_pair.push((fused_pair_features(&joint), right(&joint, 2), w));
        alone.push((alone_features(&solo), right(&solo, 1), w));
        alone_pair.push((alone_pair_features(&solo), right(&solo, 2), w));
        sure_points.push((lc, o.lexical.top1_right, w));
        joints.push((joint, solo, o.lexical.in_scope));
    }
    let sure = sure_level(&mut sure_points);
    let (Some(fused), Some(fused_pair), Some(alone), Some(alone_pair)) = (
        calibrate::logistic_signed(&fused, [1, 1, 1, 1, 1, 1, 0]),
        calibrate::logistic_signed(&fused_pair, [1, 1, 1, 0]),
        calibrate::logistic_signed(&alone, [1, 1, 1, 0]),
        calibrate::logistic_signed(&alone_pair, [1, 0, 0]),
    ) else {
        return SemanticCalibrator {
            sure,
            lexical_weight,
            ..prior
        };
    };
    let mut cal = SemanticCalibrator {
        fused,
        fused_pair,
        alone,
        alone_pair,
        sure,
        lexical_weight,
        answer_at: calibrate::ANSWER_THRESHOLD,
        answer_alone_at: calibrate::ANSWER_THRESHOLD,
    };
    let uncovered: Vec<(f32, f32)> = joints
        .iter()
        .filter(|j| !j.2)
        .map(|(joint, solo, _)| (cal.confidence(joint, false), cal.confidence(solo, true)))
        .collect();
    cal.answer_at = answer_level(uncovered.iter().map(|u| u.0).collect());
    cal.answer_alone_at = answer_level(uncovered.iter().map(|u| u.1).collect());
    cal
}

/// The confidence below which [`HANDOFF_RECALL_TARGET`] of the pseudo-out-of-scope questions
/// fall, at most the even-odds level.
fn answer_level(mut uncovered: Vec<f32>) -> f32 {
    if uncovered.len() < 10 {
        return calibrate::ANSWER_THRESHOLD;
    }
    uncovered.sort_unstable_by(f32::total_cmp);
    let k = ((uncovered.len() as f32 * HANDOFF_RECALL_TARGET).ceil() as usize)
        .min(uncovered.len() - 1)
        .max(1);
    // Just above the k-th lowest: that many are handed off.
    (uncovered[k - 1] + 1e-6).min(calibrate::ANSWER_THRESHOLD)
}

/// The lowest lexical confidence from which the fast path's answers were right at least
/// [`FAST_PATH_PRECISION`] of the (weighted) time, scanning from the top; 1.0 (always consult)
/// when even the most confident answers miss that.
fn sure_level(points: &mut [(f32, bool, f32)]) -> f32 {
    points.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (mut right, mut total) = (0f32, 0f32);
    let mut level = 1.0f32;
    let min_support: f32 = points.iter().map(|p| p.2).sum::<f32>() * 0.02;
    for &(conf, ok, w) in points.iter() {
        total += w;
        if ok {
            right += w;
        }
        if total >= min_support && right / total >= FAST_PATH_PRECISION {
            level = conf;
        } else if total >= min_support {
            break;
        }
    }
    level.max(calibrate::ANSWER_THRESHOLD)
}

/// Which languages the playbook's examples are written in, as shares, and the words they use.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    shares: Vec<(&'static str, f32)>,
    words: HashSet<String>,
}

/// A message whose language cannot be told is covered when at least this share of its words
/// occur in the examples: below it the lexical model has too little to read.
const KNOWN_WORDS_SHARE: f32 = 0.5;

impl Coverage {
    pub fn of<'a>(examples: impl Iterator<Item = &'a str>) -> Self {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        let mut total = 0usize;
        let mut words = HashSet::new();
        for e in examples {
            words.extend(crate::normalize::tokens(e));
            if let Some(l) = crate::locale::guess(e) {
                total += 1;
                match counts.iter_mut().find(|c| c.0 == l) {
                    Some(c) => c.1 += 1,
                    None => counts.push((l, 1)),
                }
            }
        }
        Coverage {
            shares: counts
                .into_iter()
                .map(|(l, n)| (l, n as f32 / total.max(1) as f32))
                .collect(),
            words,
        }
    }

    /// `false` when `text` is recognisably in a language the examples barely use, or (when
    /// its language cannot be told) when most of its words never occur in the examples.
    pub fn covers(&self, text: &str) -> bool {
        if self.shares.is_empty() {
            return true;
        }
        match crate::locale::guess(text) {
            Some(l) => self
                .shares
                .iter()
                .any(|(sl, share)| *sl == l && *share >= COVERED_SHARE),
            None => {
                let tokens = crate::normalize::tokens(text);
                if tokens.len() < 2 {
                    return true;
                }
                let known = tokens.iter().filter(|t| self.words.contains(*t)).count();
                known as f32 >= KNOWN_WORDS_SHARE * tokens.len() as f32
            }
        }
    }
}

/// The trained encoder stage for one playbook.
pub struct SemanticStage {
    pub embedder: Arc<dyn Embedder>,
    pub core: SemanticCore,
    pub calibrator: SemanticCalibrator,
    pub coverage: Coverage,
    /// The built-in background's vectors (`dim` each), as in [`crate::background`].
    pub background: Vec<f32>,
    /// The intents' answer vectors with their class.
    pub answers: Vec<(ClassId, Vec<f32>)>,
}

/// The encoder stage hands off a message whose nearest background line is more than this much
/// nearer (in cosine) than the nearest example of its best intent. Chosen on the development
/// fixtures among -0.07, -0.04, -0.02 and 0 (docs/benchmarks.md): 0 handed off a tenth of the
/// right answers, -0.04 let a quarter of one fixture's off-topic questions through.
pub const BACKGROUND_MARGIN: f32 = -0.02;
/// A background line whose encoder cosine to one of the playbook's intent examples reaches this
/// is dropped for that playbook (a German "Wann haben Sie geöffnet?" of another shop against an
/// English "When are you open?").
pub const BACKGROUND_KEEP_BELOW: f32 = 0.91;
/// A message near its best intent's answer is near that intent, though none of its examples
/// says what the answer does ("Mit welcher Straßenbahn komme ich zu euch?"). A question's cosine
/// to a passage runs lower than to another question, so the answer's is lifted by this much
/// before the background rule compares. Chosen on the development fixtures among 0.02 and 0.04:
/// 0.02 kept ten right answers the rule had refused and let one off-topic question more
/// past it; 0.04 kept nineteen and let six more past.
pub const ANSWER_COSINE_LIFT: f32 = 0.02;

impl SemanticStage {
    /// The highest cosine of `v` to one of `class`'s answers (0 without one).
    pub fn nearest_answer(&self, v: &[f32], class: ClassId) -> f32 {
        self.answers
            .iter()
            .filter(|(c, _)| *c == class)
            .map(|(_, a)| cosine(a, v))
            .fold(0.0, f32::max)
    }

    /// The highest cosine of `v` to a background line (0 without a background).
    pub fn nearest_background(&self, v: &[f32]) -> f32 {
        if v.is_empty() {
            return 0.0;
        }
        self.background
            .chunks_exact(v.len())
            .map(|b| cosine(b, v))
            .fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn classifier_separates_clusters() {
        let xs: Vec<Vec<f32>> = vec![
            unit(&[1.0, 0.1, 0.0, 0.3]),
            unit(&[0.9, 0.0, 0.1, 0.3]),
            unit(&[0.0, 1.0, 0.1, 0.3]),
            unit(&[0.1, 0.9, 0.0, 0.3]),
            unit(&[0.0, 0.1, 1.0, 0.3]),
            unit(&[0.1, 0.0, 0.9, 0.3]),
        ];
        let refs: Vec<&[f32]> = xs.iter().map(|x| x.as_slice()).collect();
        let core = SemanticCore::fit(&refs, &[0, 0, 1, 1, 2, 2], 3, 7);
        let ev = core.evidence(&unit(&[0.05, 0.95, 0.05, 0.3]));
        let best = (0..3).max_by(|&a, &b| ev.probs[a].total_cmp(&ev.probs[b]));
        assert_eq!(best, Some(1), "{:?}", ev.probs);
        assert!(ev.probs[1] > 0.6, "{:?}", ev.probs);
        assert!(ev.sims[1] > 0.95 && ev.sims[0] < ev.sims[1]);
        let total: f32 = ev.probs.iter().sum();
        assert!((total - 1.0).abs() < 1e-4);
    }

    #[test]
    fn fusion_averages_and_reports_agreement() {
        let sem = SemanticEvidence {
            probs: vec![0.1, 0.8, 0.1],
            sims: vec![0.2, 0.9, 0.3],
        };
        let lex = [0.6, 0.3, 0.1];
        let f = fuse(Some((&lex, Some(0), 0.4)), &sem, 0.5);
        assert_eq!(f.ranked[0].0, 1);
        assert!((f.c1 - 0.55).abs() < 1e-6);
        assert!(!f.agree);
        assert!((f.s1 - 0.9).abs() < 1e-6 && (f.s_any - 0.9).abs() < 1e-6);
        let alone = fuse(None, &sem, 0.5);
        assert!((alone.c1 - 0.8).abs() < 1e-6);
        assert_eq!(alone.lexical, 0.0);
    }

    #[test]
    fn sure_level_is_where_precision_holds() {
        // 0.95..0.90 all right, below that half wrong
        let mut pts: Vec<(f32, bool, f32)> = (0..50)
            .map(|i| (0.95 - i as f32 * 0.001, true, 1.0))
            .chain((0..50).map(|i| (0.6 - i as f32 * 0.001, i % 2 == 0, 1.0)))
            .collect();
        let level = sure_level(&mut pts);
        assert!(level > 0.59 && level <= 0.951, "{level}");
        let mut bad: Vec<(f32, bool, f32)> = (0..100).map(|i| (0.9, i % 3 == 0, 1.0)).collect();
        assert_eq!(sure_level(&mut bad), 1.0);
    }

    #[test]
    fn coverage_sees_the_language() {
        let examples = ["where is my parcel", "how do I pay", "can I return this"];
        let cov = Coverage::of(examples.iter().copied());
        assert!(cov.covers("where is my order"));
        assert!(!cov.covers("Wo ist meine Bestellung, ich warte schon lange"));
        assert!(
            cov.covers("Paket"),
            "a single unknown word counts as covered"
        );
        assert!(
            cov.covers("parcel pay"),
            "known words of an unsure language are covered"
        );
        assert!(
            !cov.covers("Zeige Erinnerungen"),
            "unknown words of an unsure language are not"
        );
    }
}
