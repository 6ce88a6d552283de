//! Calibration: turns the lexical core's raw evidence into "probability that answering is right".
//!
//! The fast path's calibration is fitted once, across many playbooks, and shipped in the binary
//! ([`SHIPPED`]): `bench/fit_calibration.py` fits it on what the final model of 300 playbooks
//! generated from public data (CLINC150 and BANKING77 train/validation splits, CC BY 3.0 / 4.0;
//! 3 to 50 examples per intent, 5 to 40 intents) and of our own development fixtures said about
//! customer messages none of them had seen, in-scope and off-topic alike. A calibration fitted per
//! playbook by cross-validation (as before) learns from models weaker than the one it calibrates
//! (each fold lacks a fifth of a small playbook's examples) and, on a dozen intents, from a
//! hundred outcomes: on small playbooks it came out too pessimistic, and on some with its
//! similarity weights negative, so that the playbook's own examples scored lowest of all.
//!
//! The features do not depend on a playbook's size beyond the one that says so (`ln n1`, the
//! best intent's number of examples), and every weight has the sign its evidence must have
//! (more similar, clearer margin: never less sure; nearer the out-of-scope examples and the
//! built-in background: never more sure). [`ANSWER_THRESHOLD`] = 0.5 is the even-odds decision
//! with out-of-scope messages weighted to an assumed share of 15 %.
//!
//! The encoder stage still learns its fusion from one cross-validation on the playbook
//! ([`splits`], [`Outcome`]), whole intents held out as pseudo-out-of-scope.

use crate::model::{ClassId, Evidence, Rng};

/// Answer only when the calibrated probability of being right reaches this.
pub const ANSWER_THRESHOLD: f32 = 0.5;
/// Assumed share of out-of-scope messages among those the bot sees: the weight of the
/// pseudo-out-of-scope outcomes when fitting. A product choice (most customer messages are about
/// the business), never fitted to test data.
const OUT_OF_SCOPE_PRIOR: f32 = 0.15;
const FOLDS: usize = 5;
/// Above this many examples only some of the folds are run, to keep training within seconds.
const LARGE_PLAYBOOK: usize = 6000;
const LARGE_PLAYBOOK_FOLDS: usize = 3;

const DIM: usize = 9;
const PAIR_DIM: usize = 5;

/// Weights of [`single_features`], fitted by `bench/fit_calibration.py` (see the module docs).
/// p1 +2.457, p1 - p2 +3.019, s1 +0.614, s1 - s2 +1.180, s_oos -0.874, coverage 0, ln n1 -0.111,
/// s1 - s_oos +1.485, bias -0.359.
pub const SHIPPED: [f32; DIM] = [
    2.457, 3.019, 0.614, 1.18, -0.8741, 0.0, -0.1113, 1.485, -0.359,
];
/// Weights of [`pair_features`]: the right intent is one of the first two.
pub const SHIPPED_PAIR: [f32; PAIR_DIM] = [4.205, 2.273, -2.336, 0.0, -0.5068];

/// Maps evidence to calibrated confidences.
#[derive(Debug, Clone)]
pub struct Calibrator {
    single: [f32; DIM],
    pair: [f32; PAIR_DIM],
}

fn single_features(ev: &Evidence) -> [f32; DIM] {
    [
        ev.p1,
        ev.p1 - ev.p2,
        ev.s1,
        ev.s1 - ev.s2,
        ev.s_oos,
        ev.coverage,
        (ev.n1.max(1) as f32).ln(),
        ev.s1 - ev.s_oos,
        1.0,
    ]
}

fn pair_features(ev: &Evidence) -> [f32; PAIR_DIM] {
    [ev.p1 + ev.p2, ev.s1.max(ev.s2), ev.s_oos, ev.coverage, 1.0]
}

pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

pub(crate) fn dotn<const N: usize>(w: &[f32; N], x: &[f32; N]) -> f32 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

impl Calibrator {
    /// The calibration fitted across many playbooks (see the module docs).
    pub fn shipped() -> Self {
        Calibrator {
            single: SHIPPED,
            pair: SHIPPED_PAIR,
        }
    }

    pub fn confidence(&self, ev: &Evidence) -> f32 {
        if ev.ranked.is_empty() {
            return 0.0;
        }
        sigmoid(dotn(&self.single, &single_features(ev)))
    }

    pub fn pair_confidence(&self, ev: &Evidence) -> f32 {
        if ev.ranked.len() < 2 {
            return self.confidence(ev);
        }
        sigmoid(dotn(&self.pair, &pair_features(ev)))
    }
}

/// One held-out decision seen during cross-validation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub evidence: Evidence,
    /// The true class was known to the fold's model (else: pseudo-out-of-scope or an
    /// out-of-scope example).
    pub in_scope: bool,
    pub top1_right: bool,
    pub top2_right: bool,
}

