# bench/lib.sh — what the benchmark scripts share: timing a command $RUNS
# times and keeping the results in run order. Sourced; needs $RUNS and $work.
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
