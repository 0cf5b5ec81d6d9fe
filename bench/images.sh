#!/usr/bin/env bash
# bench/images.sh — image store throughput: import, save and load of a small
# rootfs (busybox) and a larger one (~/usr/share/doc + /usr/bin, bounded), each
# the median of $RUNS runs against a private daemon on a temporary data root.
# Side by side in the same run: skopeo (docker-archive -> OCI layout) for load,
# and GNU tar extraction for import, with the ratio berth/peer (lower is faster).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BERTH="${BERTH_BIN:-${CARGO_TARGET_DIR:-/var/cache/berth/target}/release/berth}"
RUNS="${RUNS:-3}"
work="$(mktemp -d /var/tmp/berth-bench.XXXXXX)"
sock="$work/b.sock"
"$BERTH" daemon --data-root "$work/root" -H "unix://$sock" >"$work/daemon.log" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null; wait $dpid 2>/dev/null; rm -rf "$work"' EXIT
export BERTH_HOST="unix://$sock"
for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done

# datasets
BERTH_BIN="$BERTH" bash "$here/scripts/starter-image.sh" bench/small:1 >/dev/null
"$BERTH" save -o "$work/small.tar" bench/small:1
"$BERTH" rmi bench/small:1 >/dev/null
(cd / && tar -cf - --exclude='*.gz' usr/share/doc usr/bin 2>/dev/null | head -c 400000000 > "$work/large-raw.tar") || true
# cut at a whole entry boundary: let tar re-pack what it can read
mkdir "$work/large"; tar -xf "$work/large-raw.tar" -C "$work/large" 2>/dev/null || true
tar -cf "$work/large.tar" -C "$work/large" . ; rm -rf "$work/large" "$work/large-raw.tar"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Times a command; a failing command stops the benchmark with its output.
secs() {
  local s e
  s=$(date +%s.%N)
  if ! "$@" >"$work/cmd.log" 2>&1; then echo "benchmark step failed: $*" >&2; cat "$work/cmd.log" >&2; exit 1; fi
  e=$(date +%s.%N); echo "$e - $s" | bc -l
}
mb() { echo "scale=1; $(stat -c %s "$1") / 1000000" | bc; }

printf '%-34s %10s %10s %10s %8s\n' "operation" "size(MB)" "berth(s)" "peer(s)" "ratio"
for ds in small large; do
  rootfs="$work/$ds.tar"
  [ "$ds" = small ] && { mkdir -p "$work/x"; tar -xf "$rootfs" -C "$work/x"; layer=$(ls "$work"/x/blobs/sha256/* | xargs ls -S | head -1); cp "$layer" "$work/small-rootfs.tar"; rm -rf "$work/x"; rootfs="$work/small-rootfs.tar"; }
  imp=(); tarx=(); sav=(); lod=(); sko=()
  for i in $(seq "$RUNS"); do
    imp+=("$(secs "$BERTH" import "$rootfs" "bench/$ds:$i")")
    d="$work/tarx"; rm -rf "$d"; mkdir "$d"
    tarx+=("$(secs tar -xf "$rootfs" -C "$d")"); rm -rf "$d"
  done
  for i in $(seq 2 "$RUNS"); do "$BERTH" rmi "bench/$ds:$i" >/dev/null; done
  for i in $(seq "$RUNS"); do
    sav+=("$(secs "$BERTH" save -o "$work/$ds-saved.tar" "bench/$ds:1")")
  done
  "$BERTH" rmi "bench/$ds:1" >/dev/null
  for i in $(seq "$RUNS"); do
    lod+=("$(secs "$BERTH" load -i "$work/$ds-saved.tar")")
    "$BERTH" rmi "bench/$ds:1" >/dev/null
    rm -rf "$work/oci"
    sko+=("$(secs skopeo copy --quiet "docker-archive:$work/$ds-saved.tar" "oci:$work/oci:x")")
  done
  m() { printf '%s\n' "$@" | median; }
  row() { printf '%-34s %10s %10.3f %10s %8s\n' "$1" "$2" "$3" "$4" "$5"; }
  ratio() { echo "scale=2; $1 / $2" | bc -l; }
  I=$(m "${imp[@]}"); T=$(m "${tarx[@]}"); S=$(m "${sav[@]}"); L=$(m "${lod[@]}"); K=$(m "${sko[@]}")
  row "import $ds (vs tar -x)" "$(mb "$rootfs")" "$I" "$(printf %.3f "$T")" "$(ratio "$I" "$T")"
  row "save $ds" "$(mb "$work/$ds-saved.tar")" "$S" "-" "-"
  if command -v skopeo >/dev/null; then
    row "load $ds (vs skopeo copy to oci)" "$(mb "$work/$ds-saved.tar")" "$L" "$(printf %.3f "$K")" "$(ratio "$L" "$K")"
  else
    row "load $ds" "$(mb "$work/$ds-saved.tar")" "$L" "-" "-"
  fi
done
echo "(median of $RUNS runs; berth import/load also hash, fsync and unpack for overlayfs; skopeo copy only stores blobs)"
