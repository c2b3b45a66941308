#!/usr/bin/env python3
"""Sample web app of immersionday.ha_web: which instance answered (IMDSv2), its CPU
load, and a bounded LOAD TEST. Python 3.9 stdlib only. Contract: roles/web_ami/README.md."""
import argparse
import html
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UNKNOWN = "unknown"
MAX_SECONDS = 3600
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Identity:
    """Instance id and AZ from IMDSv2: cached after the first success, else retried later."""

    def __init__(self, url, timeout=1.0, retry=2.0):
        self.url, self.timeout, self.retry = url.rstrip("/"), timeout, retry
        self.lock, self.value, self.next_try = threading.Lock(), None, 0.0

    def _call(self, method, path, headers):
        req = urllib.request.Request(self.url + "/latest/" + path, method=method, headers=headers)
        with NO_PROXY.open(req, timeout=self.timeout) as resp:
            return resp.read(256).decode().strip()

    def get(self):
        if self.value is None and time.monotonic() >= self.next_try and self.lock.acquire(False):
            try:
                hdr = {"X-aws-ec2-metadata-token": self._call(
                    "PUT", "api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"})}
                self.value = (self._call("GET", "meta-data/instance-id", hdr),
                              self._call("GET", "meta-data/placement/availability-zone", hdr))
            except Exception:  # IMDS down, slow or refusing
                self.next_try = time.monotonic() + self.retry
            finally:
                self.lock.release()
        return self.value or (UNKNOWN, UNKNOWN)


class Cpu:
    """CPU utilisation (0-100) over the last few seconds, from /proc/stat deltas."""

    def __init__(self):
        self.samples, self.last = deque(maxlen=5), None
        threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def read():
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:9]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    def _sample(self):
        while True:
            try:
                self.samples.append(self.read())
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(1)

    def percent(self):
        try:
            (total, idle), (total0, idle0) = self.read(), self.samples[0]
            self.last = round(100.0 - 100.0 * (idle - idle0) / (total - total0), 1)
        except (OSError, ValueError, IndexError, ZeroDivisionError):
            pass
        return self.last


def burn(seconds, parent):
    """Load worker: keeps one CPU busy until its deadline, or until the app is gone."""
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end and os.getppid() == parent:
        for _ in range(20000):
            n = (n * 7 + 3) % 1000003


class Load:
    """At most one load test at a time: one busy worker process per CPU, bounded in time."""

    def __init__(self, default):
        self.default = self.seconds = default
        self.lock, self.wake = threading.Lock(), threading.Event()
        self.procs, self.deadline = [], 0.0

    def status(self):
        left = self.deadline - time.monotonic()
        running = left > 0 and any(p.poll() is None for p in self.procs)
        return {"running": running, "remaining_seconds": int(left + 0.999) if running else 0, "seconds": self.seconds}

    def start(self, seconds):
        with self.lock:
            if self.status()["running"]:
                return False
            self.stop()
            self.wake.clear()
            cmd = [sys.executable, os.path.abspath(__file__), "--burn", str(seconds), "--parent", str(os.getpid())]
            self.seconds, self.deadline = seconds, time.monotonic() + seconds
            self.procs = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL) for _ in os.sched_getaffinity(0)]
            threading.Thread(target=self._watch, args=(self.procs, self.deadline), daemon=True).start()
            return True

    def _watch(self, procs, deadline):
        self.wake.wait(deadline - time.monotonic())
        self._end(procs)

    def stop(self):
        self.deadline = 0.0
        self.wake.set()
        self._end(self.procs)

    @staticmethod
    def _end(procs):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>HA Web - %(id)s</title>
