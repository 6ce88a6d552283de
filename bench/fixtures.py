#!/usr/bin/env python3
"""Run `tandem eval --json` on the fixture playbooks and print the issue-13 table rows.

Usage: python3 bench/fixtures.py [--bin target/release/tandem] [--encoder DIR] [NAME ...]
Names: stadtwerke radhaus fitnesspark versicherung buergeramt faktura tierarzt carsharing (default: all
of them; the held-back fixtures under crates/nlu/tests/holdout/, such as `autohaus` or `konzerthaus`, only when named).
"""
import argparse
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "crates" / "nlu" / "tests"
PLACES = {
    "stadtwerke": "fixtures", "radhaus": "fixtures", "fitnesspark": "fixtures/dev",
    "versicherung": "fixtures/dev", "buergeramt": "fixtures/dev", "faktura": "fixtures/dev",
    "tierarzt": "fixtures/dev", "carsharing": "fixtures/dev", "autohaus": "holdout", "umzug": "holdout",
    "hotel": "holdout", "sprachschule": "holdout", "solar": "holdout",
    "bibliothek": "holdout", "hosting": "holdout",
    "zahnarzt": "holdout", "coworking": "holdout", "dienstrad": "holdout",
    "fahrschule": "holdout", "hausverwaltung": "holdout", "konzerthaus": "holdout", "pellets": "holdout",
}
HELD_BACK = {"autohaus", "umzug", "hotel", "sprachschule", "solar", "bibliothek", "hosting",
             "zahnarzt", "coworking", "dienstrad", "fahrschule", "hausverwaltung", "konzerthaus", "pellets"}
DEFAULT = [n for n in PLACES if n not in HELD_BACK]


def row(name, binary, encoder):
    d = FIX / PLACES[name]
    cmd = [binary, "eval", "--playbook", str(d / f"{name}.toml"), "--cases", str(d / f"{name}_cases.jsonl"), "--json"]
    if encoder:
        cmd[2:2] = ["--encoder", encoder]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    ins, h = r["in_scope"], r["handoff"]
    acc, top1 = ins["accuracy"], ins.get("top1") or 0
    reasons = {k: v["recall"] for k, v in r["by_reason"].items()}
    worst = min(reasons.items(), key=lambda kv: kv[1])
    return (f"| {name} | {acc:.3f} | {top1:.3f} | {acc / top1 if top1 else 0:.3f} | {reasons.get('low_confidence', 0):.3f} "
            f"| {h['recall']:.3f} | {h['precision']:.3f} | {worst[0]} {worst[1]:.2f} | {r['triage_us']['p99'] / 1000:.1f} ms |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "tandem"))
    ap.add_argument("--encoder")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    print("| fixture | in-scope | top-1 | answered ÷ ranked right | off-topic recall | handoff recall | handoff precision | weakest reason | triage p99 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in a.names or DEFAULT:
        print(row(n, a.bin, a.encoder), flush=True)


if __name__ == "__main__":
    main()
