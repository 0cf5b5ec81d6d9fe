#!/usr/bin/env bash
# setup.sh — install what building, running and testing Berth needs on a fresh
# Debian 12 machine (root, rustup stable, only package registries reachable).
# Idempotent: every step checks before it acts, and a stamp makes a repeat run
# of unchanged setup a no-op.
#
#   apt: Debian's rustc-web toolchain (wasm32 std built from source), lld,
#        busybox-static (the starter image), skopeo (archive interop tests),
#        docker-compose 1.29 (the compose test),
#        chromium + chromium-driver (browser tests), docker.io only when no
#        docker CLI is present (its client drives the e2e tests)
#   npm: binaryen (wasm-opt) and @xterm/xterm (the dashboard's terminal) under $WASM_TOOLS_DIR
#   cargo: wasm-bindgen-cli pinned to the version in frontend/Cargo.lock
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${BERTH_CACHE:-/var/cache/berth}"
WASM_TOOLS_DIR="${WASM_TOOLS_DIR:-$CACHE/wasm-tools}"
BINARYEN_NPM_VERSION=132.0.0
log() { printf '[setup] %s\n' "$*" >&2; }

wbg_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$here/frontend/Cargo.lock")"
stamp="$CACHE/setup-$(cat "$0" "$here/frontend/Cargo.lock" | sha256sum | cut -c1-16).done"
if [ -f "$stamp" ] && command -v wasm-bindgen >/dev/null && [ -x /usr/bin/rustc ] && command -v chromedriver >/dev/null \
  && [ -x "$CACHE/pysdk/bin/python" ] && [ -x "$CACHE/schemathesis/bin/schemathesis" ]; then
  exit 0
fi
mkdir -p "$CACHE"

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
updated=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$updated" -eq 0 ]; then log "apt-get update"; "${APT[@]}" update >/dev/null; updated=1; fi
  log "apt-get install ${missing[*]}"
  # No package may start a service (docker-registry, docker.io would): the
  # tests start what they need themselves, on loopback, and stop it again.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
  fi
  "${APT[@]}" install --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}

apt_install rustc-web cargo-web rust-web-src rust-web-llvm busybox-static skopeo \
  chromium chromium-driver fonts-dejavu-core curl ca-certificates openssl iproute2 libc6-dev bc docker-registry apache2-utils \
  python3-venv docker-compose
# The e2e tests drive Berth with the real docker CLI. Machines of this kind ship
# a 28.x client; elsewhere Debian's docker.io brings a 20.10 client (its engine
# is never started: see apt_install).
if ! command -v docker >/dev/null; then apt_install docker.io; fi
# /usr/bin/rust-lld points at lld-NN, which rust-web-llvm does not pull in.
lld="$(readlink /usr/bin/rust-lld || true)"
case "$lld" in lld-[0-9]*) apt_install "$lld" ;; *) log "unexpected /usr/bin/rust-lld -> '$lld'"; exit 1 ;; esac
/usr/bin/rustc --print target-list | grep -qx wasm32-unknown-unknown || { log "Debian rustc lacks wasm32"; exit 1; }

# wasm-opt from npm's binaryen (Debian's binaryen 108 breaks wasm-bindgen output).
wo="$WASM_TOOLS_DIR/node_modules/.bin/wasm-opt"
if command -v npm >/dev/null && ! { [ -x "$wo" ] && "$wo" --version | grep -q "version ${BINARYEN_NPM_VERSION%%.*} "; }; then
  log "npm install binaryen@$BINARYEN_NPM_VERSION"
  mkdir -p "$WASM_TOOLS_DIR"
  npm install --prefix "$WASM_TOOLS_DIR" --no-audit --no-fund "binaryen@$BINARYEN_NPM_VERSION" >/dev/null || log "wasm-opt unavailable: the wasm stays unoptimised"
fi

# xterm.js for the dashboard's terminal (copied into the dist by build-frontend.sh).
XTERM_NPM_VERSION=5.5.0
if command -v npm >/dev/null && ! grep -qs "\"version\": \"$XTERM_NPM_VERSION\"" "$WASM_TOOLS_DIR/node_modules/@xterm/xterm/package.json"; then
  log "npm install @xterm/xterm@$XTERM_NPM_VERSION"
  mkdir -p "$WASM_TOOLS_DIR"
  npm install --prefix "$WASM_TOOLS_DIR" --no-audit --no-fund "@xterm/xterm@$XTERM_NPM_VERSION" >/dev/null
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate exactly.
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  log "cargo install wasm-bindgen-cli $wbg_version (about 2.5 minutes)"
  cargo install --locked wasm-bindgen-cli --version "=$wbg_version" \
    || cargo install --force wasm-bindgen-cli --version "=$wbg_version"
fi
# The Python docker SDK (`pip install docker`) for the SDK test, in its own venv.
PYSDK="$CACHE/pysdk"
if ! "$PYSDK/bin/python" -c 'import docker' 2>/dev/null; then
  log "pip install docker (the Python SDK, into $PYSDK)"
  /usr/bin/python3 -m venv "$PYSDK"
  "$PYSDK/bin/pip" install -q "docker>=7,<8"
fi

# schemathesis, for the API property test against /berth/openapi.json
# (3.x with a hypothesis it runs with).
SCHEMATHESIS="$CACHE/schemathesis"
if ! "$SCHEMATHESIS/bin/schemathesis" --version >/dev/null 2>&1; then
  log "pip install schemathesis (into $SCHEMATHESIS)"
  /usr/bin/python3 -m venv "$SCHEMATHESIS"
  "$SCHEMATHESIS/bin/pip" install -q "schemathesis>=3.39,<4" "hypothesis<6.120"
fi

touch "$stamp"
log "ready: $(/usr/bin/rustc --version), $(wasm-bindgen --version), $(chromium --version 2>/dev/null)"
