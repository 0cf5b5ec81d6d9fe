#!/usr/bin/env bash
# debian-base.sh — makes, once, what the apt-get build test needs, under the
# build cache ($BERTH_CACHE, /var/cache/berth):
#   debian-bookworm.tar   a debootstrap (minbase) Debian 12 root file system
#   local-apt/            a small apt repository (the `hello` package, its
#                         Packages and Release), which the test serves on the
#                         test bridge: containers never reach outside.
# Downloads come from Debian's mirror, as apt's do. When that fails, the reason
# goes to debian-base.unavailable and the test says it is skipped; this script
# itself does not fail the run.
set -uo pipefail
cache="${BERTH_CACHE:-/var/cache/berth}"
out="$cache/debian-bookworm.tar"
repo="$cache/local-apt"
marker="$cache/debian-base.unavailable"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$cache"
if [ -s "$out" ] && [ -s "$repo/Packages" ]; then exit 0; fi
rm -f "$marker"
fail() {
  echo "$1" > "$marker"
  echo "debian-base: $1 (the apt-get build test will say it is skipped)" >&2
  exit 0
}
if ! command -v debootstrap >/dev/null || ! command -v apt-ftparchive >/dev/null; then
  apt-get -o DPkg::Lock::Timeout=600 -y -q install --no-install-recommends debootstrap apt-utils >/dev/null 2>&1 \
    || fail "could not install debootstrap and apt-utils"
fi
tmp="$(mktemp -d /var/tmp/berth-debootstrap.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
if [ ! -s "$out" ]; then
  echo "debian-base: debootstrap bookworm (minbase) from $mirror, once…" >&2
  timeout 1200 debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$tmp/log" 2>&1 \
    || fail "debootstrap from $mirror failed: $(tail -1 "$tmp/log")"
  # Device nodes stay out: a container gets its own /dev.
  tar -C "$tmp/root" --exclude='./dev/*' -cf "$out.part" . && mv "$out.part" "$out" \
    || fail "could not write $out"
fi
rm -rf "$repo.part" && mkdir -p "$repo.part"
( cd "$repo.part" && apt-get download hello >/dev/null 2>&1 \
  && apt-ftparchive packages . > Packages && apt-ftparchive release . > Release ) \
  || fail "could not fetch the hello package for the local apt repository"
rm -rf "$repo" && mv "$repo.part" "$repo"
