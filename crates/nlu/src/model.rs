//! The intent model: which of the playbook's intents a text asks for, and how sure we are.
//!
//! The fast path: [`LexicalModel`] (TF-IDF features, a softmax linear classifier and
//! nearest-example similarity, calibrated on the playbook) always runs first; the
//! [`crate::cascade::Cascade`] consults the optional encoder stage only when it is unsure.

use crate::calibrate::Calibrator;
use crate::features::{HashKeyed, RawFeatures, SparseVec, Vectorizer};

/// Index of a class: the playbook's intents in order, then optionally the out-of-scope class.
pub type ClassId = usize;

/// What an intent model says about one text.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Classes with their (uncalibrated) probability, best first; at most a handful.
    pub ranked: Vec<(ClassId, f32)>,
    /// Calibrated probability that answering with `ranked[0]` is right (in scope and the right
    /// intent).
    pub confidence: f32,
    /// Calibrated probability that the right intent is one of the first two.
    pub pair_confidence: f32,
    /// Cosine similarity to the nearest training example of any class (0..1).
    pub nearest: f32,
    /// Probability of the runner-up relative to the best intent (0..1): near 1 is a tie.
    pub closeness: f32,
    /// The raw evidence behind the confidence, by name (for diagnostics).
    pub evidence: Vec<(&'static str, f32)>,
    /// Which stage decided: `lexical`, `encoder` (fused with the fast path) or `encoder_alone`
    /// (a language the playbook's examples barely cover).
    pub stage: &'static str,
    /// The confidence from which this stage's answer is given (see `semantic` for the encoder's).
    pub answer_at: f32,
}

impl Prediction {
    /// `true` when the stage would not answer on its own.
    pub fn is_unsure(&self) -> bool {
        self.confidence < self.answer_at
    }

    pub fn top(&self) -> Option<ClassId> {
        self.ranked.first().map(|r| r.0)
    }
}

/// Softmax linear classifier over sparse features; weights are stored feature-major
/// (`weights[feature * classes + class]`) so scoring touches one contiguous row per feature.
#[derive(Debug, Clone)]
pub struct Linear {
    classes: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// Deterministic pseudo-random numbers (SplitMix64) for shuffling.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

const EPOCHS: usize = 12;
const LEARNING_RATE: f32 = 1.5;
/// Updates whose gradient is below this are skipped (most classes, once the model is fitted).
const GRADIENT_FLOOR: f32 = 1e-4;

impl Linear {
    /// Train by stochastic gradient descent on the cross-entropy.
    pub fn train(xs: &[SparseVec], ys: &[ClassId], dim: usize, classes: usize, seed: u64) -> Self {
        let mut model = Linear {
            classes,
            weights: vec![0.0; dim * classes],
            bias: vec![0.0; classes],
        };
        if classes < 2 || xs.is_empty() {
            return model;
        }
        let mut order: Vec<usize> = (0..xs.len()).collect();
        let mut rng = Rng::new(seed);
        let mut probs = vec![0.0f32; classes];
        let total = (EPOCHS * xs.len()) as f32;
        let mut step = 0usize;
        for _ in 0..EPOCHS {
            rng.shuffle(&mut order);
            for &i in &order {
                let lr = LEARNING_RATE / (1.0 + 4.0 * step as f32 / total);
                step += 1;
                model.probabilities_into(&xs[i], &mut probs);
                for (c, p) in probs.iter_mut().enumerate() {
                    let g = *p - if c == ys[i] { 1.0 } else { 0.0 };
                    *p = g;
                }
                for (b, g) in model.bias.iter_mut().zip(probs.iter()) {
                    if g.abs() >= GRADIENT_FLOOR {
                        *b -= lr * g * 0.1;
                    }
                }
                for &(f, v) in &xs[i] {
                    let row = &mut model.weights[f as usize * classes..(f as usize + 1) * classes];
                    for (w, g) in row.iter_mut().zip(probs.iter()) {
                        if g.abs() >= GRADIENT_FLOOR {
                            *w -= lr * g * v;
                        }
                    }
                }
            }
        }
        model
    }

