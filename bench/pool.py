#!/usr/bin/env python3
"""Write the pool from which `transfer` generates development playbooks (bench/out/pool.jsonl).

Usage: python3 bench/pool.py [--data DIR] [--out FILE]

One JSON object a line: {"source", "intent", "role", "text"}; role is
- "example": may become a playbook example;
- "message": an unseen customer message of that intent (never an example);
- "offtopic_example": may become an `[out_of_scope]` example (CLINC150's `oos_train`);
- "offtopic": an unseen message no playbook of the source answers (CLINC150's `oos_val`).

Only training and validation splits are used (CLINC150 `train` / `val` / `oos_train` / `oos_val`;
BANKING77 `train`, split by position into examples and messages): the test splits stay untouched
for docs/benchmarks.md. Both licences (CC BY 3.0 / CC BY 4.0) allow shipping what is fitted on them.
"""
import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "pool.jsonl"))
    a = ap.parse_args()
    data = Path(a.data)
    rows = []
    clinc = json.loads((data / "clinc150" / "data_full.json").read_text())
    for text, label in clinc["train"]:
        rows.append(("clinc150", label, "example", text))
    for text, label in clinc["val"]:
        rows.append(("clinc150", label, "message", text))
    for text, _ in clinc["oos_train"]:
        rows.append(("clinc150", "oos", "offtopic_example", text))
    for text, _ in clinc["oos_val"]:
        rows.append(("clinc150", "oos", "offtopic", text))
    by_intent = defaultdict(list)
    with open(data / "banking77" / "train.csv", newline="") as f:
        for r in csv.DictReader(f):
            by_intent[r["category"]].append(r["text"])
    for label, texts in by_intent.items():
        for i, t in enumerate(texts):
            rows.append(("banking77", label, "example" if i % 2 == 0 else "message", t))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as f:
        for s, i, r, t in rows:
            f.write(json.dumps({"source": s, "intent": i, "role": r, "text": " ".join(t.split())}, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main()
