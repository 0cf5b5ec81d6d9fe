#!/usr/bin/env bash
# bench/load.sh — load, bounded in count and time (release daemon):
#   1. $N (200) busybox web servers started at once (`berth run -d`, all in
#      parallel); the wall time, and that every one answers on its address;
#   2. memory per idle container: the RSS of the `berth shim` processes,
#      beside conmon or containerd-shim when one is installed and running;
#   3. GET /containers/json?all=1 with 500 containers under wrk on loopback
#      (2 threads, 16 connections, $SECS seconds): requests per second and
#      latency percentiles, unix socket root vs TCP with an API token.
# Everything it starts is removed at the end (containers, daemon, bridge).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BERTH="${BERTH_BIN:-${CARGO_TARGET_DIR:-/var/cache/berth/target}/release/berth}"
N="${N:-200}"
SECS="${SECS:-10}"
work="$(mktemp -d /var/tmp/berth-bench-load.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
pw="bench-admin-password"
printf '%s\n' "$pw" > "$work/pw"
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
. "$here/bench/lib.sh"
before_cleanup() {
  "$BERTH" ps -aq | xargs -r "$BERTH" rm -f >/dev/null 2>&1 || true
}
trap 'exit 130' INT TERM
start_daemon berthbench2 172.31.251.1/22 -H "tcp://127.0.0.1:$port" --admin-password-file "$work/pw"
BERTH_BIN="$BERTH" bash "$here/scripts/starter-image.sh" busybox:latest >/dev/null

# 1. N web servers at once.
start=$(now_ns)
runs=()
for i in $(seq "$N"); do
  "$BERTH" run -d --name "web$i" busybox sh -c 'echo ok > /i; exec httpd -f -p 80 -h /' >/dev/null &
  runs+=($!)
done
failed=0
for p in "${runs[@]}"; do wait "$p" || failed=$((failed + 1)); done  # not the daemon
up_ms=$(( ($(now_ns) - start) / 1000000 ))
reachable=0
deadline=$(( $(date +%s) + 60 ))
for i in $(seq "$N"); do
  ip=$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' "web$i" 2>/dev/null || true)
  [ -n "$ip" ] || continue
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if [ "$(curl -s -m 1 "http://$ip/i" || true)" = ok ]; then reachable=$((reachable + 1)); break; fi
    sleep 0.2
  done
done
printf '%d containers started at once in %d ms (%d runs failed); %d of them answer on their address\n' "$N" "$up_ms" "$failed" "$reachable"

# 2. Memory per idle container.
rss_of() { ps -C "$1" -o rss= 2>/dev/null | awk '{s+=$1; n++} END {if (n) printf "%.2f MiB each (%d processes)", s/n/1024, n; else print "none running"}'; }
shim_kb=$(ps -eo rss=,args= | awk '/berth shim/ && !/awk/ {s+=$1; n++} END {if (n) printf "%.2f MiB each (%d shims)", s/n/1024, n}')
printf 'berth shim RSS: %s\n' "$shim_kb"
for peer in conmon containerd-shim containerd-shim-runc-v2; do
  if command -v "$peer" >/dev/null; then printf '%s RSS: %s\n' "$peer" "$(rss_of "$peer")"; else printf '%s: not installed\n' "$peer"; fi
done

# 3. The list under load, with 500 containers.
for i in $(seq $((500 - N))); do "$BERTH" create --name "idle$i" busybox true >/dev/null; done
login() { curl -sf -c "$work/cookies" -o "$work/session.json" -X POST "http://127.0.0.1:$port/berth/login" -d "{\"Username\":\"admin\",\"Password\":\"$pw\"}"; }
login
csrf="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CsrfToken"])' "$work/session.json")"
token="$(curl -sf -b "$work/cookies" -H "X-CSRF-Token: $csrf" -X POST "http://127.0.0.1:$port/berth/tokens" -d '{"Name":"bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Token"])')"
count=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/containers/json?all=1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "GET /containers/json?all=1 with $count containers, wrk -t2 -c16 -d${SECS}s on loopback (TCP, API token):"
wrk -t2 -c16 -d"${SECS}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/containers/json?all=1" \
  | awk '/Requests\/sec|Latency Distribution|^ +(50|90|99)%|Non-2xx/'
echo "docker (dockerd) is not running on this machine: no side-by-side figure."
