#!/usr/bin/env bash
# Cold starts of the Lambda binaries, end to end on this machine: builds the release binaries and
# the harness, starts moto on a free loopback port, creates the table and seeds the airplane the
# sample event asks for, then runs the harness (infra/coldstart) for get-airplane and health (or
# FUNCTIONS, from one or more builds, and a reference binary) and prints the binaries' stripped
# and zipped sizes. Stops moto on exit.
#
# Environment:
#   RUNS               measured runs per binary (default 20)
#   INVOCATIONS        invocations per run (default 1): the first cold, the others warm
#                      (docs/benchmarks.md, "Warm invocations")
#   FUNCTIONS          binaries to measure (default "get-airplane health")
#   CARGO_TARGET_DIR   default target/bench-release, so that release experiments leave the
#                      shared debug build alone
#   SKIP_BUILD=1       measure the binaries already built in CARGO_TARGET_DIR
#   BIN_DIR            where the function binaries are (default CARGO_TARGET_DIR/release; the
#                      harness always comes from there); infra/bench/profiles.sh uses it
#   BIN_DIRS           space-separated LABEL=DIR: measure FUNCTIONS from each of these
#                      directories in turn, in one run against one moto (default: BIN_DIR,
#                      unlabelled), e.g. "before=target/bench-release/before after=target/..."
#   REFERENCE          a reference binary measured with events/get-airplane.json in the same
#                      run (labelled "minimal"), e.g. the minimal-getitem build (docs/benchmarks.md)
#   EXTRA_ENV          space-separated K=V added to every function's environment, e.g.
#                      SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt to read one CA bundle
#                      (as on Lambda's OS image) instead of every file of a Debian /etc/ssl/certs
#   MOTO_START_TIMEOUT seconds to wait for moto (default 30)
#   JSON_DIR           also write each binary's summary to JSON_DIR/<label>.json (the harness's
#                      --json; labels with a / become -)
#   SEED               a script run once moto and the table are up, before the measurements, with
#                      ENDPOINT, TABLE, WORK, BIN_DIR, HARNESS and INVOCATIONS_TOTAL (invocations
#                      per function, the warm-up run's included) in its environment, and in
#                      WORK/common-env the variables every function gets (NUL-separated K=V). It
#                      may write WORK/events/<function>/*.json, the events that function's
#                      invocations take in turn (sorted by name) instead of events/<function>.json,
#                      and K=V lines added to the environment of every function (WORK/env/all)
#                      or of one (WORK/env/<function>). infra/capacity/measure.sh seeds the
#                      traffic mix this way.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

RUNS="${RUNS:-20}"
INVOCATIONS="${INVOCATIONS:-1}"
FUNCTIONS="${FUNCTIONS:-get-airplane health}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench-release}"
RELEASE="$CARGO_TARGET_DIR/release"
BIN_DIR="${BIN_DIR:-$RELEASE}"
MOTO_START_TIMEOUT="${MOTO_START_TIMEOUT:-30}"
TABLE="itinera-coldstart"
# The id in events/get-airplane.json.
AIRPLANE_ID="0190f5d2-6a3e-7c4b-9a1e-3f2b8c4d5e6f"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/itinera-coldstart.XXXXXX")"
MOTO_PID=""

step() { printf '\n==> %s\n' "$*"; }
fail() {
    printf '\nFAILED: %s\n' "$*" >&2
    exit 1
}

