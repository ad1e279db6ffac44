#!/usr/bin/env bash
# Measures the functions of the capacity model's traffic mix (docs/capacity.md) and writes
# docs/capacity/lambda-measured.json: per function, init (exec -> first poll), the first response,
# the warm invocation duration and the peak RSS, from infra/bench/coldstart.sh with
# infra/capacity/seed.py seeding the table through the functions themselves.
#
# Builds only the binaries it runs (the measured ones and the ones the seed creates data with),
# with the release profile the deploy uses, into target/bench-release. Then recompute the model:
# python3 infra/capacity/model.py
#
# Environment: RUNS (default 6), INVOCATIONS (default 4), SKIP_BUILD=1 as for coldstart.sh,
# OUT (default docs/capacity/lambda-measured.json), SEED_BIN_DIR: where the functions that only
# seed are (any build of this tree, e.g. target/debug), instead of building them in release too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# The traffic mix (docs/capacity/traffic.json names the same functions) and what seeds it. Not the
# worker (process-jobs): its SES client, as built for Lambda, takes no endpoint override, so it
# cannot be pointed at moto and every email would fail (docs/capacity.md says so).
MEASURED="login register refresh authorizer search-flights get-flight create-booking pay-booking cancel-booking
list-bookings get-booking search-catalogue get-car-availability create-contract relay-outbox
expire-holds health"
SEEDING="create-airport create-airplane create-flight create-my-customer create-car"
# Each invocation of a write needs its own seeded booking, token or day; past about a hundred
# bookings moto's table grows slow enough on a shared machine to miss the functions' 5 s timeout.
RUNS="${RUNS:-6}"
INVOCATIONS="${INVOCATIONS:-4}"
OUT="${OUT:-$ROOT/docs/capacity/lambda-measured.json}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench-release}"
JSON_DIR="$(mktemp -d "${TMPDIR:-/tmp}/itinera-capacity.XXXXXX")"
trap 'rm -rf "$JSON_DIR"' EXIT

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    bins=()
    build="$MEASURED"
    [[ -n "${SEED_BIN_DIR:-}" ]] || build="$build $SEEDING"
    for function in $build; do bins+=(--bin "$function"); done
    cargo build --release -p itinera-functions "${bins[@]}"
    cargo build --release -p coldstart
fi

# The limits a single client meets would stop the seed and the repeated writes long before the
# runs end; the counter is still written on every request, only the threshold is raised. The
# global tier is the WAF's in AWS (template.yaml), so the functions do not count it there either.
# The test-card gateway stands in for the payment provider (docs/payments.md).
EXTRA="RATE_WRITE_MAX=1000000 RATE_AUTH_MAX=1000000 RATE_AUTH_ACCOUNT_MAX=1000000
RATE_GLOBAL_ENFORCEMENT=edge MAX_PENDING_BOOKINGS=50 PAYMENT_GATEWAY=test-cards STAGE_KIND=test
${EXTRA_ENV:-}"

SKIP_BUILD=1 RUNS="$RUNS" INVOCATIONS="$INVOCATIONS" FUNCTIONS="$(echo $MEASURED)" \
    SEED="$ROOT/infra/capacity/seed.py" JSON_DIR="$JSON_DIR" EXTRA_ENV="$(echo $EXTRA)" \
    infra/bench/coldstart.sh

python3 - "$JSON_DIR" "$OUT" "$RUNS" "$INVOCATIONS" "$(echo $EXTRA)" $MEASURED <<'PY'
import datetime, json, os, platform, sys

directory, out, runs, invocations, extra, *functions = sys.argv[1:]
cpu = "unknown"
try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
except (OSError, StopIteration):
    pass
measured = {}
for function in functions:
    with open(os.path.join(directory, f"{function}.json"), encoding="utf-8") as f:
        summary = json.load(f)
    summary.pop("function")
    measured[function] = summary
document = {
    "description": "Lambda functions of the traffic mix measured by infra/capacity/measure.sh "
                   "(the cold-start harness, infra/coldstart, against moto on loopback; "
                   "docs/benchmarks.md): init is exec -> first poll, warm invocations are "
                   "poll -> response of the invocations after the first in one process, peak "
                   "RSS is VmHWM after the last response. Times in ms, memory in MiB.",
    "command": f"RUNS={runs} INVOCATIONS={invocations} infra/capacity/measure.sh",
    "measuredOn": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    "machine": {"cpu": cpu, "cores": os.cpu_count(), "arch": platform.machine(),
                "loadAverage": [round(load, 2) for load in os.getloadavg()]},
    "environmentOverrides": extra.split(),
    # The functions that only seed data may come from another build of the tree (SEED_BIN_DIR).
    "seedFunctionsFrom": os.path.relpath(os.environ.get("SEED_BIN_DIR") or os.environ["CARGO_TARGET_DIR"] + "/release"),
    "functions": measured,
}
with open(out, "w", encoding="utf-8") as f:
    json.dump(document, f, indent=2, sort_keys=True)
    f.write("\n")
print(f"wrote {out}")
PY