/// How the playbook's examples are split for cross-validation: whole intents held out per fold
/// (pseudo-out-of-scope) and the remaining examples stratified over the folds.
struct Folds {
    intent_fold: Vec<usize>,
    example_fold: Vec<usize>,
    folds: usize,
}

impl Folds {
    fn assign(labels: &[ClassId], classes: usize, oos_class: Option<ClassId>, seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x5eed);
        let intents: Vec<ClassId> = (0..classes).filter(|c| Some(*c) != oos_class).collect();
        let hold_out_intents = intents.len() >= 3;
        let mut intent_fold = vec![usize::MAX; classes];
        let mut shuffled = intents.clone();
        rng.shuffle(&mut shuffled);
        for (i, c) in shuffled.iter().enumerate() {
            if hold_out_intents {
                intent_fold[*c] = i % FOLDS;
            }
        }
        let mut example_fold = vec![0usize; labels.len()];
        for c in 0..classes {
            let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
            rng.shuffle(&mut members);
            let offset = (rng.next() % FOLDS as u64) as usize;
            for (k, i) in members.into_iter().enumerate() {
                example_fold[i] = (k + offset) % FOLDS;
            }
        }
        let folds = if labels.len() > LARGE_PLAYBOOK {
            LARGE_PLAYBOOK_FOLDS
        } else {
            FOLDS
        };
        Folds {
            intent_fold,
            example_fold,
            folds,
        }
    }

    /// Local class ids for the classes known in fold `k` (`usize::MAX`: held out), and how many.
    fn local(&self, k: usize) -> (Vec<usize>, usize) {
        let mut local = vec![usize::MAX; self.intent_fold.len()];
        let mut n_local = 0;
        for (c, slot) in local.iter_mut().enumerate() {
            if self.intent_fold[c] != k {
                *slot = n_local;
                n_local += 1;
            }
        }
        (local, n_local)
    }
}

/// One fold's split: training example indices with their local labels, and held-out indices.
pub(crate) struct FoldSplit {
    pub train: Vec<usize>,
    pub train_labels: Vec<ClassId>,
    pub held_out: Vec<usize>,
    /// Local class of every example (`usize::MAX`: its intent is held out in this fold).
    pub local: Vec<usize>,
    pub n_local: usize,
    pub local_oos: Option<ClassId>,
    pub fold: usize,
}

/// The cross-validation splits of the playbook's examples, in fold order.
pub(crate) fn splits(
    labels: &[ClassId],
    classes: usize,
    oos_class: Option<ClassId>,
    seed: u64,
) -> Vec<FoldSplit> {
    let folds = Folds::assign(labels, classes, oos_class, seed);
    let mut out = Vec::new();
    for k in 0..folds.folds {
        let (local, n_local) = folds.local(k);
        let train: Vec<usize> = (0..labels.len())
            .filter(|&i| folds.example_fold[i] != k && local[labels[i]] != usize::MAX)
            .collect();
        if n_local < 2 || train.is_empty() {
            continue;
        }
        out.push(FoldSplit {
            train_labels: train.iter().map(|&i| local[labels[i]]).collect(),
            train,
            held_out: (0..labels.len())
                .filter(|&i| folds.example_fold[i] == k)
                .collect(),
            local: labels.iter().map(|&l| local[l]).collect(),
            n_local,
            local_oos: oos_class.map(|c| local[c]),
            fold: k,
        });
    }
    out
}

impl Outcome {
    /// Score a held-out example's evidence against its true local class.
    pub(crate) fn judge(evidence: Evidence, truth: usize, local_oos: Option<ClassId>) -> Outcome {
        let in_scope = truth != usize::MAX && Some(truth) != local_oos;
        let top: Vec<ClassId> = evidence.ranked.iter().map(|r| r.0).collect();
        let top1_right = in_scope && top.first() == Some(&truth);
        let top2_right = in_scope && top.iter().take(2).any(|&c| c == truth);
        Outcome {
            evidence,
            in_scope,
            top1_right,
            top2_right,
        }
    }
}

/// From this many training examples per intent on average, cross-validation's models are nearly
/// the final model (each fold keeps four fifths of twenty or more examples), and the playbook's
/// own calibration by cross-validation ([`fit`]) replaces the shipped one: on CLINC150 and
/// BANKING77 (100 and 130 examples per intent) it keeps the out-of-scope recall that the
/// shipped calibration, fitted mostly on small playbooks, gives away.
pub const OWN_CALIBRATION_FROM: f32 = 20.0;

