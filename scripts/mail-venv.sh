#!/usr/bin/env bash
# The mail tests' real SMTP server: aiosmtpd 1.4.6 from PyPI, into target/mail-venv (once).
# scripts/test.sh runs this before `cargo test`; crates/tandem/tests/common/mail.rs finds it there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/mail-venv"
if ! "$venv/bin/python" -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "mail-venv: installing aiosmtpd 1.4.6 into $venv (pip)" >&2
  python3 -m venv "$venv" || { echo "mail-venv: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q "aiosmtpd==1.4.6" || { echo "mail-venv: pip install aiosmtpd failed" >&2; exit 1; }
fi
