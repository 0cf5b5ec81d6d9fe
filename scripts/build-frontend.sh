#!/usr/bin/env bash
# build-frontend.sh [DIST] — build frontend/ to wasm32 with Debian's rustc-web
# (std from source via -Zbuild-std), run wasm-bindgen and wasm-opt, and lay out
# DIST (default frontend/dist): index.html, app.js, app_bg.wasm, static files.
# The frontend keeps its own target dir: it is built by another compiler.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
CRATE="$here/frontend"
DIST="${1:-$CRATE/dist}"
CACHE="${BERTH_CACHE:-/var/cache/berth}"
WO="${WASM_TOOLS_DIR:-$CACHE/wasm-tools}/node_modules/.bin/wasm-opt"
log() { printf '[build-frontend] %s\n' "$*" >&2; }

export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
unset RUSTUP_TOOLCHAIN RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTC RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_TARGET || true
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/bin/rust-lld
export CARGO_TARGET_DIR="${WEB_TARGET_DIR:-$CACHE/target-web}"

start=$(date +%s)
/usr/bin/cargo build --manifest-path "$CRATE/Cargo.toml" --locked --release \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
log "cargo build took $(( $(date +%s) - start ))s"

tmp="$DIST.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$tmp" --out-name app "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/berth-ui.wasm"
if [ -x "$WO" ]; then
  "$WO" -Oz "$tmp/app_bg.wasm" -o "$tmp/app_bg.opt.wasm" && mv "$tmp/app_bg.opt.wasm" "$tmp/app_bg.wasm"
fi
cp "$CRATE/index.html" "$tmp/"
cp -r "$CRATE/static/." "$tmp/"
XTERM="${WASM_TOOLS_DIR:-$CACHE/wasm-tools}/node_modules/@xterm/xterm"
[ -f "$XTERM/lib/xterm.js" ] || { log "xterm.js is missing: run scripts/setup.sh"; exit 1; }
cp "$XTERM/lib/xterm.js" "$XTERM/css/xterm.css" "$tmp/"
rm -rf "$DIST"; mv "$tmp" "$DIST"
raw=$(stat -c %s "$DIST/app_bg.wasm"); gz=$(gzip -9 -c "$DIST/app_bg.wasm" | wc -c)
log "dist ready: $DIST (app_bg.wasm $raw bytes, $gz gzip)"
