#!/usr/bin/env bash
# The automated attack on the API (issue 16): schemathesis, from PyPI into a venv, generates
# requests from /api/v1/openapi.json against the real `tandem` binary, once with an admin
# token, once with an agent token and once with a conversation token. It fails on any 5xx and on
# any response body that does not match the document.
#
#   scripts/schemathesis.sh                      # builds target/debug/tandem first
#   TANDEM_BIN=path/to/tandem scripts/schemathesis.sh
#
# Left out: the event streams (they never end, by design), and the two calls that would end the
# run's own credentials (`/auth/logout`, `/agent/password`); real-binary tests cover those.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
die() { echo "schemathesis: $*" >&2; exit 1; }

venv="$root/target/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "schemathesis: installing schemathesis 4.32.5 into $venv (pip)" >&2
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install -q "schemathesis==4.32.5" || die "pip install schemathesis failed"
fi

bin="${TANDEM_BIN:-}"
if [ -z "$bin" ]; then
  cargo build -q -p tandem || die "cargo build failed"
  bin="$root/target/debug/tandem"
fi

data="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
TANDEM_ENCODER=off TANDEM_LOG=warn "$bin" serve --bind "127.0.0.1:$port" --data-dir "$data" \
  --rate-limits false >"$data/serve.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -fs "$base/api/v1/openapi.json" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/api/v1/openapi.json" >/dev/null || die "tandem did not start: $(cat "$data/serve.log")"

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
token_of() {
  curl -fs -X POST "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"$2\"}" | json_field token
}
admin="$(token_of admin@demo.tandem tandem-demo-admin)"
agent="$(token_of ben@demo.tandem tandem-demo-ben)"
customer="$(curl -fs -X POST "$base/api/v1/conversations" -H 'content-type: application/json' \
  -d '{"text": "Wo ist mein Paket?"}' | json_field token)"

for who in customer agent admin; do
  echo "== schemathesis with the $who token"
  "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
    -H "Authorization: Bearer ${!who}" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples 10 --seed 1 \
    --exclude-path-regex '/events$' \
    --exclude-path /api/v1/auth/logout --exclude-path /api/v1/agent/password \
    || die "schemathesis found a failure with the $who token"
done
