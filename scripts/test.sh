#!/usr/bin/env bash
# test.sh — `make test`: unit tests of every crate, then the end-to-end suite
# against real daemons (each test starts its own on a temporary data root),
# the real docker CLI, skopeo, and headless Chromium. Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${BERTH_CACHE:-/var/cache/berth}/target}"
start=$(date +%s)
cargo build -p berth
# The Debian base and local apt repository of the apt-get build test (once).
bash "$here/scripts/debian-base.sh"
export BERTH_BIN="$CARGO_TARGET_DIR/debug/berth"
export BERTH_UI_DIST="$here/frontend/dist"
export BERTH_REPO="$here"
# Each e2e test runs its own daemon; two at a time suits 2 cores.
cargo test --workspace --no-fail-fast -- --test-threads="${TEST_THREADS:-2}"
echo "make test: all suites passed in $(( $(date +%s) - start ))s"
