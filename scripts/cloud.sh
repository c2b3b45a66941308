#!/usr/bin/env bash
# The embedded cloud: a moto server on loopback, started and stopped by the project.
#   scripts/cloud.sh up|down|status|url     (HA_WEB_CLOUD_PORT, default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${HA_WEB_CLOUD_PORT:-5000}
host=127.0.0.1
state=.cloud
pidfile=$state/moto-$port.pid
logfile=$state/moto-$port.log
url="http://$host:$port"

answers() { .venv/bin/python - "$url" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/moto-api/data.json", timeout=1).read(1)
except Exception:
    sys.exit(1)
PY
}
port_taken() { .venv/bin/python - "$host" "$port" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-}" in
  up)
    if running && answers; then echo "cloud: already running at $url (pid $(cat "$pidfile"))"; exit 0; fi
    if port_taken; then
      echo "cloud: port $port on $host is taken by another process; stop it or set HA_WEB_CLOUD_PORT" >&2
      exit 1
    fi
    mkdir -p "$state"
    # setsid: the server outlives this shell (make demo leaves it running).
    setsid .venv/bin/moto_server -H "$host" -p "$port" >"$logfile" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if answers; then echo "cloud: running at $url (pid $(cat "$pidfile"), log $logfile)"; exit 0; fi
      running || { echo "cloud: moto server exited; see $logfile" >&2; tail -5 "$logfile" >&2; exit 1; }
      sleep 0.1
    done
    echo "cloud: moto server did not answer within 10 s; see $logfile" >&2
    exit 1
    ;;
  down)
    if running; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      for _ in $(seq 1 50); do running || break; sleep 0.1; done
      running && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
      echo "cloud: stopped"
    else
      echo "cloud: not running"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if running && answers; then echo "cloud: running at $url (pid $(cat "$pidfile"))"; else echo "cloud: not running"; exit 3; fi
    ;;
  url) echo "$url" ;;
  *) echo "usage: $0 up|down|status|url" >&2; exit 2 ;;
esac
