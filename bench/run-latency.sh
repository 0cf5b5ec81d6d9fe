#!/usr/bin/env bash
# bench/run-latency.sh — time to run `true` in a fresh container, end to end,
# median of $RUNS runs, all in the same run of this script:
#   berth run --rm busybox true                 (through the daemon, bridge network)
#   berth run --rm --network none busybox true  (through the daemon, no network)
#   crun run / runc run on an equivalent bundle (same busybox rootfs; new pid,
#                                                mount, uts, ipc and net namespaces)
#   docker run --rm / podman run --rm           (when a daemon answers)
#   unshare ... chroot ROOTFS /bin/true         (the floor: namespaces + exec only)
# crun and runc come from Debian (installed here when missing and apt works).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BERTH="${BERTH_BIN:-${CARGO_TARGET_DIR:-/var/cache/berth/target}/release/berth}"
RUNS="${RUNS:-20}"
for peer in crun runc; do
  command -v "$peer" >/dev/null || apt-get -o DPkg::Lock::Timeout=600 -y -q install --no-install-recommends "$peer" >/dev/null 2>&1 || true
done
work="$(mktemp -d /var/tmp/berth-bench-run.XXXXXX)"
. "$here/bench/lib.sh"
# Containers a failed run leaves go before the daemon does.
before_cleanup() {
  "$BERTH" rm -f $("$BERTH" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
}
start_daemon berthbench0 172.31.251.1/24
BERTH_BIN="$BERTH" bash "$here/scripts/starter-image.sh" busybox:latest >/dev/null

# The same rootfs as a bundle for crun/runc and the unshare floor.
mkdir -p "$work/bundle/rootfs" "$work/img"
"$BERTH" save -o "$work/img.tar" busybox:latest
tar -xf "$work/img.tar" -C "$work/img"
for layer in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$work/img/manifest.json"); do
  tar -xf "$work/img/$layer" -C "$work/bundle/rootfs"
done
[ -x "$work/bundle/rootfs/bin/busybox" ] || { echo "could not unpack the busybox rootfs" >&2; exit 1; }


"$BERTH" run --rm busybox true   # warm caches once
measure "berth run (bridge)" 1 "$BERTH" run --rm busybox true
measure "berth run (--network none)" 1 "$BERTH" run --rm --network none busybox true

for rt in crun runc; do
  command -v "$rt" >/dev/null || continue
  b="$work/bundle-$rt"; mkdir -p "$b"; cp -a "$work/bundle/rootfs" "$b/rootfs"
  (cd "$b" && "$rt" spec)
  python3 - "$b/config.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["readonly"] = False
json.dump(c, open(p, "w"))
PY
  n=0
  # A runtime that cannot run on this host (crun 1.8 refuses hybrid cgroup
  # hosts with controllers on the unified hierarchy) is reported, not timed.
  if ! probe=$("$rt" run --bundle "$b" "probe-$rt-$$" </dev/null 2>&1); then
    skipped+=("$rt run: cannot run here: $(echo "$probe" | tail -1)")
    continue
  fi
  run_rt() { n=$((n+1)); "$rt" run --bundle "$b" "bench-$rt-$$-$n" </dev/null; }
  measure "$rt run" 1 run_rt
done

for peer in docker podman; do
  if command -v "$peer" >/dev/null && env -u DOCKER_HOST "$peer" info >/dev/null 2>&1 \
     && env -u DOCKER_HOST "$peer" image inspect busybox >/dev/null 2>&1; then
    measure "$peer run --rm" 1 env -u DOCKER_HOST "$peer" run --rm busybox true
  fi
done
measure "unshare+chroot (floor)" 1 unshare --fork --pid --mount --uts --ipc --net chroot "$work/bundle/rootfs" /bin/true

base="${result[berth run (bridge)]}"
printf '%-30s %12s %22s\n' "runner (RUNS=$RUNS)" "median ms" "vs berth run (bridge)"
for name in "${order[@]}"; do
  printf '%-30s %12s %21sx\n' "$name" "${result[$name]}" "$(echo "scale=2; ${result[$name]} / $base" | bc -l)"
done
for s in "${skipped[@]}"; do echo "not timed: $s"; done
