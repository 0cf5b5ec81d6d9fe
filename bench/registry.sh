#!/usr/bin/env bash
# bench/registry.sh — push and pull through Debian's docker-registry on
# loopback, side by side with skopeo in the same run: median of $RUNS runs,
# each against a fresh registry so every push really uploads.
#   berth push   vs  skopeo copy --dest-decompress docker-archive: -> docker://
#                    (same image, both uncompressed, each into an empty registry)
#   berth pull   vs  skopeo copy docker://       -> oci:         (same image)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BERTH="${BERTH_BIN:-${CARGO_TARGET_DIR:-/var/cache/berth/target}/release/berth}"
RUNS="${RUNS:-3}"
SIZE_MB="${SIZE_MB:-100}"
work="$(mktemp -d /var/tmp/berth-bench-reg.XXXXXX)"
sock="$work/b.sock"; port=$(( 20000 + RANDOM % 20000 ))
"$BERTH" daemon --data-root "$work/root" -H "unix://$sock" >"$work/daemon.log" 2>&1 &
dpid=$!; rpid=""
cleanup() { kill $dpid ${rpid:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export BERTH_HOST="unix://$sock"
for _ in $(seq 100); do "$BERTH" version >/dev/null 2>&1 && break; sleep 0.1; done

start_registry() {
  [ -n "$rpid" ] && { kill "$rpid"; wait "$rpid" 2>/dev/null || true; }
  rm -rf "$work/reg"; mkdir -p "$work/reg"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/reg" "$port" > "$work/reg.yml"
  docker-registry serve "$work/reg.yml" >/dev/null 2>&1 & rpid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.05; done
}

# A rootfs of about $SIZE_MB MB of real files (binaries compress like real images).
(cd / && tar -cf - usr/bin usr/lib/x86_64-linux-gnu 2>/dev/null | head -c $(( SIZE_MB * 1000000 )) > "$work/raw.tar") || true
mkdir "$work/fs"; tar -xf "$work/raw.tar" -C "$work/fs" 2>/dev/null || true
tar -cf "$work/rootfs.tar" -C "$work/fs" .; rm -rf "$work/fs" "$work/raw.tar"
img="127.0.0.1:$port/bench/img:1"
"$BERTH" import "$work/rootfs.tar" "$img" >/dev/null
"$BERTH" save -o "$work/img.tar" "$img"

# Times a command; a failing command stops the benchmark with its output.
secs() {
  local s e
  s=$(date +%s.%N)
  if ! "$@" >"$work/cmd.log" 2>&1; then echo "benchmark step failed: $*" >&2; cat "$work/cmd.log" >&2; exit 1; fi
  e=$(date +%s.%N); echo "$e - $s" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bp=(); sp=(); bl=(); sl=()
for _ in $(seq "$RUNS"); do
  start_registry   # each pusher gets an empty registry: nothing to skip or mount
  sp+=("$(secs skopeo copy --quiet --dest-decompress --dest-tls-verify=false "docker-archive:$work/img.tar" "docker://127.0.0.1:$port/bench/sk:1")")
  start_registry
  bp+=("$(secs "$BERTH" push "$img")")
  "$BERTH" rmi "$img" >/dev/null
  bl+=("$(secs "$BERTH" pull "$img")")
  rm -rf "$work/oci"
  sl+=("$(secs skopeo copy --quiet --src-tls-verify=false "docker://$img" "oci:$work/oci:x")")
done
m() { printf '%s\n' "$@" | median; }
BP=$(m "${bp[@]}"); SP=$(m "${sp[@]}"); BL=$(m "${bl[@]}"); SL=$(m "${sl[@]}")
mb=$(echo "scale=1; $(stat -c %s "$work/rootfs.tar") / 1000000" | bc)
printf '%-12s %9s %10s %10s %7s\n' operation "size(MB)" "berth(s)" "skopeo(s)" ratio
printf '%-12s %9s %10.3f %10.3f %7.2f\n' push "$mb" "$BP" "$SP" "$(echo "$BP / $SP" | bc -l)"
printf '%-12s %9s %10.3f %10.3f %7.2f\n' pull "$mb" "$BL" "$SL" "$(echo "$BL / $SL" | bc -l)"
echo "(median of $RUNS; both push the uncompressed layer; berth pull also unpacks the layer for"
echo " overlayfs and fsyncs, skopeo only stores blobs)"
