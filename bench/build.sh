#!/usr/bin/env bash
# bench/build.sh — build time of the same Dockerfiles, median of $RUNS runs,
# all in the same run of this script:
#   berth build --no-cache   (cold: every step runs)
#   berth build              (cached: every step from the cache)
#   the same through the real docker CLI against Berth (DOCKER_BUILDKIT=0)
#   docker build (classic and BuildKit) and podman build against their own
#   daemons, when one answers on this machine; otherwise "not timed".
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
BERTH="${BERTH_BIN:-${CARGO_TARGET_DIR:-/var/cache/berth/target}/release/berth}"
RUNS="${RUNS:-5}"
work="$(mktemp -d /var/tmp/berth-bench-build.XXXXXX)"
. "$here/bench/lib.sh"
start_daemon berthbench1 172.31.252.1/24
BERTH_BIN="$BERTH" bash "$here/scripts/starter-image.sh" busybox:latest >/dev/null

# Two contexts: a single stage with COPY and several RUNs, and a two-stage
# build with COPY --from.
mkdir -p "$work/simple/src" "$work/multi"
for i in $(seq 200); do echo "file $i" > "$work/simple/src/f$i.txt"; done
head -c 5000000 /dev/urandom > "$work/simple/blob.bin"
cat > "$work/simple/Dockerfile" <<'DF'
FROM busybox
ENV APP=/app
WORKDIR /app
COPY src/ ./src/
COPY blob.bin .
RUN cat src/*.txt | wc -l > count
RUN mkdir -p out && for i in 1 2 3 4 5; do cp blob.bin out/$i; done
CMD ["cat", "count"]
DF
cat > "$work/multi/Dockerfile" <<'DF'
FROM busybox AS build
RUN mkdir /out && for i in $(seq 100); do echo $i > /out/$i; done
FROM busybox
COPY --from=build /out /data
RUN ls /data | wc -l > /n
CMD ["cat", "/n"]
DF


for ctx in simple multi; do
  "$BERTH" build -q -t "bench-$ctx" "$work/$ctx" >/dev/null   # warm the cache once
  measure "berth build $ctx (cold)" 0 "$BERTH" build -q --no-cache "$work/$ctx"
  measure "berth build $ctx (cached)" 0 "$BERTH" build -q "$work/$ctx"
  if command -v docker >/dev/null; then
    measure "docker CLI -> berth $ctx (cached)" 0 env DOCKER_HOST="unix://$sock" DOCKER_BUILDKIT=0 docker build -q "$work/$ctx"
  fi
done

for peer in docker podman; do
  if command -v "$peer" >/dev/null && env -u DOCKER_HOST "$peer" info >/dev/null 2>&1 \
     && env -u DOCKER_HOST "$peer" image inspect busybox >/dev/null 2>&1; then
    for ctx in simple multi; do
      if [ "$peer" = docker ]; then
        measure "docker classic $ctx (cold)" 0 env -u DOCKER_HOST DOCKER_BUILDKIT=0 docker build -q --no-cache "$work/$ctx"
        measure "docker buildkit $ctx (cold)" 0 env -u DOCKER_HOST DOCKER_BUILDKIT=1 docker build -q --no-cache "$work/$ctx"
      else
        measure "podman $ctx (cold)" 0 podman build -q --no-cache "$work/$ctx"
      fi
    done
  else
    skipped+=("$peer build: no $peer daemon with a busybox image answers on this machine")
  fi
done

printf '%-38s %10s %14s\n' "build (RUNS=$RUNS)" "median ms" "vs berth cold"
for name in "${order[@]}"; do
  ctx=simple; [[ "$name" == *multi* ]] && ctx=multi
  base="${result[berth build $ctx (cold)]}"
  printf '%-38s %10s %13sx\n' "$name" "${result[$name]}" "$(echo "scale=2; ${result[$name]} / $base" | bc -l)"
done
for s in "${skipped[@]}"; do echo "not timed: $s"; done