    /// Softmax probabilities of every class.
    pub fn probabilities_into(&self, x: &[(u32, f32)], out: &mut [f32]) {
        out.copy_from_slice(&self.bias);
        for &(f, v) in x {
            let start = f as usize * self.classes;
            if let Some(row) = self.weights.get(start..start + self.classes) {
                for (o, w) in out.iter_mut().zip(row) {
                    *o += w * v;
                }
            }
        }
        let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        if sum > 0.0 {
            for o in out.iter_mut() {
                *o /= sum;
            }
        }
    }
}

/// Inverted index over the training examples' vectors: cosine similarity to every example.
#[derive(Debug, Clone)]
pub struct Neighbours {
    offsets: Vec<u32>,
    docs: Vec<u32>,
    values: Vec<f32>,
    labels: Vec<ClassId>,
    classes: usize,
}

impl Neighbours {
    pub fn build(xs: &[SparseVec], ys: &[ClassId], dim: usize, classes: usize) -> Self {
        let mut counts = vec![0u32; dim + 1];
        for x in xs {
            for &(f, _) in x {
                counts[f as usize + 1] += 1;
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let total = counts[dim] as usize;
        let mut fill = counts.clone();
        let mut docs = vec![0u32; total];
        let mut values = vec![0f32; total];
        for (d, x) in xs.iter().enumerate() {
            for &(f, v) in x {
                let at = fill[f as usize] as usize;
                docs[at] = d as u32;
                values[at] = v;
                fill[f as usize] += 1;
            }
        }
        Neighbours {
            offsets: counts,
            docs,
            values,
            labels: ys.to_vec(),
            classes,
        }
    }

    /// The highest similarity to an example of each class.
    pub fn best_per_class(&self, x: &[(u32, f32)]) -> Vec<f32> {
        let mut sims = vec![0f32; self.labels.len()];
        for &(f, v) in x {
            let (Some(&a), Some(&b)) = (
                self.offsets.get(f as usize),
                self.offsets.get(f as usize + 1),
            ) else {
                continue;
            };
            for k in a as usize..b as usize {
                sims[self.docs[k] as usize] += v * self.values[k];
            }
        }
        let mut best = vec![0f32; self.classes];
        for (d, s) in sims.into_iter().enumerate() {
            let c = self.labels[d];
            if s > best[c] {
                best[c] = s;
            }
        }
        best
    }
}

/// The uncalibrated lexical core: vectorizer, linear classifier and nearest examples.
#[derive(Debug, Clone)]
pub struct Core {
    pub vectorizer: Vectorizer,
    linear: Linear,
    neighbours: Neighbours,
    classes: usize,
    /// Training examples per class.
    sizes: Vec<usize>,
    oos_class: Option<ClassId>,
    /// The built-in background's examples: negative evidence only.
    background: Neighbours,
    /// The word features of the playbook's own examples (coverage ignores the background's).
    own_words: HashKeyed<()>,
}

/// Weight of the nearest-example similarity when ranking classes.
const NEIGHBOUR_BLEND: f32 = 0.5;

/// What the core measures about one text; the calibrator turns it into a confidence.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Blended class scores, best first (top few only).
    pub ranked: Vec<(ClassId, f32)>,
    /// Softmax probability of the best and second class.
    pub p1: f32,
    pub p2: f32,
    /// Nearest-example similarity within the best and second class, and over all classes.
    pub s1: f32,
    pub s2: f32,
    pub s_any: f32,
    /// Share of the text's word features known from training.
    pub coverage: f32,
    /// Nearest-example similarity within the out-of-scope class (0 without one).
    pub s_oos: f32,
    /// How many training examples the best class has.
    pub n1: usize,
    /// The linear classifier's probability for every class (what the encoder stage fuses with).
    pub probs: Vec<f32>,
}

impl Core {
    pub fn fit(
        raws: &[&RawFeatures],
        ys: &[ClassId],
        classes: usize,
        oos_class: Option<ClassId>,
        background: &[RawFeatures],
        seed: u64,
    ) -> Self {
        Self::fit_with_answers(raws, ys, classes, oos_class, background, &[], seed)
    }

