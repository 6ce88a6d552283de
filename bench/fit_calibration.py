#!/usr/bin/env python3
"""Fit the fast path's shipped calibration (crates/nlu/src/calibrate.rs, `SHIPPED`).

Usage:
  cargo run --release -p nlu --example transfer -- --playbooks 300 --out bench/out/generated.csv
  cargo run --release -p nlu --example transfer -- --playbooks 0 --out bench/out/fixtures.csv \
      --fixture crates/nlu/tests/fixtures/stadtwerke.toml crates/nlu/tests/fixtures/stadtwerke_cases.jsonl ...
  bench/.venv/bin/python bench/fit_calibration.py bench/out/generated.csv bench/out/fixtures.csv

A logistic regression of "the best-ranked intent is right" on the fast path's evidence, over
unseen messages of many generated playbooks (public data, CC BY) and the development fixtures
(our own), with off-topic and other-intent messages weighted to OUT_OF_SCOPE_PRIOR of the total.
The weights are bounded to the sign that the evidence must have (more similar, more covered,
clearer margin: never less sure; nearer the out-of-scope examples: never more sure), so no
playbook can turn a feature against its meaning. Prints a leave-one-fixture-out check and the
Rust constants.
"""
import csv
import sys

import numpy as np
from scipy.optimize import minimize

OUT_OF_SCOPE_PRIOR = float(__import__("os").environ.get("PRIOR", "0.15"))
FIXTURE_WEIGHT = 3.0
NEAR_SHARE = float(__import__("os").environ.get("NEAR_SHARE", "0.5"))
RIDGE = 1e-3
NAMES = ["p1", "p1 - p2", "s1", "s1 - s2", "s_oos", "coverage", "ln n1", "s1 - s_oos", "1"]
# +1: weight >= 0, -1: weight <= 0, 0: free
SIGNS = [1, 1, 1, 1, -1, 1, 0, 1, 0]


def features(r):
    p1, p2, s1, s2, so, cov, n1 = (float(r[k]) for k in ("p1", "p2", "s1", "s2", "s_oos", "coverage", "n1"))
    return [p1, p1 - p2, s1, s1 - s2, so, cov, np.log(max(n1, 1.0)), s1 - so, 1.0]


PAIR_NAMES = ["p1 + p2", "max(s1, s2)", "s_oos", "coverage", "1"]
PAIR_SIGNS = [1, 1, -1, 1, 0]


def pair_features(r):
    p1, p2, s1, s2, so, cov = (float(r[k]) for k in ("p1", "p2", "s1", "s2", "s_oos", "coverage"))
    return [p1 + p2, max(s1, s2), so, cov, 1.0]


def weights(rows, scale):
    """In-scope messages share 1 - OUT_OF_SCOPE_PRIOR; the rest is split between off-topic
    messages and other intents' messages (NEAR_SHARE of it) where a set has both."""
    kind = np.array([r["kind"] for r in rows])
    n_in, n_off, n_near = ((kind == k).sum() for k in ("in", "off", "near"))
    near = NEAR_SHARE if n_near and n_off else (1.0 if n_near else 0.0)
    w = np.where(kind == "in", (1 - OUT_OF_SCOPE_PRIOR) / max(n_in, 1), 0.0)
    w = np.where(kind == "off", OUT_OF_SCOPE_PRIOR * (1 - near) / max(n_off, 1), w)
    w = np.where(kind == "near", OUT_OF_SCOPE_PRIOR * near / max(n_near, 1), w)
    return w * scale


def fit(groups, feats=None, label="top1", signs=None):
    feats = feats or features
    signs = signs or SIGNS
    X = np.array([feats(r) for rows, _ in groups for r in rows])
    y = np.array([int(r[label]) for rows, _ in groups for r in rows], dtype=float)
    w = np.concatenate([weights(rows, s) for rows, s in groups])
    w = w / w.sum()

    def loss(b):
        z = X @ b
        p = 1 / (1 + np.exp(-z))
        eps = 1e-9
        l = -(w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum() + RIDGE * (b[:-1] ** 2).sum()
        g = X.T @ (w * (p - y)) + 2 * RIDGE * np.append(b[:-1], 0)
        return l, g

    bounds = [(0, None) if s > 0 else (None, 0) if s < 0 else (None, None) for s in signs]
    return minimize(loss, np.zeros(len(signs)), jac=True, method="L-BFGS-B", bounds=bounds).x


def check(b, rows, threshold=0.5):
    X = np.array([features(r) for r in rows])
    p = 1 / (1 + np.exp(-(X @ b)))
    kind = np.array([r["kind"] for r in rows])
    right = np.array([r["top1"] == "1" for r in rows])
    oos_top = np.array([r["top_oos"] == "1" for r in rows])
    answered = (p >= threshold) & ~oos_top
    rr = (kind == "in") & right
    off = kind == "off"
    return answered[rr].mean(), (~answered)[off].mean() if off.any() else float("nan")


def main():
    generated = list(csv.DictReader(open(sys.argv[1])))
    fixtures = list(csv.DictReader(open(sys.argv[2]))) if len(sys.argv) > 2 else []
    names = list(dict.fromkeys(r["playbook"] for r in fixtures))
    print("leave one fixture out (answered / ranked right, off-topic recall):")
    for n in names:
        b = fit([(generated, 1.0), ([r for r in fixtures if r["playbook"] != n], FIXTURE_WEIGHT)])
        a, o = check(b, [r for r in fixtures if r["playbook"] == n])
        print(f"  {n:14s} {a:.3f} {o:.3f}")
    b = fit([(generated, 1.0), (fixtures, FIXTURE_WEIGHT)])
    by_size = {}
    for r in generated:
        by_size.setdefault(r["per_intent"], []).append(r)
    for size, rows in sorted(by_size.items(), key=lambda kv: int(kv[0])):
        a, o = check(b, rows)
        print(f"  generated, {size} per intent: {a:.3f} {o:.3f}")
    print("pub const SHIPPED: [f32; DIM] = [" + ", ".join(f"{v:.4}" for v in b) + "];")
    print("  // " + ", ".join(f"{n} {v:+.3f}" for n, v in zip(NAMES, b)))
    pair = fit([(generated, 1.0), (fixtures, FIXTURE_WEIGHT)], pair_features, "top2", PAIR_SIGNS)
    print("pub const SHIPPED_PAIR: [f32; PAIR_DIM] = [" + ", ".join(f"{v:.4}" for v in pair) + "];")
    print("  // " + ", ".join(f"{n} {v:+.3f}" for n, v in zip(PAIR_NAMES, pair)))


if __name__ == "__main__":
    main()
