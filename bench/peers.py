#!/usr/bin/env python3
"""Peer baselines on the same splits as Tandem: the playbooks and cases written by bench/convert.py.

  (a) scikit-learn: TF-IDF (word 1-2 + char_wb 2-5, union, sublinear tf) + LogisticRegression, C fixed at 10
  (b) fastText supervised (softmax, word bigrams, char 3-5 subwords); epochs in {25, 50, 100} chosen by CV on train

Out-of-scope rule for both: hand off when the top class probability is below a threshold t, chosen on the
training data only (never on test) from "leave-intents-out" cross-validation: the intents are split into
5 groups; for each group a model is trained on the other intents (minus a random 20% of their examples);
the held-out intents' examples act as pseudo out-of-scope, the 20% slice as in-scope validation.
Two operating points are reported from the pooled folds:
  balanced: t maximises (in-scope accuracy + pseudo-OOS recall) / 2
  keep95:   t = 5th percentile of the in-scope validation top probabilities (rejects ~5% of in-scope)

Metrics per benchmark: threshold-free accuracy (argmax), in-scope accuracy and OOS recall at each operating
point (a handoff counts as wrong, as in `tandem eval`), training time of the final model, per-message latency
p50/p99 from a single-message predict loop over all cases.

Usage: bench/.venv/bin/python bench/peers.py [--models sklearn,fasttext] [NAME ...]
Writes bench/out/peers.json and prints a Markdown table (saved by hand as bench/peers.md).
"""
import argparse
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
import tomllib
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench/out"
BENCHMARKS = ["clinc150", "banking77", "banking77-oos", "xsid-de"]  # germeval2017: no intent peer (sentiment only)
SEED = 13
FOLDS = 5
LR_C = 10.0  # fixed, a common choice for TF-IDF + LR; never tuned on test


# ---------------------------------------------------------------- data

