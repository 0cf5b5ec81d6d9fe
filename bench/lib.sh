# bench/lib.sh — what the benchmark scripts share: a daemon of their own,
# timing a command $RUNS times and keeping the results in run order.
# Sourced; needs $BERTH, $RUNS and $work.
now_ns() { date +%s%N; }

# Runs a command $RUNS times (failing loudly); prints the median in
# microseconds.
median_us() {
  local t=() s e
  for _ in $(seq "$RUNS"); do
    s=$(now_ns)
    if ! "$@" >"$work/cmd.log" 2>&1; then echo "benchmark step failed: $*" >&2; cat "$work/cmd.log" >&2; exit 1; fi
    e=$(now_ns); t+=($(( (e - s) / 1000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

declare -A result
order=()
skipped=()
# measure NAME DECIMALS COMMAND…: the median in milliseconds, kept as NAME.
measure() {
  local name="$1" decimals="$2"; shift 2
  result[$name]=$(awk -v us="$(median_us "$@")" -v d="$decimals" 'BEGIN {printf "%.*f", d, us/1000}')
  order+=("$name")
}

# start_daemon BRIDGE BIP [ARGS…]: a daemon on $work's data root and socket
# ($sock, $dpid; BERTH_HOST set), up before it returns. On exit it is stopped,
# after the script's `before_cleanup` if it defines one, and its bridge and
# $work go.
start_daemon() {
  local bridge="$1" bip="$2"; shift 2
  sock="$work/b.sock"
  bench_bridge="$bridge"
  "$BERTH" daemon --data-root "$work/root" -H "unix://$sock" --bridge "$bridge" --bip "$bip" "$@" \
    >"$work/daemon.log" 2>&1 &
  dpid=$!
  trap bench_cleanup EXIT
  export BERTH_HOST="unix://$sock"
  for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done
}

bench_cleanup() {
  if declare -F before_cleanup >/dev/null; then before_cleanup; fi
  kill "$dpid" 2>/dev/null || true; wait 2>/dev/null || true
  ip link del "$bench_bridge" 2>/dev/null || true
  rm -rf "$work"
}
