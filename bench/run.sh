#!/usr/bin/env bash
# Convert the public data, then run `tandem eval` on every benchmark (if target/release/tandem is built).
# Usage: bench/run.sh [NAME ...]     (default: all; TANDEM=/path/to/tandem to use another binary)
# Writes bench/out/<name>/{playbook.toml,cases.jsonl}, bench/out/<name>/tandem.{json,err} and bench/out/tandem.json.
set -uo pipefail
cd "$(dirname "$0")/.."
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(clinc150 banking77 banking77-oos xsid-de germeval2017)

python3 bench/convert.py "${names[@]}" || { echo "convert.py failed" >&2; exit 1; }

TANDEM=${TANDEM:-target/release/tandem}
if [ ! -x "$TANDEM" ]; then
  echo "no tandem binary at $TANDEM (cargo build --release -p tandem): skipping eval"
  exit 0
fi

for name in "${names[@]}"; do
  dir=bench/out/$name
  if "$TANDEM" eval --playbook "$dir/playbook.toml" --cases "$dir/cases.jsonl" --json >"$dir/tandem.json" 2>"$dir/tandem.err"; then
    echo ok >"$dir/tandem.status"
  else
    echo "exit $?" >"$dir/tandem.status"
  fi
done

python3 - "${names[@]}" <<'PY'
import json, sys
from pathlib import Path

def find(obj, key):
    """First value under `key` anywhere in obj (for extensions such as fired_on_others)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            if (r := find(v, key)) is not None:
                return r
    return None

def f(x):
    return f"{x:.3f}" if isinstance(x, (int, float)) else "–"

results, failed = {}, 0
for name in sys.argv[1:]:
    d = Path("bench/out") / name
    status = (d / "tandem.status").read_text().strip()
    try:
        m = json.loads((d / "tandem.json").read_text()) if status == "ok" else None
    except json.JSONDecodeError as e:
        status, m = f"output is not one JSON object ({e})", None
    if m is None:
        failed += 1
        err = (d / "tandem.err").read_text().strip().splitlines()
        results[name] = {"error": status, "stderr": err[-5:]}
        print(f"{name:14} FAILED ({status}): {err[-1] if err else 'no stderr'}")
        continue
    results[name] = m
    ins, ho, us = m.get("in_scope", {}), m.get("handoff", {}), m.get("triage_us", {})
    line = (f"{name:14} in-scope {f(ins.get('accuracy'))} ({ins.get('cases', 0)})  "
            f"handoff recall {f(ho.get('recall'))} precision {f(ho.get('precision'))} ({ho.get('cases', 0)})")
    neg = m.get("by_reason", {}).get("negative_sentiment")
    if neg:
        line += f"  negative_sentiment recall {f(neg.get('recall'))}, fired_on_others {f(find(m, 'fired_on_others'))}"
    line += f"  p50/p99 {us.get('p50')}/{us.get('p99')} µs  train {m.get('train_ms')} ms"
    print(line)
Path("bench/out/tandem.json").write_text(json.dumps(results, indent=2) + "\n")
print(f"wrote bench/out/tandem.json ({failed} failed)")
sys.exit(1 if failed else 0)
PY
