#!/usr/bin/env bash
# The embedded cloud: a moto server on loopback, started and stopped by the project.
#   scripts/cloud.sh up|down|status|url|check
# The port: HA_WEB_CLOUD_PORT when set; else the port of the cloud that `up` started last
# (remembered in .cloud/port until `down`); else 5000. So after `HA_WEB_CLOUD_PORT=5001 make demo`,
# a plain `make teardown`, `make cloud-status` or `make cloud-down` goes to port 5001.
# (Tests move the state directory and the default port: HA_WEB_CLOUD_DIR, HA_WEB_CLOUD_DEFAULT_PORT.)
set -euo pipefail
cd "$(dirname "$0")/.."
host=127.0.0.1
state=${HA_WEB_CLOUD_DIR:-.cloud}
remembered=$state/port
port=${HA_WEB_CLOUD_PORT:-$(cat "$remembered" 2>/dev/null || echo "${HA_WEB_CLOUD_DEFAULT_PORT:-5000}")}
pidfile=$state/moto-$port.pid
logfile=$state/moto-$port.log
url="http://$host:$port"

# Readiness: moto's small configuration document (not /moto-api/data.json, every resource of the
# cloud: megabytes once the lab is deployed). Asked only of the server this script started.
answers() { .venv/bin/python - "$url" <<'PY'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/moto-api/config", timeout=5) as answer:
        sys.exit(0 if isinstance(json.load(answer), dict) else 1)
except Exception:
    sys.exit(1)
PY
}
# Whether something listens on the port: a bind attempt, which sends nothing to it.
port_taken() { .venv/bin/python - "$host" "$1" <<'PY'
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
free_port_after() {
  local candidate=$1
  while candidate=$((candidate + 1)); port_taken "$candidate"; do :; done
  echo "$candidate"
}

case "${1:-}" in
  up)
    if running; then
      # Ours: give a busy server time to answer rather than calling its port taken.
      for _ in $(seq 1 20); do
        if answers; then echo "$port" >"$remembered"; echo "cloud: already running at $url (pid $(cat "$pidfile"))"; exit 0; fi
        sleep 0.5
      done
      echo "cloud: the cloud at $url (pid $(cat "$pidfile")) does not answer; see $logfile, or run 'make cloud-down' first" >&2
      exit 1
    fi
    if port_taken "$port"; then
      echo "cloud: port $port on $host is taken by another program: set HA_WEB_CLOUD_PORT to a free port, e.g. HA_WEB_CLOUD_PORT=$(free_port_after "$port") make demo" >&2
      exit 1
    fi
    mkdir -p "$state"
    # setsid: the server outlives this shell (make demo leaves it running).
    setsid .venv/bin/moto_server -H "$host" -p "$port" >"$logfile" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 100); do
      if answers; then
        echo "$port" >"$remembered"
        echo "cloud: running at $url (pid $(cat "$pidfile"), log $logfile)"
        exit 0
      fi
      running || { echo "cloud: moto server exited; see $logfile" >&2; tail -5 "$logfile" >&2; rm -f "$pidfile"; exit 1; }
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
      echo "cloud: stopped (was at $url)"
    else
      echo "cloud: not running at $url"
    fi
    rm -f "$pidfile"
    if [ "$(cat "$remembered" 2>/dev/null)" = "$port" ]; then rm -f "$remembered"; fi
    ;;
  status)
    if running && answers; then
      echo "cloud: running at $url (pid $(cat "$pidfile"))"
    elif running; then
      echo "cloud: pid $(cat "$pidfile") serves $url but does not answer yet; see $logfile"; exit 3
    else
      echo "cloud: not running"; exit 3
    fi
    ;;
  # For the make targets that use the embedded cloud: fail, saying why, unless it runs (so that they
  # never send the stack's calls to another program that holds the port).
  check)
    if running; then exit 0; fi
    echo "cloud: the embedded cloud is not running at $url: start it with 'make cloud-up' (or set AWS_ENDPOINT_URL to another endpoint)" >&2
    exit 1
    ;;
  url) echo "$url" ;;
  *) echo "usage: $0 up|down|status|url|check" >&2; exit 2 ;;
esac