def load(name):
    pb = tomllib.loads((OUT / name / "playbook.toml").read_text(encoding="utf-8"))
    X, y = [], []
    for intent in pb["intent"]:
        for e in intent["examples"]:
            X.append(e)
            y.append(intent["id"])
    cases = [json.loads(l) for l in (OUT / name / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    return X, y, cases


# ---------------------------------------------------------------- models

class SklearnPeer:
    name = "sklearn TF-IDF+LR"
    grid = [{}]  # C fixed at LR_C: a CV grid over C costs minutes per benchmark on 2 cores

    def __init__(self):
        self.params = {"C": LR_C}

    def fit(self, X, y):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        )
        self.model = make_pipeline(features, LogisticRegression(C=self.params["C"], max_iter=2000))
        self.model.fit(X, y)
        self.classes = list(self.model.classes_)
        return self

    def predict_batch(self, texts):
        """[(label, max probability)] for many texts at once (used for calibration)."""
        P = self.model.predict_proba(texts)
        return [(self.classes[i], float(p[i])) for p, i in zip(P, P.argmax(axis=1))]

    def predict_one(self, text):
        p = self.model.predict_proba([text])[0]
        i = int(p.argmax())
        return self.classes[i], float(p[i])


def ft_tokens(text):
    return " ".join(re.findall(r"\w+|[^\w\s]", text.lower()))


class FastTextPeer:
    name = "fastText"
    base = dict(lr=0.5, wordNgrams=2, minn=3, maxn=5, dim=100, loss="softmax", thread=1, seed=SEED)
    grid = [{"epoch": e} for e in (25, 50, 100)]  # chosen by CV on train

    def __init__(self, **params):
        self.params = {**self.base, "epoch": 25, **params}

    def fit(self, X, y):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
            for text, label in zip(X, y):
                f.write(f"__label__{label} {ft_tokens(text)}\n")
            path = f.name
        try:
            self.model = fasttext.train_supervised(input=path, verbose=0, **self.params)
        finally:
            os.unlink(path)
        return self

    def predict_one(self, text):
        labels, probs = self.model.predict(ft_tokens(text), k=1)
        return labels[0][len("__label__"):], float(min(probs[0], 1.0))

    def predict_batch(self, texts):
        return [self.predict_one(t) for t in texts]


MODELS = {"sklearn": SklearnPeer, "fasttext": FastTextPeer}


# ---------------------------------------------------------------- calibration on train only

def cv_scores(make, X, y):
    """Leave-intents-out folds: ([(correct, prob)] for in-scope validation, [prob] for pseudo-OOS)."""
    rng = random.Random(SEED)
    intents = sorted(set(y))
    rng.shuffle(intents)
    in_scores, oos_scores = [], []
    for k in range(FOLDS):
        held = set(intents[k::FOLDS])
        train, val = ([], []), ([], [])
        for text, label in zip(X, y):
            if label not in held:
                part = val if rng.random() < 0.2 else train
                part[0].append(text)
                part[1].append(label)
        model = make().fit(*train)
        in_scores += [(p == l, s) for (p, s), l in zip(model.predict_batch(val[0]), val[1])]
        oos_scores += [s for _, s in model.predict_batch([t for t, l in zip(X, y) if l in held])]
    return in_scores, oos_scores


def thresholds(in_scores, oos_scores):
    """Two operating points, both from the training folds:
    balanced: t maximising (in-scope accuracy + pseudo-OOS recall) / 2;
    keep95:   t = 5th percentile of the in-scope validation max-probabilities (rejects ~5% of in-scope)."""
    best = (-1.0, 0.0)
    for t in sorted({s for _, s in in_scores} | set(oos_scores) | {0.0}):
        acc = sum(c and s >= t for c, s in in_scores) / len(in_scores)
        rec = sum(s < t for s in oos_scores) / len(oos_scores)
        best = max(best, ((acc + rec) / 2, t))
    return {"balanced": best[1], "keep95": percentile(sorted(s for _, s in in_scores), 0.05)}


def calibrate(cls, X, y):
    """Pick the hyper-parameters (if the peer has a grid) by in-scope CV accuracy, then the thresholds."""
    best = None
    for params in cls.grid:
        ins, oos = cv_scores(lambda: cls(**params), X, y)
        acc = sum(c for c, _ in ins) / len(ins)
        if best is None or acc > best[0]:
            best = (acc, params, ins, oos)
    _, params, ins, oos = best
    return params, thresholds(ins, oos)


# ---------------------------------------------------------------- evaluation

def percentile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run(name, key):
    X, y, cases = load(name)
    cls = MODELS[key]
    t0 = time.perf_counter()
    params, ts = calibrate(cls, X, y)
    calib_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = cls(**params).fit(X, y)
    train_s = time.perf_counter() - t0
    model.predict_one("warm up")
    latencies, preds = [], []
    for c in cases:
        t0 = time.perf_counter()
        preds.append(model.predict_one(c["text"]))
        latencies.append((time.perf_counter() - t0) * 1e6)
    latencies.sort()
    intent = [(c, p) for c, p in zip(cases, preds) if c["expect"] != "handoff"]
    oos = [s for c, (_, s) in zip(cases, preds) if c["expect"] == "handoff"]
    r = {
        "params": model.params,
        "in_scope_cases": len(intent),
        "oos_cases": len(oos),
        "accuracy_no_threshold": sum(l == c["expect"] for c, (l, _) in intent) / len(intent),
        "operating_points": {
            rule: {
                "threshold": round(t, 4),
                "in_scope_accuracy": sum(l == c["expect"] and s >= t for c, (l, s) in intent) / len(intent),
                "oos_recall": sum(s < t for s in oos) / len(oos) if oos else None,
            }
            for rule, t in ts.items()
        },
        "train_s": round(train_s, 2),
        "calibration_cv_s": round(calib_s, 1),
        "latency_us": {"p50": round(percentile(latencies, 0.50), 1), "p99": round(percentile(latencies, 0.99), 1)},
    }
    print(f"  {name} / {cls.name}: {json.dumps(r)}", file=sys.stderr, flush=True)
    return r


def table(results):
    rows = ["| benchmark | peer | acc (no threshold) | balanced: in-scope / OOS recall | "
            "keep95: in-scope / OOS recall | train s | latency p50 / p99 µs |", "|---|---|---|---|---|---|---|"]
    for name, per_model in results.items():
        for key, r in per_model.items():
            cells = []
            for rule in ("balanced", "keep95"):
                op = r["operating_points"][rule]
                oos = f"{op['oos_recall']:.3f}" if op["oos_recall"] is not None else "–"
                cells.append(f"{op['in_scope_accuracy']:.3f} / {oos} (t={op['threshold']:.2f})")
            rows.append(f"| {name} | {MODELS[key].name} | {r['accuracy_no_threshold']:.3f} | {cells[0]} | "
                        f"{cells[1]} | {r['train_s']:.2f} | {r['latency_us']['p50']:.0f} / {r['latency_us']['p99']:.0f} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"default: {' '.join(BENCHMARKS)}")
    ap.add_argument("--models", default="sklearn,fasttext")
    args = ap.parse_args()
    keys = args.models.split(",")
    results = {name: {key: run(name, key) for key in keys} for name in args.names or BENCHMARKS}
    import sklearn
    from importlib.metadata import version

    meta = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "versions": {"scikit-learn": sklearn.__version__, "fasttext": version("fasttext")},
        "settings": {"lr_C": LR_C, "fasttext_base": FastTextPeer.base, "fasttext_epoch_grid": FastTextPeer.grid,
                     "calibration_folds": FOLDS, "seed": SEED},
        "command": "OMP_NUM_THREADS=1 nice bench/.venv/bin/python bench/peers.py " + " ".join(sys.argv[1:]),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "peers.json").write_text(json.dumps({**meta, "results": results}, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
