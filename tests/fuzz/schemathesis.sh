#!/usr/bin/env bash
# tests/fuzz/schemathesis.sh [PDSD_BINARY]
#
# Schema-driven fuzzing of the device API (/v1): starts `pdsd --dev` on loopback with a
# fresh data folder, validates the OpenAPI document it serves (and docs/openapi.json)
# with openapi-spec-validator, signs up a phone and enrols a desktop (device_auth.py),
# then runs schemathesis against every /v1 operation, signing a fresh device token for
# each generated request (hooks.py). Fails if the document is invalid or any request
# gets a 5xx (or a response that contradicts the document).
#
# Python tools are pinned and installed once into
# ${PDS_TOOLS_HOME:-$HOME/.cache/pds-tools}/schemathesis/venv (PyPI through pip).
# Env: FUZZ_MAX_EXAMPLES (default 25 per operation), FUZZ_CHECKS (default below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT="$PWD"
PDSD="${1:-$ROOT/target/debug/pdsd}"
TOOLS="${PDS_TOOLS_HOME:-$HOME/.cache/pds-tools}/schemathesis"
VENV="$TOOLS/venv"
PINS=("schemathesis==4.32.5" "openapi-spec-validator==0.9.0" "cryptography==50.0.2")
CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}"

if [ ! -x "$PDSD" ]; then
  echo "no pdsd at $PDSD: run cargo build -p pdsd first" >&2
  exit 2
fi
if ! "$VENV/bin/python" -c "import schemathesis, openapi_spec_validator, cryptography" 2>/dev/null; then
  mkdir -p "$TOOLS"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "${PINS[@]}"
fi

WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$PDSD" --dev --data-dir "$WORK/data" --listen 127.0.0.1:0 --plc-listen 127.0.0.1:0 \
  >"$WORK/stdout" 2>"$WORK/pdsd.log" &
PID=$!
URL=""
for _ in $(seq 1 300); do
  URL="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$WORK/stdout" | head -n1)"
  [ -n "$URL" ] && grep -q '^data folder:' "$WORK/stdout" && break
  kill -0 "$PID" 2>/dev/null || { echo "pdsd exited:"; cat "$WORK/pdsd.log"; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "pdsd did not start"; cat "$WORK/pdsd.log"; exit 1; }
echo "pdsd at $URL"

echo "=== openapi-spec-validator"
curl -sf "$URL/v1/openapi.json" -o "$WORK/openapi.json"
"$VENV/bin/openapi-spec-validator" "$WORK/openapi.json"
"$VENV/bin/openapi-spec-validator" "$ROOT/docs/openapi.json"

echo "=== fuzz account"
"$VENV/bin/python" "$ROOT/tests/fuzz/device_auth.py" "$URL" "$WORK/state.json"

echo "=== schemathesis ($CHECKS)"
status=0
# Run from the scratch folder: schemathesis keeps a cache (.schemathesis/) in the current one.
(cd "$WORK" && FUZZ_STATE="$WORK/state.json" PYTHONPATH="$ROOT/tests/fuzz" SCHEMATHESIS_HOOKS=hooks \
  "$VENV/bin/schemathesis" --no-color run "$URL/v1/openapi.json" \
    --url "$URL" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing \
    --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
    --workers 1 \
    --request-timeout 30 \
    --suppress-health-check all ${FUZZ_EXTRA:-}) || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- pdsd log (tail)"; tail -n 60 "$WORK/pdsd.log"
fi
exit "$status"