/// Signs of [`single_features`] and [`pair_features`] weights (see [`logistic_signed`]).
const SIGNS: [i8; DIM] = [1, 1, 1, 1, -1, 1, 0, 1, 0];
const PAIR_SIGNS: [i8; PAIR_DIM] = [1, 1, -1, 1, 0];

/// Cross-validate the core on the playbook's examples. `labels[i]` is a class in `0..classes`;
/// `oos_class` (if any) is the class of the playbook's out-of-scope examples and is never held
/// out as an intent.
pub fn cross_validate(
    raws: &[crate::features::RawFeatures],
    background: &[crate::features::RawFeatures],
    labels: &[ClassId],
    classes: usize,
    oos_class: Option<ClassId>,
    seed: u64,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for split in splits(labels, classes, oos_class, seed) {
        let train_raw: Vec<&crate::features::RawFeatures> =
            split.train.iter().map(|&i| &raws[i]).collect();
        let core = crate::model::Core::fit(
            &train_raw,
            &split.train_labels,
            split.n_local,
            split.local_oos,
            background,
            seed.wrapping_add(split.fold as u64),
        );
        for &i in &split.held_out {
            outcomes.push(Outcome::judge(
                core.evidence(&raws[i]),
                split.local[i],
                split.local_oos,
            ));
        }
    }
    outcomes
}

/// Fit a playbook's own calibration on cross-validation outcomes (out-of-scope outcomes weighted
/// to [`OUT_OF_SCOPE_PRIOR`], every weight held to its sign); the shipped one when there is too
/// little to learn from.
pub fn fit(outcomes: &[Outcome]) -> Calibrator {
    let n_in = outcomes.iter().filter(|o| o.in_scope).count();
    if n_in < 50 {
        return Calibrator::shipped();
    }
    let weight = outcome_weight(outcomes.iter());
    let singles: Vec<([f32; DIM], f32, f32)> = outcomes
        .iter()
        .map(|o| {
            (
                single_features(&o.evidence),
                f32::from(u8::from(o.top1_right)),
                weight(o),
            )
        })
        .collect();
    let pairs: Vec<([f32; PAIR_DIM], f32, f32)> = outcomes
        .iter()
        .map(|o| {
            (
                pair_features(&o.evidence),
                f32::from(u8::from(o.top2_right)),
                weight(o),
            )
        })
        .collect();
    match (
        logistic_signed(&singles, SIGNS),
        logistic_signed(&pairs, PAIR_SIGNS),
    ) {
        (Some(single), Some(pair)) => Calibrator { single, pair },
        _ => Calibrator::shipped(),
    }
}

/// The weight of each outcome when fitting: out-of-scope outcomes share [`OUT_OF_SCOPE_PRIOR`]
/// of the total, in-scope outcomes the rest.
pub(crate) fn outcome_weight<'a>(
    outcomes: impl Iterator<Item = &'a Outcome>,
) -> impl Fn(&Outcome) -> f32 {
    let (mut n_in, mut n_out) = (0usize, 0usize);
    for o in outcomes {
        if o.in_scope {
            n_in += 1;
        } else {
            n_out += 1;
        }
    }
    move |o: &Outcome| {
        if n_out == 0 {
            1.0 / n_in.max(1) as f32
        } else if o.in_scope {
            (1.0 - OUT_OF_SCOPE_PRIOR) / n_in.max(1) as f32
        } else {
            OUT_OF_SCOPE_PRIOR / n_out as f32
        }
    }
}

/// [`logistic`] with every weight held to the sign its evidence must have (`signs[i]`: 1 for
/// "never less sure", -1 for "never more sure", 0 free): a feature whose fitted weight comes out
/// against its sign is dropped (weight 0) and the rest refitted, until none is (an active set).
/// Without this, a dozen intents' cross-validation can make more similarity mean less sure.
pub(crate) fn logistic_signed<const N: usize>(
    data: &[([f32; N], f32, f32)],
    signs: [i8; N],
) -> Option<[f32; N]> {
    let mut dropped = [false; N];
    for _ in 0..=N {
        let masked: Vec<([f32; N], f32, f32)> = data
            .iter()
            .map(|(x, y, w)| {
                let mut x = *x;
                for (v, d) in x.iter_mut().zip(dropped) {
                    if d {
                        *v = 0.0;
                    }
                }
                (x, *y, *w)
            })
            .collect();
        let w = logistic(&masked)?;
        let mut clean = true;
        for i in 0..N {
            if !dropped[i] && f32::from(signs[i]) * w[i] < 0.0 {
                dropped[i] = true;
                clean = false;
            }
        }
        if clean {
            let mut out = w;
            for (v, d) in out.iter_mut().zip(dropped) {
                if d {
                    *v = 0.0;
                }
            }
            return Some(out);
        }
    }
    None
}

