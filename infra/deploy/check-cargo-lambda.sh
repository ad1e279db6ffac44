#!/usr/bin/env bash
# The cargo-lambda path of the deploy workflow, proven locally: `cargo lambda build` of one
# function with the release profile, and a check that it left a Lambda `bootstrap` executable
# where SAM collects it (target/lambda/<function>/bootstrap).
#
#   infra/deploy/check-cargo-lambda.sh CARGO_LAMBDA [FUNCTION]     (FUNCTION defaults to health)
#
# It builds for x86_64, the host: the workflow builds for arm64 (--arm64, through zig), whose
# Rust standard library these machines cannot install; everything else on the path (cargo
# lambda from its Python package, the workspace's release profile, the output layout SAM's
# rust-cargolambda builder reads) is the same. The test command runs it with the profile's LTO
# and codegen-unit knobs turned down (CARGO_PROFILE_RELEASE_*) to keep its time; see
# docs/deploy.md. CARGO_LAMBDA is the cargo-lambda executable to use (the test command's
# .venv/bin/cargo-lambda).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || ! -x "$1" ]]; then
    echo "usage: $0 CARGO_LAMBDA [FUNCTION]" >&2
    exit 2
fi
# Absolute, because the PATH entry made from it below must hold in the build scripts' directories.
CARGO_LAMBDA="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
FUNCTION="${2:-health}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BOOTSTRAP="$TARGET/lambda/$FUNCTION/bootstrap"

# cargo-lambda runs as a cargo subcommand; its directory on PATH lets cargo find it, and lets
# cargo-lambda find zig (`python3 -m ziglang` of the same environment) in every build script.
# Keep the venv's path stable between runs: the zig wrappers cargo-lambda hands the C builds
# depend on it, and a different one rebuilds every crate with C code and all above them.
PATH="$(dirname "$CARGO_LAMBDA"):$PATH"
export PATH
rm -f "$BOOTSTRAP"
cargo lambda build --release --locked --bin "$FUNCTION"

[[ -x "$BOOTSTRAP" ]] || { echo "FAILED: cargo lambda left no executable $BOOTSTRAP" >&2; exit 1; }
# An ELF executable for the host's machine (x86-64 here), 64-bit, little-endian.
python3 - "$BOOTSTRAP" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    header = f.read(20)
if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
    sys.exit(f"FAILED: {sys.argv[1]} is not a 64-bit little-endian ELF file")
kind, machine = struct.unpack("<HH", header[16:20])
if kind not in (2, 3) or machine != 0x3E:
    sys.exit(f"FAILED: {sys.argv[1]} is not an x86-64 executable (type {kind}, machine {machine:#x})")
PY
echo "cargo lambda built $BOOTSTRAP ($(du -h "$BOOTSTRAP" | cut -f1))"
