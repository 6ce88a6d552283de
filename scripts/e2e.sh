#!/usr/bin/env bash
# The browser end-to-end test: the real `tandem` binary, Debian's headless Chromium, playwright-core.
#
#   scripts/e2e.sh                      # builds target/debug/tandem, then runs e2e/*.test.mjs
#   TANDEM_BIN=path/to/tandem scripts/e2e.sh   # tests that binary, builds nothing
#
# Installs what is missing (Chromium via apt-get, the npm packages via `npm ci`) and fails loudly
# when it cannot. Quick and idempotent when everything is present. It never downloads a browser:
# playwright-core drives /usr/bin/chromium.
# Screenshots go to docs/screenshots/ (widget.png, console.png, help-article.png, dashboard.png); on failure, to e2e/test-results/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() { echo "e2e: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }

# Chromium from Debian.
if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing chromium (apt-get)" >&2
  need apt-get "install Chromium yourself (Debian: apt-get install chromium)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then need sudo "run as root or install chromium"; sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || die "apt-get update failed"
  $sudo apt-get install -y -qq --no-install-recommends chromium || die "apt-get install chromium failed"
  [ -x /usr/bin/chromium ] || die "chromium was installed but /usr/bin/chromium is missing"
fi

# Node and playwright-core (pinned in e2e/package-lock.json).
need node "install Node.js 20 or newer (Debian: apt-get install nodejs npm)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || die "node $(node --version) is too old: playwright-core needs Node.js 20 or newer"
if [ ! -f e2e/node_modules/playwright-core/package.json ] || [ ! -f e2e/node_modules/axe-core/axe.min.js ]; then
  need npm "install npm (Debian: apt-get install npm)"
  echo "e2e: installing npm packages (npm ci)" >&2
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: belt and braces, playwright-core downloads nothing anyway.
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || die "npm ci in e2e/ failed"
fi

# The binary under test.
if [ -z "${TANDEM_BIN:-}" ]; then
  need cargo "install Rust, or set TANDEM_BIN to a built tandem binary"
  cargo build -p tandem || die "cargo build -p tandem failed"
  export TANDEM_BIN="$root/target/debug/tandem"
fi
[ -x "$TANDEM_BIN" ] || die "TANDEM_BIN=$TANDEM_BIN is not an executable file"
TANDEM_BIN="$(cd "$(dirname "$TANDEM_BIN")" && pwd)/$(basename "$TANDEM_BIN")"
export TANDEM_BIN

cd e2e
exec node --test --test-concurrency=1 --test-reporter=spec desk.test.mjs help.test.mjs analytics.test.mjs playbook.test.mjs
