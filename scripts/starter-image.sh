#!/usr/bin/env bash
# starter-image.sh [NAME] — import a busybox image (default busybox:latest)
# made from Debian's busybox-static: /bin/busybox, a link per applet, a
# minimal /etc and the usual empty directories. Talks to the daemon at
# $BERTH_HOST with the berth CLI ($BERTH_BIN, default `berth` on PATH).
set -euo pipefail
NAME="${1:-busybox:latest}"
BERTH="${BERTH_BIN:-berth}"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && "$BUSYBOX" --list >/dev/null 2>&1 \
  || { echo "starter-image: $BUSYBOX is missing: apt-get install busybox-static" >&2; exit 1; }
case "$(ldd "$BUSYBOX" 2>&1 || true)" in
  *"not a dynamic executable"*|*"statically linked"*) ;;
  *) echo "starter-image: $BUSYBOX is not static: install busybox-static" >&2; exit 1 ;;
esac

root="$(mktemp -d)"; trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,root,tmp,proc,sys,dev,home,var/spool/mail,usr/bin,usr/sbin,sbin}
chmod 1777 "$root/tmp"; chmod 700 "$root/root"
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$root/$(dirname "$applet")"
  ln -sf /bin/busybox "$root/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
echo "hosts: files dns" > "$root/etc/nsswitch.conf"
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . \
  | "$BERTH" import -c 'CMD ["sh"]' -m "busybox $("$BUSYBOX" | head -1 | awk '{print $2}') from Debian busybox-static" - "$NAME"
