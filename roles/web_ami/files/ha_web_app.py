"""ha_web sample app: which instance answered, CPU load, and a LOAD TEST button.

Python 3.9 standard library only. Contract: roles/web_ami/README.md of immersionday.ha_web.
"""
import argparse
import html
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_SECONDS = 3600
# At most MAX_CONN connections (a thread each); when full, the one waiting longest for its request
# is closed for the newcomer, so idle or slow clients cannot lock the health checks out.
MAX_CONN = 256
IDLE = 65  # s between requests: more than the load balancer's 60 s idle timeout
SLOW = 10  # s per read once a request began
MAX_BODY = 4096
UNKNOWN = "unknown"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # IMDS is link-local
# One busy worker: burns a CPU until its deadline, or until its parent (the app) is gone.
WORKER = """import os,sys,time
end=time.monotonic()+float(sys.argv[1]);ppid=int(sys.argv[2]);x=0
while time.monotonic()<end and os.getppid()==ppid:
    for i in range(100000):x=(x*31+i)&65535
"""


class Identity:
    """Instance id and AZ from IMDSv2, cached after the first success."""

    def __init__(self, url, timeout=1.0, retry=10.0):
        self.url, self.timeout, self.retry = url.rstrip("/"), timeout, retry
        self.value, self.next_try, self.lock = None, 0.0, threading.Lock()

    def _call(self, method, path, headers):
        req = urllib.request.Request(self.url + path, method=method, headers=headers)
        with NO_PROXY.open(req, timeout=self.timeout) as resp:
            return resp.read(256).decode("ascii", "replace").strip() or UNKNOWN

    def get(self):
        if self.value:
            return self.value
        with self.lock:
            if self.value or time.monotonic() < self.next_try:
                return self.value or (UNKNOWN, UNKNOWN)
            try:
                tok = {"X-aws-ec2-metadata-token": self._call(
                    "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "300"})}
                md = "/latest/meta-data/"
                self.value = (self._call("GET", md + "instance-id", tok),
                              self._call("GET", md + "placement/availability-zone", tok))
                return self.value
            except Exception as exc:  # IMDS absent, slow or refusing: 'unknown', retry later
                sys.stderr.write("IMDS lookup failed: %r\n" % (exc,))
                self.next_try = time.monotonic() + self.retry
                return UNKNOWN, UNKNOWN


class CpuMeter:
    """Whole-machine CPU utilisation (0-100) over the last seconds, from /proc/stat."""

    def __init__(self, window=5):
        self.samples = deque([self.read()], maxlen=window + 1)
        threading.Thread(target=self._run, daemon=True).start()

    @staticmethod
    def read():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
            return sum(v), v[3] + v[4]
        except (OSError, ValueError, IndexError):
            return None

    def _run(self):
        while True:
            time.sleep(1)
            self.samples.append(self.read())

    def percent(self):
        old, now = self.samples[0], self.read()
        if old is None or now is None:
            return None
        total, idle = now[0] - old[0], now[1] - old[1]
        return round(100.0 * (1 - idle / total), 1) if total > 0 else 0.0


class Load:
    """At most one load at a time: one busy worker process per CPU until a deadline."""

    def __init__(self, default):
        self.default = self.seconds = default
        self.deadline, self.workers, self.lock = 0.0, [], threading.Lock()

    def _alive(self):
        return [p for p in self.workers if p.poll() is None]

    def status(self):
        with self.lock:
            n = len(self._alive())
            left = max(0, math.ceil(self.deadline - time.monotonic())) if n else 0
            return {"running": n > 0, "remaining_seconds": left, "seconds": self.seconds,
                    "workers": n}

    def start(self, seconds):
        with self.lock:
            if self._alive():
                return False
            ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
                os.cpu_count() or 1)
            self.seconds, self.deadline = seconds, time.monotonic() + seconds
            cmd = [sys.executable, "-I", "-c", WORKER, str(seconds), str(os.getpid())]
            self.workers = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
                            for _cpu in range(ncpu)]
            threading.Thread(target=self._reap, args=(self.workers, self.deadline),
                             daemon=True).start()
            return True

    @staticmethod
    def _reap(workers, deadline):
        for p in workers:  # they stop by themselves at the deadline; kill any straggler
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()) + 5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop(self):
        for p in self.workers:
            if p.poll() is None:
                p.kill()
                p.wait()


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
<title>HA Web - {iid}</title>
<style>body{{font-family:sans-serif;background:#232f3e;margin:0}}main{{max-width:36em;
margin:3em auto;background:#fff;border-radius:8px;padding:2em}}h1{{color:#ec7211}}
td{{padding:.3em 1em .3em 0}}button{{background:#ec7211;color:#fff;border:0;border-radius:4px;
padding:.6em 1.4em;font-weight:bold}}</style></head><body><main><h1>Immersion Day: HA Web</h1>
<p>Served by:</p><table><tr><td>Instance ID</td><td><b>{iid}</b></td></tr>
<tr><td>Availability Zone</td><td><b>{az}</b></td></tr>
<tr><td>CPU load (1 min)</td><td>{load}</td></tr>
<tr><td>CPU utilisation</td><td>{pct} %</td></tr><tr><td>Load test</td><td>{lt}</td></tr></table>
<form method="post" action="/load-test"><h2>LOAD TEST</h2><input type="number" name="seconds"
min="1" max="{max}" value="{sec}"> seconds <button type="submit">LOAD TEST</button></form>
</main></body></html>
"""


class Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connection attempts under a burst of new clients.
    request_queue_size = 128
    daemon_threads = True

    def server_activate(self):
        ThreadingHTTPServer.server_activate(self)
        self.since, self.lock = {}, threading.Lock()  # conn -> waiting since (None: being served)

    def mark(self, conn, since):
        with self.lock:
            if conn in self.since:
                self.since[conn] = since

    def process_request(self, request, client_address):
        with self.lock:
            waiting = [(t, id(c), c) for c, t in self.since.items() if t is not None]
            full = len(self.since) >= MAX_CONN
            if full and waiting:
                old = min(waiting)[2]
                del self.since[old]
                try:
                    old.shutdown(socket.SHUT_RDWR)  # its thread reads EOF and ends
                except OSError:
                    pass
            if not full or waiting:
                self.since[request] = time.monotonic()
        if request not in self.since:  # all busy: no room
            return ThreadingHTTPServer.shutdown_request(self, request)
        ThreadingHTTPServer.process_request(self, request, client_address)

    def shutdown_request(self, request):
        with self.lock:
            self.since.pop(request, None)
        ThreadingHTTPServer.shutdown_request(self, request)

    def handle_error(self, request, client_address):  # a client gone mid-request: no traceback
        sys.stderr.write("%s %r\n" % (client_address[0], sys.exc_info()[1]))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ha-web-app"
    # Headers and body go out in two writes: without this, keep-alive clients stall ~40 ms
    # a request on delayed ACKs.
    disable_nagle_algorithm = True
    timeout = IDLE
    app = None  # set by main()

    def end_headers(self):
        # Here rather than in send(): error pages from the base class (501...) carry it too.
        self.send_header("X-Instance-Id", self.app.identity.get()[0])
        BaseHTTPRequestHandler.end_headers(self)

    def handle_one_request(self):
        self.server.mark(self.connection, time.monotonic())
        self.connection.settimeout(IDLE)
        BaseHTTPRequestHandler.handle_one_request(self)

    def parse_request(self):
        # The whole body is read here, or the connection closed: a body is never taken for
        # the next request (no smuggling past the load balancer).
        self.connection.settimeout(SLOW)
        if not BaseHTTPRequestHandler.parse_request(self):
            return False
        sizes = set(v.strip() for v in self.headers.get_all("Content-Length", []))
        try:
            self.url = urllib.parse.urlsplit(self.path)
        except ValueError:
            sizes = None
        # refused: no version (HTTP/0.9), a header line the parser could not read (it would take
        # the lines after it for a body), a body framing other than one Content-Length
        if sizes is None or self.request_version == "HTTP/0.9" or self.headers.defects \
                or self.headers.get("Transfer-Encoding") is not None or len(sizes) > 1 \
                or not all(v.isascii() and v.isdigit() for v in sizes):
            self.send_error(400)
            return False
        length = int(sizes.pop()) if sizes else 0
        if length > MAX_BODY:
            self.send_error(413)
            return False
        self.body = self.rfile.read(length)
        if len(self.body) < length:  # the client went away
            self.close_connection = True
            return False
        self.server.mark(self.connection, None)
        return True

    def log_message(self, fmt, *args):
        # path is unset when the request line was malformed; ascii() escapes control characters
        if not getattr(self, "path", "").startswith("/health"):
            sys.stderr.write("%s %s\n" % (self.address_string(), ascii(fmt % args)[1:-1]))

    def send(self, code, body, ctype="text/plain; charset=utf-8", headers=()):
        data = body.encode("utf-8")
        self.send_response(code)
        for k, v in (("Content-Type", ctype), ("Content-Length", str(len(data))),
                     ("Cache-Control", "no-store")) + tuple(headers):
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code, obj):
        self.send(code, json.dumps(obj) + "\n", "application/json")

    def status(self):
        iid, az = self.app.identity.get()
        return {"instance_id": iid, "availability_zone": az,
                "cpu_load": round(os.getloadavg()[0], 2),
                "cpu_percent": self.app.cpu.percent(), "load_test": self.app.load.status()}

    def do_GET(self):
        path = self.url.path
        if path == "/health":
            self.send(200, "ok\n")
        elif path == "/api/status":
            self.send_json(200, self.status())
        elif path == "/":
            s = self.status()
            t = s["load_test"]
            lt = "running, %d s left" % t["remaining_seconds"] if t["running"] else "idle"
            self.send(200, PAGE.format(
                iid=html.escape(s["instance_id"]), az=html.escape(s["availability_zone"]),
                load=s["cpu_load"], pct=s["cpu_percent"], lt=lt, max=MAX_SECONDS,
                sec=self.app.load.default), "text/html; charset=utf-8")
        elif path == "/load-test":
            self.send(405, "use POST\n", headers=[("Allow", "POST")])
        else:
            self.send(404, "not found\n")

    do_HEAD = do_GET

    def do_POST(self):
        url, body = self.url, self.body.decode("utf-8", "replace")
        if url.path != "/load-test":
            return self.send(404, "not found\n")
        as_html = "text/html" in (self.headers.get("Accept") or "")
        fields = urllib.parse.parse_qs(url.query)
        fields.update(urllib.parse.parse_qs(body))
        raw = (fields.get("seconds") or [""])[-1].strip()
        seconds = self.app.load.default
        if raw:
            seconds = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0
        if not 0 < seconds <= MAX_SECONDS:
            msg = "seconds must be an integer from 1 to %d" % MAX_SECONDS
            if as_html:
                return self.send(400, '<p>%s. <a href="/">Back</a></p>' % msg,
                                 "text/html; charset=utf-8")
            return self.send_json(400, {"error": msg})
        started = self.app.load.start(seconds)
        if as_html:  # the browser's form: back to the page
            return self.send(303, "see /\n", headers=[("Location", "/")])
        t = self.app.load.status()
        self.send_json(202, {"started": started, "running": True,
                             "remaining_seconds": t["remaining_seconds"],
                             "seconds": t["seconds"]})


class App:
    def __init__(self, imds_url, load_seconds):
        self.identity, self.cpu, self.load = Identity(imds_url), CpuMeter(), Load(load_seconds)


def env_int(name, default):
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=env_int("HA_WEB_APP_PORT", 80))
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--imds-url", default=os.environ.get("HA_WEB_APP_IMDS_URL")
                    or "http://169.254.169.254")
    ap.add_argument("--load-seconds", type=int, default=env_int("HA_WEB_APP_LOAD_SECONDS", 600))
    args = ap.parse_args(argv)
    if not 0 < args.load_seconds <= MAX_SECONDS:
        ap.error("--load-seconds must be from 1 to %d" % MAX_SECONDS)
    app = Handler.app = App(args.imds_url, args.load_seconds)
    server = Server((args.bind, args.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    threading.Thread(target=app.identity.get, daemon=True).start()
    sys.stderr.write("ha-web-app listening on %s:%d\n" % (args.bind, server.server_port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.load.stop()
        server.server_close()


if __name__ == "__main__":
    main()
