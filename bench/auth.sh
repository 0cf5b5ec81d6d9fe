#!/usr/bin/env bash
# bench/auth.sh — what accounts cost a request, median of $RUNS runs each, in
# the same run of this script (curl per request, release daemon):
#   GET /containers/json on the unix socket (root: no authentication)
#   the same on TCP with an API token (SHA-256 + one SQLite lookup + teams)
#   the same on TCP with a session cookie
#   POST /berth/login (argon2id: the cost a password guess pays)
# Docker has no accounts and Portainer is not installed here: there is no peer
# to run side by side, so the ratios are against the unauthenticated socket.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BERTH="${BERTH_BIN:-${CARGO_TARGET_DIR:-/var/cache/berth/target}/release/berth}"
RUNS="${RUNS:-50}"
work="$(mktemp -d /var/tmp/berth-bench-auth.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
pw="bench-admin-password"
printf '%s\n' "$pw" > "$work/pw"
. "$here/bench/lib.sh"
start_daemon berthbench1 172.31.252.1/24 -H "tcp://127.0.0.1:$port" --admin-password-file "$work/pw"
base="http://127.0.0.1:$port"
login() { curl -sf -c "$work/cookies" -o "$work/session.json" -X POST "$base/berth/login" -d "{\"Username\":\"admin\",\"Password\":\"$pw\"}"; }
login
csrf="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CsrfToken"])' "$work/session.json")"
token="$(curl -sf -b "$work/cookies" -H "X-CSRF-Token: $csrf" -X POST "$base/berth/tokens" -d '{"Name":"bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Token"])')"

measure "unix socket, root" 2 curl -sf --unix-socket "$sock" http://b/containers/json
measure "TCP, API token" 2 curl -sf -H "Authorization: Bearer $token" "$base/containers/json"
measure "TCP, session cookie" 2 curl -sf -b "$work/cookies" "$base/containers/json"
RUNS=$(( RUNS < 20 ? RUNS : 20 )) measure "POST /berth/login (argon2id)" 1 login

ref="${result[unix socket, root]}"
printf '%-32s %10s %8s\n' "request" "median ms" "ratio"
for k in "${order[@]}"; do
  printf '%-32s %10s %8s\n' "$k" "${result[$k]}" "$(awk -v a="${result[$k]}" -v b="$ref" 'BEGIN {printf "%.2fx", a/b}')"
done
