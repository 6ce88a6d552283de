#!/usr/bin/env bash
# What the mail tests run against (issue 17), installed once:
# - a real SMTP server as the desk's relay: aiosmtpd 1.4.6 from PyPI, in target/mail-venv
#   (scripts/mail_sink.py runs it);
# - a real IMAP server: Debian's Dovecot (dovecot-imapd), which each test starts on a free port
#   with its own configuration under a temporary directory (the system service stays off).
# scripts/test.sh runs this before `cargo test`; crates/tandem/tests/common/mail.rs finds both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "mail-servers: $*" >&2; exit 1; }

venv="$root/target/mail-venv"
if ! "$venv/bin/python" -c "import aiosmtpd" >/dev/null 2>&1; then
  echo "mail-servers: installing aiosmtpd 1.4.6 into $venv (pip)" >&2
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install -q "aiosmtpd==1.4.6" || die "pip install aiosmtpd failed"
fi

if [ ! -x /usr/sbin/dovecot ]; then
  echo "mail-servers: installing dovecot-imapd (apt-get)" >&2
  command -v apt-get >/dev/null 2>&1 || die "install Dovecot yourself (Debian: apt-get install dovecot-imapd)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then command -v sudo >/dev/null 2>&1 || die "run as root or install dovecot-imapd"; sudo="sudo"; fi
  # The package's own service is not wanted: each test starts its own Dovecot.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd \
    || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd; } \
    || die "apt-get install dovecot-imapd failed"
  $sudo service dovecot stop >/dev/null 2>&1 || true
fi
