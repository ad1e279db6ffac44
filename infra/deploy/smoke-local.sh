#!/usr/bin/env bash
# The smoke test (infra/deploy/smoke.sh) against the local API, so the script the deploy
# workflow trusts with each stage is itself proven on every run of the test command.
#
#   infra/deploy/smoke-local.sh LOCAL_API_BINARY
#
# Starts the binary on a free loopback port with a fresh data directory and the demo data (so
# the flight search and the catalogue answer with something), runs the smoke test against it and
# stops it, also when the smoke test fails.
set -euo pipefail

if [[ $# -ne 1 || ! -x "$1" ]]; then
    echo "usage: $0 LOCAL_API_BINARY (an executable)" >&2
    exit 2
fi
BINARY="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="$(mktemp -d)"
API_PID=""

stop() {
    if [[ -n "$API_PID" ]] && kill -0 "$API_PID" 2>/dev/null; then
        kill "$API_PID" 2>/dev/null || true
        wait "$API_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap stop EXIT

# PORT=0 lets the system pick a free port; the server prints the address it listens on.
PORT=0 DATA_DIR="$DATA/data" ITINERA_DEMO=1 LOG_LEVEL=error "$BINARY" >"$DATA/stdout" 2>"$DATA/stderr" &
API_PID=$!

BASE=""
for _ in $(seq 1 240); do
    BASE="$(grep -o -m1 'listening on http://[0-9.:]*' "$DATA/stdout" 2>/dev/null | cut -d' ' -f3 || true)"
    # The demo data is loaded before the server says so; wait for that line too.
    if [[ -n "$BASE" ]] && grep -q 'Demo data loaded' "$DATA/stdout"; then
        break
    fi
    if ! kill -0 "$API_PID" 2>/dev/null; then
        API_PID=""
        echo "the local API exited before it listened:" >&2
        tail -n 20 "$DATA/stderr" >&2 || true
        exit 1
    fi
    BASE=""
    sleep 0.25
done
if [[ -z "$BASE" ]]; then
    echo "the local API did not start with its demo data within 60 s" >&2
    tail -n 20 "$DATA/stderr" >&2 || true
    exit 1
fi

"$ROOT/infra/deploy/smoke.sh" "$BASE"
