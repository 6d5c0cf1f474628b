#!/usr/bin/env bash
# migrate.sh: move one account from one pdsd to another with pdsctl, scripted.
#
#   RECOVERY_KEY=FILE examples/migrate.sh HANDLE|DID FROM_SOCKET TO_SOCKET [EXPORT_DIR]
#
# 1. exports the account from the daemon at FROM_SOCKET into EXPORT_DIR (default: a new
#    temporary folder; an earlier, interrupted export there is resumed),
# 2. imports it into the daemon at TO_SOCKET. When that daemon does not host the DID yet,
#    it creates the account deactivated and proposes the PLC update that moves the DID to
#    it; pdsctl checks and signs that update with the user's rotation key (RECOVERY_KEY, a
#    file from `pdsctl account create --generate-recovery-key`), or, for an account
#    without one, has the old daemon sign it (OLD_PDS_URL, its public URL, with
#    PASSWORD_FILE and PLC_TOKEN_FILE, the code it e-mailed after
#    `pdsctl import DIR --old-pds URL --password-file F --request-plc-token`). The daemon
#    verifies everything before it activates the account,
# 3. checks that both sides agree on the DID, the MST root and the number of records (the
#    commit itself changes: the new daemon re-signs the tree with its own key),
# 4. deactivates the account on the old daemon (set KEEP_OLD=1 to skip).
#
# Both daemons must use the same PLC directory (the public one, or in development one
# daemon's built-in directory: start the other with `--plc-url <its URL>`).
# Every pdsctl call uses --json --yes: no prompts, one JSON document per call, parsed
# here with python3 (no jq needed). Set PDSCTL to use another pdsctl binary.
# Exit status: 0 when migrated, 1 on any failure (the old account stays active then).
set -euo pipefail

usage() { echo "usage: $0 HANDLE|DID FROM_SOCKET TO_SOCKET [EXPORT_DIR]" >&2; exit 2; }
[ $# -ge 3 ] && [ $# -le 4 ] || usage
ID=$1 FROM=$2 TO=$3
DIR=${4:-$(mktemp -d "${TMPDIR:-/tmp}/pdsd-migrate.XXXXXX")}
PDSCTL=${PDSCTL:-pdsctl}

# field JSON KEY: print one top-level field of a JSON document.
field() {
  python3 -c 'import json, sys
doc = json.loads(sys.argv[1])
v = doc[sys.argv[2]]
print(json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"
}

# run SOCKET ARGS...: pdsctl with --json --yes; on failure print its error and stop.
run() {
  local socket=$1; shift
  local out
  if ! out=$("$PDSCTL" --socket "$socket" --json --yes "$@"); then
    echo "migrate: pdsctl $* failed: $(field "$out" message 2>/dev/null || echo "$out")" >&2
    exit 1
  fi
  printf '%s' "$out"
}

echo "exporting $ID from $FROM into $DIR" >&2
exported=$(run "$FROM" export "$ID" --out "$DIR")
did=$(field "$exported" did)
commit=$(field "$exported" commit)
data=$(field "$exported" data)
echo "  $did: commit $commit, MST root $data, $(field "$exported" records) records, $(field "$exported" blobs) blobs" >&2

echo "importing into $TO" >&2
if [ -n "${RECOVERY_KEY:-}" ]; then
  imported=$(run "$TO" import "$DIR" --recovery-key "$RECOVERY_KEY")
elif [ -n "${OLD_PDS_URL:-}" ]; then
  imported=$(run "$TO" import "$DIR" --old-pds "$OLD_PDS_URL" \
    --password-file "${PASSWORD_FILE:?PASSWORD_FILE is needed with OLD_PDS_URL}" \
    --plc-token-file "${PLC_TOKEN_FILE:?PLC_TOKEN_FILE is needed with OLD_PDS_URL}")
else
  imported=$(run "$TO" import "$DIR")
fi
for key in did data records; do
  want=$(field "$exported" "$key"); got=$(field "$imported" "$key")
  if [ "$want" != "$got" ]; then
    echo "migrate: $key differs after import: exported $want, imported $got" >&2
    exit 1
  fi
done

if [ "${KEEP_OLD:-0}" != 1 ]; then
  run "$FROM" account deactivate "$did" >/dev/null
  echo "deactivated $did on $FROM" >&2
fi
printf '{"did": "%s", "commit": "%s", "data": "%s", "export_dir": "%s"}\n' \
  "$did" "$commit" "$data" "$DIR"