cleanup() {
    if [[ -n "$MOTO_PID" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
        kill "$MOTO_PID" 2>/dev/null || true
        for _ in $(seq 1 20); do
            kill -0 "$MOTO_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# moto and boto3 from the project's venv (infra/test.sh builds it), else from the PATH.
if [[ -x "$ROOT/.venv/bin/moto_server" ]]; then
    MOTO="$ROOT/.venv/bin/moto_server"
    PYTHON="$ROOT/.venv/bin/python"
else
    MOTO="$(command -v moto_server)" || fail "moto_server not found: run infra/test.sh once, or pip install 'moto[server]'"
    PYTHON="$(command -v python3)" || fail "python3 not found"
fi
"$PYTHON" -c 'import boto3' 2>/dev/null || fail "$PYTHON cannot import boto3 (moto depends on it)"

# ---------------------------------------------------------------- build

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    step "Building release binaries into $CARGO_TARGET_DIR"
    bins=()
    for function in $FUNCTIONS; do bins+=(--bin "$function"); done
    cargo build --release -p itinera-functions "${bins[@]}"
    cargo build --release -p coldstart
fi
# What to measure: label, binary and the function whose event it answers, one row each.
labels=() binaries=() events=()
for function in $FUNCTIONS; do
    for pair in ${BIN_DIRS:-=$BIN_DIR}; do
        label="${pair%%=*}"
        labels+=("${label:+$label/}$function")
        binaries+=("${pair#*=}/$function")
        events+=("$function")
    done
done
if [[ -n "${REFERENCE:-}" ]]; then
    labels+=("minimal") binaries+=("$REFERENCE") events+=("get-airplane")
fi
for binary in "${binaries[@]}"; do
    [[ -x "$binary" ]] || fail "$binary is missing"
done
[[ -x "$RELEASE/coldstart" ]] || fail "$RELEASE/coldstart is missing"

# ---------------------------------------------------------------- moto

step "Starting moto"
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$MOTO" -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
ENDPOINT="http://127.0.0.1:$PORT"

deadline=$((SECONDS + MOTO_START_TIMEOUT))
until "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$ENDPOINT/moto-api/data.json', timeout=1)" 2>/dev/null; do
    kill -0 "$MOTO_PID" 2>/dev/null || { tail -n 20 "$WORK/moto.log" >&2; MOTO_PID=""; fail "moto exited"; }
    ((SECONDS < deadline)) || { tail -n 20 "$WORK/moto.log" >&2; fail "moto did not answer within ${MOTO_START_TIMEOUT}s"; }
    sleep 0.25
done
echo "moto on $ENDPOINT (pid $MOTO_PID)"

step "Creating table $TABLE and seeding airplane $AIRPLANE_ID"
[[ -z "${JSON_DIR:-}" ]] || mkdir -p "$JSON_DIR"
# The schema of shared/domain/src/storage/schema.rs and the item layout of
# shared/domain/src/airplanes/records.rs, written directly so the seeded item is exactly what
# create-airplane stores.
"$PYTHON" - "$ENDPOINT" "$TABLE" "$AIRPLANE_ID" <<'PY'
import sys
import boto3

endpoint, table, airplane_id = sys.argv[1:]
client = boto3.client(
    "dynamodb",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="coldstart",
    aws_secret_access_key="coldstart",
)
keys = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
index = lambda n: {
    "IndexName": f"gsi{n}",
    "KeySchema": [
        {"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
        {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}
client.create_table(
    TableName=table,
    BillingMode="PAY_PER_REQUEST",
    KeySchema=[
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
    GlobalSecondaryIndexes=[index(1), index(2)],
)
client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
created = "2026-01-01T08:00:00.000Z"
sort_key = f"{created}#{airplane_id}"
client.put_item(
    TableName=table,
    Item={
        "pk": {"S": f"AIRPLANE#{airplane_id}"},
        "sk": {"S": "AIRPLANE"},
        "gsi1pk": {"S": "AIRPLANES"},
        "gsi1sk": {"S": sort_key},
        "gsi2pk": {"S": "AIRPLANES#MODEL#a320neo"},
        "gsi2sk": {"S": sort_key},
        "entity": {"S": "airplane"},
        "id": {"S": airplane_id},
        "modelNumber": {"S": "A320neo"},
        "capacity": {"N": "180"},
        "version": {"N": "1"},
        "activeFlights": {"N": "0"},
        "createdAt": {"S": created},
        "updatedAt": {"S": created},
    },
)
print(f"table {table} ready, airplane {airplane_id} seeded")
PY

# ---------------------------------------------------------------- measure

# The functions that sign users in need a private key; a throwaway one serves every run.
openssl genpkey -algorithm ed25519 -out "$WORK/jwt.pem" 2>/dev/null || fail "openssl could not make an Ed25519 key"

openssl pkey -in "$WORK/jwt.pem" -pubout -out "$WORK/jwt.pub" 2>/dev/null || fail "openssl could not write the public key"
# What every function gets; the authorizer verifies with the public half of the key login signs with.
common=(
    "TABLE_NAME=$TABLE"
    "DYNAMODB_ENDPOINT=$ENDPOINT"
    "CURSOR_SIGNING_KEY=coldstart-signing-key-0123456789abcdef"
    "JWT_PRIVATE_KEY=$(cat "$WORK/jwt.pem")"
    "JWT_PUBLIC_KEY=$(cat "$WORK/jwt.pub")"
    "LOG_LEVEL=info"
    "PRODUCT_LINE=airline"
)
common+=(${EXTRA_ENV:-})
mkdir -p "$WORK/events" "$WORK/env"
printf '%s\0' "${common[@]}" >"$WORK/common-env"

if [[ -n "${SEED:-}" ]]; then
    step "Seeding with $SEED"
    ENDPOINT="$ENDPOINT" TABLE="$TABLE" WORK="$WORK" BIN_DIR="$BIN_DIR" HARNESS="$RELEASE/coldstart" \
        INVOCATIONS_TOTAL="$(((RUNS + 1) * INVOCATIONS))" "$PYTHON" "$SEED" || fail "$SEED failed"
fi

for index in "${!labels[@]}"; do
    label="${labels[$index]}" function="${events[$index]}"
    step "Cold starts of $label ($RUNS runs of $INVOCATIONS invocation(s))"
    event_args=()
    if [[ -d "$WORK/events/$function" ]]; then
        for event in "$WORK/events/$function"/*.json; do event_args+=(--event "$event"); done
    else
        event="events/$function.json"
        [[ -f "$event" ]] || fail "$event is missing"
        event_args=(--event "$event")
    fi
    env_args=()
    for pair in "${common[@]}"; do env_args+=(--env "$pair"); done
    for file in "$WORK/env/all" "$WORK/env/$function"; do
        [[ -f "$file" ]] || continue
        while IFS= read -r pair; do [[ -z "$pair" ]] || env_args+=(--env "$pair"); done <"$file"
    done
    json_args=()
    [[ -z "${JSON_DIR:-}" ]] || json_args=(--json "$JSON_DIR/${label//\//-}.json")
    "$RELEASE/coldstart" "${binaries[$index]}" \
        --runs "$RUNS" \
        --invocations "$INVOCATIONS" \
        "${event_args[@]}" \
        "${json_args[@]}" \
        --log "$WORK/${label//\//-}.log" \
        "${env_args[@]}"
done

step "Deployment sizes"
# Lambda receives the binary as `bootstrap` inside a deflated zip.
printf '%-28s %14s %14s\n' "function" "stripped" "zip"
for index in "${!labels[@]}"; do
    label="${labels[$index]}" binary="${binaries[$index]}"
    zip_size="$("$PYTHON" - "$binary" "$WORK/${label//\//-}.zip" <<'PY'
import os, sys, zipfile
binary, archive = sys.argv[1:]
with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f:
        z.writestr(info, f.read(), compresslevel=9)
print(os.path.getsize(archive))
PY
)"
    size="$(stat -c %s "$binary")"
    awk -v f="$label" -v s="$size" -v z="$zip_size" \
        'BEGIN { printf "%-28s %10.2f MiB %10.2f MiB   (%d / %d bytes)\n", f, s / 1048576, z / 1048576, s, z }'
done
exit 0