/// Weighted logistic regression by Newton's method with a small ridge.
pub(crate) fn logistic<const N: usize>(data: &[([f32; N], f32, f32)]) -> Option<[f32; N]> {
    let mut w = [0f64; N];
    let total: f64 = data.iter().map(|d| f64::from(d.2)).sum();
    if total <= 0.0 {
        return None;
    }
    const RIDGE: f64 = 1e-3;
    for _ in 0..30 {
        let mut grad = [0f64; N];
        let mut hess = [[0f64; N]; N];
        for (x, y, wt) in data {
            let x: Vec<f64> = x.iter().map(|v| f64::from(*v)).collect();
            let z: f64 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let wt = f64::from(*wt) / total;
            for i in 0..N {
                grad[i] += wt * (p - f64::from(*y)) * x[i];
                for j in 0..N {
                    hess[i][j] += wt * p * (1.0 - p) * x[i] * x[j];
                }
            }
        }
        for i in 0..N {
            grad[i] += RIDGE * w[i];
            hess[i][i] += RIDGE;
        }
        let step = solve(hess, grad)?;
        let mut change = 0.0;
        for i in 0..N {
            w[i] -= step[i];
            change += step[i].abs();
        }
        if change < 1e-6 {
            break;
        }
    }
    let mut out = [0f32; N];
    for i in 0..N {
        if !w[i].is_finite() {
            return None;
        }
        out[i] = w[i] as f32;
    }
    Some(out)
}

/// Solve `a x = b` by Gaussian elimination with partial pivoting.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..N {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (cell, p) in a[row].iter_mut().zip(pivot_row.iter()).skip(col) {
                *cell -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; N];
    for row in (0..N).rev() {
        let s: f64 = (row + 1..N).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(p1: f32, s1: f32) -> Evidence {
        Evidence {
            ranked: vec![(0, p1), (1, 1.0 - p1)],
            p1,
            p2: 1.0 - p1,
            s1,
            s2: s1 / 2.0,
            s_any: s1,
            coverage: s1,
            s_oos: 0.1,
            n1: 5,
            probs: vec![p1, 1.0 - p1],
        }
    }

    #[test]
    fn solves_small_systems() {
        let x = solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0]).expect("solvable");
        assert!((x[0] - 0.8).abs() < 1e-9 && (x[1] - 1.4).abs() < 1e-9);
        assert!(solve([[0.0, 0.0], [0.0, 0.0]], [1.0, 1.0]).is_none());
    }

    #[test]
    fn signed_fits_never_turn_a_feature_against_its_meaning() {
        // y rises with x0; x1 is x0 plus noise that is anti-correlated with y: a free fit gives
        // x1 a negative weight, the signed one drops it.
        let data: Vec<([f32; 3], f32, f32)> = (0..200)
            .map(|i| {
                let x0 = (i % 20) as f32 / 20.0;
                let y = if i % 20 >= 10 { 1.0 } else { 0.0 };
                let x1 = x0 + if y > 0.5 { -0.3 } else { 0.3 } * ((i / 20) % 2) as f32;
                ([x0, x1, 1.0], y, 1.0)
            })
            .collect();
        let free = logistic(&data).expect("fits");
        assert!(free[1] < 0.0, "{free:?}");
        let signed = logistic_signed(&data, [1, 1, 0]).expect("fits");
        assert!(signed[0] > 0.0 && signed[1] == 0.0, "{signed:?}");
    }

    #[test]
    fn strong_evidence_answers_and_weak_does_not() {
        let cal = Calibrator::shipped();
        assert!(cal.confidence(&evidence(0.95, 0.9)) > ANSWER_THRESHOLD);
        assert!(cal.confidence(&evidence(0.2, 0.1)) < ANSWER_THRESHOLD);
    }

    #[test]
    fn the_shipped_weights_have_the_signs_of_their_evidence() {
        // p1, margin, s1, similarity margin, coverage, s1 - s_oos: never less sure; nearer
        // the out-of-scope examples: never more sure (checked when compiling)
        const {
            assert!(SHIPPED[0] >= 0.0 && SHIPPED[1] >= 0.0 && SHIPPED[2] >= 0.0);
            assert!(SHIPPED[3] >= 0.0 && SHIPPED[5] >= 0.0 && SHIPPED[7] >= 0.0);
            assert!(SHIPPED[4] <= 0.0);
        }
        // so more of every kind of in-scope evidence never lowers the confidence
        let cal = Calibrator::shipped();
        let mut last = 0.0;
        for k in 0..=10 {
            let t = k as f32 / 10.0;
            let c = cal.confidence(&evidence(0.5 + 0.5 * t, t));
            assert!(c >= last, "{c} < {last} at {t}");
            last = c;
        }
    }
}