    /// [`Core::fit`], with the intents' answer texts as ranking evidence: the linear classifier
    /// learns from them too (an answer names what its intent is about: "Tarif", "Zählerstand"),
    /// while the vocabulary and its weights, the nearest-example similarities, example counts
    /// and coverage the calibration reads stay those of the examples. (With the answers' words
    /// in the vocabulary too, off-topic questions sharing a word with an answer, a town's name,
    /// were answered: measured on the development fixtures, docs/benchmarks.md.)
    pub fn fit_with_answers(
        raws: &[&RawFeatures],
        ys: &[ClassId],
        classes: usize,
        oos_class: Option<ClassId>,
        background: &[RawFeatures],
        answers: &[(RawFeatures, ClassId)],
        seed: u64,
    ) -> Self {
        let min_df = if raws.len() >= 5000 { 2 } else { 1 };
        let owned: Vec<RawFeatures> = raws
            .iter()
            .map(|r| (*r).clone())
            .chain(background.iter().cloned())
            .collect();
        let vectorizer = Vectorizer::fit(&owned, min_df);
        let own_words: HashKeyed<()> = raws
            .iter()
            .flat_map(|r| r.words.iter().map(|w| (w.0, ())))
            .collect();
        let bg_xs: Vec<SparseVec> = background.iter().map(|r| vectorizer.transform(r)).collect();
        let background = Neighbours::build(&bg_xs, &vec![0; bg_xs.len()], vectorizer.dim(), 1);
        let xs: Vec<SparseVec> = raws.iter().map(|r| vectorizer.transform(r)).collect();
        let neighbours = Neighbours::build(&xs, ys, vectorizer.dim(), classes);
        // The classifier learns from the examples and the answers; the neighbours above only
        // from the examples.
        let mut train_xs = xs;
        let mut train_ys = ys.to_vec();
        for (raw, y) in answers {
            train_xs.push(vectorizer.transform(raw));
            train_ys.push(*y);
        }
        let linear = Linear::train(&train_xs, &train_ys, vectorizer.dim(), classes, seed);
        let mut sizes = vec![0; classes];
        for &y in ys {
            if let Some(n) = sizes.get_mut(y) {
                *n += 1;
            }
        }
        Core {
            vectorizer,
            linear,
            neighbours,
            classes,
            sizes,
            oos_class,
            background,
            own_words,
        }
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn evidence(&self, raw: &RawFeatures) -> Evidence {
        let x = self.vectorizer.transform(raw);
        let coverage = raw.coverage(|h| self.own_words.contains_key(h));
        let s_bg = self
            .background
            .best_per_class(&x)
            .first()
            .copied()
            .unwrap_or(0.0);
        let mut probs = vec![0f32; self.classes];
        self.linear.probabilities_into(&x, &mut probs);
        let sims = self.neighbours.best_per_class(&x);
        let mut ranked: Vec<(ClassId, f32)> = probs
            .iter()
            .zip(&sims)
            .enumerate()
            .map(|(c, (p, s))| (c, p + NEIGHBOUR_BLEND * s))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(4);
        let get = |i: usize, v: &[f32]| ranked.get(i).map(|r| v[r.0]).unwrap_or(0.0);
        Evidence {
            p1: get(0, &probs),
            p2: get(1, &probs),
            s1: get(0, &sims),
            s2: get(1, &sims),
            s_any: sims.iter().copied().fold(0.0, f32::max),
            coverage,
            s_oos: self
                .oos_class
                .and_then(|c| sims.get(c))
                .copied()
                .unwrap_or(0.0)
                .max(s_bg),
            n1: ranked.first().map_or(0, |r| self.sizes[r.0]),
            ranked,
            probs,
        }
    }
}

/// The fast path: the lexical core plus a calibrator learned by cross-validation on the playbook.
pub struct LexicalModel {
    core: Core,
    calibrator: Calibrator,
}

impl LexicalModel {
    pub fn new(core: Core, calibrator: Calibrator) -> Self {
        LexicalModel { core, calibrator }
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    /// The fast path's prediction from evidence its core already computed.
    pub fn judge(&self, ev: &Evidence) -> Prediction {
        Prediction {
            confidence: self.calibrator.confidence(ev),
            pair_confidence: self.calibrator.pair_confidence(ev),
            nearest: ev.s_any,
            closeness: if ev.p1 > 0.0 {
                (ev.p2 / ev.p1).min(1.0)
            } else {
                0.0
            },
            evidence: vec![
                ("p1", ev.p1),
                ("p2", ev.p2),
                ("s1", ev.s1),
                ("s2", ev.s2),
                ("s_any", ev.s_any),
                ("coverage", ev.coverage),
                ("s_oos", ev.s_oos),
                ("n1", ev.n1 as f32),
            ],
            ranked: ev.ranked.clone(),
            stage: "lexical",
            answer_at: crate::calibrate::ANSWER_THRESHOLD,
        }
    }
}
