#!/usr/bin/env bash
# fuzz.sh — `make fuzz`: runs each fuzz target (cargo-fuzz, libFuzzer) for
# FUZZ_SECONDS (default 60) from the committed corpus, which keeps what the
# run found new, minimized. A crash stops the run; its input is left under
# fuzz/artifacts/TARGET/. Once fixed, copy it into fuzz/corpus/TARGET/: the
# corpus replays through the same code on every `make test`
# (berth::fuzzing's test), so it stays a regression test.
#
#   FUZZ_SECONDS=300 FUZZ_TARGETS="layer" make fuzz
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${BERTH_CACHE:-/var/cache/berth}"
secs="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-dockerfile reference layer api_json}"
log() { printf '[fuzz] %s\n' "$*" >&2; }

if ! command -v cargo-fuzz >/dev/null; then
  log "cargo install cargo-fuzz"
  CARGO_TARGET_DIR="$CACHE/target-tools" cargo install cargo-fuzz --locked >/dev/null
fi
export CARGO_TARGET_DIR="$CACHE/target-fuzz"
# cargo-fuzz passes -Z flags (sanitizer, coverage); this machine has the
# stable toolchain only.
export RUSTC_BOOTSTRAP=1
cd "$here"
for t in $targets; do
  corpus="fuzz/corpus/$t"
  before=$(find "$corpus" -type f | wc -l)
  log "$t: ${secs}s from $before inputs"
  set +e
  cargo fuzz run "$t" "$corpus" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=262144 -timeout=20 \
    > "$CACHE/fuzz-$t.log" 2>&1
  status=$?
  set -e
  grep -E '^(#[0-9]+.*DONE|SUMMARY|artifact_prefix)|panicked at' "$CACHE/fuzz-$t.log" >&2 || true
  if [ "$status" -ne 0 ]; then
    log "$t: a crash; its input is in fuzz/artifacts/$t/"
    exit 1
  fi
  # Keep the corpus small: only inputs that add coverage.
  cargo fuzz cmin "$t" "$corpus" >/dev/null 2>&1 || log "$t: cmin failed; the corpus stays as it grew"
  log "$t: done, corpus $before -> $(find "$corpus" -type f | wc -l) inputs"
done
