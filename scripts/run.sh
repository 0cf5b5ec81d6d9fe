#!/usr/bin/env bash
# run.sh [stop] — `make run`: build, install and (re)start the daemon, make the
# starter image when the store has none, print the dashboard URL.
# Installs /usr/local/bin/berth and the dashboard in /usr/local/share/berth/ui.
# The daemon keeps its data in /var/lib/berth and logs to /var/log/berth.log.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${BERTH_PORT:-8375}"
SOCK=/run/berth/berth.sock
PIDFILE=/run/berth/berth.pid
LOG=/var/log/berth.log
BIN_DST=/usr/local/bin/berth
UI_DST=/usr/local/share/berth/ui
export BERTH_HOST="unix://$SOCK"
log() { printf '[run] %s\n' "$*" >&2; }

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q berth "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

stop_daemon() {
  local pid
  if pid="$(running_pid)"; then
    log "stopping the daemon (pid $pid)"
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}

if [ "${1:-}" = stop ]; then stop_daemon; exit 0; fi

built="$CARGO_TARGET_DIR/release/berth"
changed=0
if ! cmp -s "$built" "$BIN_DST"; then
  install -D -m 0755 "$built" "$BIN_DST"; changed=1
fi
if ! diff -rq "$here/frontend/dist" "$UI_DST" >/dev/null 2>&1; then
  rm -rf "$UI_DST"; mkdir -p "$(dirname "$UI_DST")"; cp -r "$here/frontend/dist" "$UI_DST"; changed=1
fi

if pid="$(running_pid)" && [ "$changed" = 0 ] && "$BIN_DST" version >/dev/null 2>&1; then
  log "daemon already running (pid $pid) with this build"
else
  stop_daemon
  mkdir -p /run/berth
  # The first admin's password, used only if the data root has no account yet:
  # shown here once, never written to the log.
  pwfile="$(mktemp)"; chmod 600 "$pwfile"
  trap 'rm -f "$pwfile"' EXIT
  admin_pw="$(head -c 32 /dev/urandom | base64 | tr -dc 'A-HJ-NP-Za-km-z2-9' | head -c 20)"
  printf '%s\n' "$admin_pw" > "$pwfile"
  log_lines="$(wc -l < "$LOG" 2>/dev/null || echo 0)"
  log "starting the daemon (log: $LOG)"
  nohup "$BIN_DST" daemon -H "unix://$SOCK" -H "tcp://127.0.0.1:$PORT" --ui-dir "$UI_DST" \
    --admin-password-file "$pwfile" >>"$LOG" 2>&1 &
  echo $! > "$PIDFILE"
  for _ in $(seq 100); do "$BIN_DST" version >/dev/null 2>&1 && break; sleep 0.1; done
  "$BIN_DST" version >/dev/null 2>&1 || { log "the daemon did not start; last log lines:"; tail -20 "$LOG" >&2; exit 1; }
  rm -f "$pwfile"
  if tail -n "+$((log_lines + 1))" "$LOG" | grep -q 'created the admin account'; then
    first_login="$admin_pw"
  fi
fi

if [ -z "$("$BIN_DST" images -q)" ]; then
  log "the store is empty: making the starter image busybox:latest"
  BERTH_BIN="$BIN_DST" bash "$here/scripts/starter-image.sh" busybox:latest
fi
"$BIN_DST" images
echo
echo "Berth is running. Dashboard: http://127.0.0.1:$PORT/"
if [ -n "${first_login:-}" ]; then
  echo "First login: user admin, password $first_login"
  echo "  (shown only now; change it under My account; as root: berth user update --password admin)"
fi
echo "CLI: berth images   (docker CLI: DOCKER_HOST=unix://$SOCK docker images)"