<meta name="viewport" content="width=device-width, initial-scale=1">%(refresh)s
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#f2f3f3;color:#16191f}
header{background:#232f3e;color:#fff;padding:14px 24px;font-size:20px}
b{color:#f90}
main{max-width:640px;margin:24px auto;padding:0 16px}
div{background:#fff;border-radius:8px;box-shadow:0 1px 4px #0003;padding:8px 24px 16px;margin-bottom:20px}
table{border-collapse:collapse;width:100%%}
td,th{padding:8px 4px;border-bottom:1px solid #eaeded;text-align:left}
td{font-family:monospace;font-size:16px}
th{color:#545b64;font-weight:normal}
button{background:#f90;border:0;border-radius:4px;font-weight:bold;padding:10px 22px;cursor:pointer}
input{width:80px;padding:8px}
</style></head><body>
<header><b>AWS</b> Highly available web - sample application</header>
<main><div><h3>This page was served by</h3><table>
<tr><th>Instance ID</th><td id="instance-id">%(id)s</td></tr>
<tr><th>Availability Zone</th><td id="availability-zone">%(az)s</td></tr>
<tr><th>CPU load (1 min)</th><td id="cpu-load">%(load).2f</td></tr>
<tr><th>CPU utilisation</th><td id="cpu-percent">%(pct)s %%</td></tr>
</table></div>
<div><h3>LOAD TEST</h3><p id="load-test">%(state)s</p>
<form method="post" action="/load-test">
<input type="number" name="seconds" min="1" max="%(max)d" value="%(default)d" aria-label="seconds"> seconds
<button>LOAD TEST</button></form>
<p>Keeps every CPU busy for that time; pressing again while a load runs does nothing.</p>
</div></main></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "ha-web-app/1.0"

    def end_headers(self):
        self.send_header("X-Instance-Id", self.server.identity.get()[0])
        super().end_headers()

    def log_message(self, fmt, *args):
        if self.path != "/health":
            super().log_message(fmt, *args)

    def reply(self, code, body, ctype="application/json", extra=()):
        data = (body if isinstance(body, str) else json.dumps(body) + "\n").encode()
        self.send_response(code)
        for header in (("Content-Type", ctype + "; charset=utf-8"), ("Content-Length", str(len(data))),
                       ("Cache-Control", "no-store")) + tuple(extra):
            self.send_header(*header)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def status(self):
        iid, az = self.server.identity.get()
        return {"instance_id": iid, "availability_zone": az, "cpu_load": round(os.getloadavg()[0], 2),
                "cpu_percent": self.server.cpu.percent(), "load_test": self.server.load.status()}

    def page(self, _):
        s = self.status()
        lt = s["load_test"]
        self.reply(200, PAGE % {
            "id": html.escape(s["instance_id"]), "az": html.escape(s["availability_zone"]), "load": s["cpu_load"],
            "pct": "-" if s["cpu_percent"] is None else s["cpu_percent"], "max": MAX_SECONDS,
            "default": self.server.load.default,
            "state": "<b>Running</b>: %(remaining_seconds)d of %(seconds)d seconds left" % lt if lt["running"]
            else "No load test running.",
            "refresh": '<meta http-equiv="refresh" content="5">' if lt["running"] else ""}, "text/html")

    def load_test(self, query):
        body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 65536)).decode("latin-1")
        value = (urllib.parse.parse_qs(body).get("seconds") or query.get("seconds") or [""])[0].strip()
        if value and not (re.fullmatch("[0-9]{1,5}", value) and 1 <= int(value) <= MAX_SECONDS):
            return self.reply(400, {"error": "seconds must be an integer from 1 to %d" % MAX_SECONDS})
        started = self.server.load.start(int(value) if value else self.server.load.default)
        if "text/html" in self.headers.get("Accept", ""):
            return self.reply(303, "See /\n", "text/plain", [("Location", "/")])
        left = self.server.load.status()["remaining_seconds"]
        self.reply(202, {"started": started, "running": True, "remaining_seconds": left})

    ROUTES = {"/": {"GET": page}, "/health": {"GET": lambda self, _: self.reply(200, "ok", "text/plain")},
              "/api/status": {"GET": lambda self, _: self.reply(200, self.status())}, "/load-test": {"POST": load_test}}

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        methods = self.ROUTES.get(url.path)
        method = "GET" if self.command == "HEAD" else self.command
        try:
            if methods is None:
                self.reply(404, {"error": "not found: %s" % url.path})
            elif method not in methods:
                self.reply(405, {"error": "method not allowed"}, extra=[("Allow", ", ".join(methods))])
            else:
                methods[method](self, urllib.parse.parse_qs(url.query))
        except ValueError as exc:
            self.reply(400, {"error": str(exc)})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = route


def int_in(low, high):
    def check(value):
        if not re.fullmatch("[0-9]{1,5}", value.strip()) or not low <= int(value) <= high:
            raise argparse.ArgumentTypeError("must be an integer from %d to %d" % (low, high))
        return int(value)
    return check


def main(argv=None):
    env = os.environ.get
    ap = argparse.ArgumentParser(description="immersionday.ha_web sample web application")
    ap.add_argument("--port", type=int_in(0, 65535), default=env("HA_WEB_APP_PORT", "80"))
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--imds-url", default=env("HA_WEB_APP_IMDS_URL", "http://169.254.169.254"))
    ap.add_argument("--load-seconds", type=int_in(1, MAX_SECONDS), default=env("HA_WEB_APP_LOAD_SECONDS", "600"))
    ap.add_argument("--burn", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.burn is not None:
        return burn(args.burn, args.parent)
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    server.identity, server.cpu, server.load = Identity(args.imds_url), Cpu(), Load(args.load_seconds)
    threading.Thread(target=server.identity.get, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ha-web-app on %s:%d, IMDS %s" % (args.bind, server.server_address[1], args.imds_url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.load.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
