#!/usr/bin/env bash
# Release-profile comparison on one binary (get-airplane): builds it once per configuration, each
# a set of overrides on the [profile.release] of Cargo.toml passed with --config, keeps each
# result, then measures every one with infra/bench/coldstart.sh (cold starts, peak RSS, stripped
# and zipped size). Each build rebuilds every dependency: several minutes apiece on 2 cores.
#
# Environment:
#   CONFIGS            labels to build, in order (default "current unwind opt-s lto-thin")
#   RUNS               measured runs per configuration (default 20)
#   CARGO_TARGET_DIR   default target/bench-release
#   SKIP_BUILD=1       measure the binaries kept by an earlier run
#   SRC                source tree to build (default: this checkout), e.g. a `git archive` of one
#                      commit, so that unfinished work elsewhere in the checkout stays out of
#                      the comparison; the dependencies compiled for one tree serve the next
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/bench-release}"
CONFIGS="${CONFIGS:-current unwind opt-s lto-thin}"
KEPT="$CARGO_TARGET_DIR/profiles"
SRC="${SRC:-$ROOT}"

# The overrides of each configuration; "current" is the profile as committed.
overrides() {
    case "$1" in
        current) ;;
        unwind) echo "--config profile.release.panic=\"unwind\"" ;;
        opt-s) echo "--config profile.release.opt-level=\"s\"" ;;
        opt-s-unwind) echo "--config profile.release.opt-level=\"s\" --config profile.release.panic=\"unwind\"" ;;
        lto-thin) echo "--config profile.release.lto=\"thin\"" ;;
        lto-off) echo "--config profile.release.lto=false" ;;
        *) return 1 ;;
    esac
}

for label in $CONFIGS; do
    overrides "$label" >/dev/null || { echo "unknown configuration $label" >&2; exit 1; }
done

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cd "$SRC"
    cargo build --release -p coldstart
    for label in $CONFIGS; do
        # Word splitting is wanted: the overrides are separate arguments.
        # shellcheck disable=SC2046
        set -- $(overrides "$label")
        printf '\n==> Building get-airplane: %s %s\n' "$label" "$*"
        start=$SECONDS
        cargo build --release "$@" -p itinera-functions --bin get-airplane
        mkdir -p "$KEPT/$label"
        cp "$CARGO_TARGET_DIR/release/get-airplane" "$KEPT/$label/get-airplane"
        echo "$((SECONDS - start)) s" >"$KEPT/$label/build-time"
        echo "built in $((SECONDS - start)) s"
    done
    cd "$ROOT"
fi

for label in $CONFIGS; do
    printf '\n######## %s (built in %s)\n' "$label" "$(cat "$KEPT/$label/build-time" 2>/dev/null || echo '?')"
    SKIP_BUILD=1 FUNCTIONS=get-airplane BIN_DIR="$KEPT/$label" "$ROOT/infra/bench/coldstart.sh"
done
