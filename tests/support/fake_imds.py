"""A small fake EC2 instance metadata service (IMDSv2 only) for tests, on loopback.

Like the real IMDSv2 it wants a session token: ``PUT /latest/api/token`` with header
``X-aws-ec2-metadata-token-ttl-seconds`` (1-21600) returns a token; every ``GET`` must carry it in
``X-aws-ec2-metadata-token`` or gets 401.

    with FakeIMDS(instance_id="i-0abc", availability_zone="ap-northeast-2a") as imds:
        imds.url        # "http://127.0.0.1:<port>", give it to the code under test
        imds.requests   # [(method, path, {lower-cased header: value}), ...] seen so far

``mode``: ``"ok"`` (default), ``"hang"`` (accepts and never answers until stopped),
``"error"`` (500 to everything).
"""
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


class FakeIMDS:
    def __init__(self, instance_id="i-0123456789abcdef0", availability_zone="ap-northeast-2a",
                 mode="ok", extra_metadata=None):
        self.metadata = {"instance-id": instance_id,
                         "placement/availability-zone": availability_zone}
        self.metadata.update(extra_metadata or {})
        self.mode = mode
        self.tokens = set()
        self.requests = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = None
        self._thread = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, code, body=""):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self):
                with fake._lock:
                    fake.requests.append((self.command, self.path,
                                          {k.lower(): v for k, v in self.headers.items()}))
                if fake.mode == "hang":
                    fake._stop.wait(60)
                    self.close_connection = True
                    return False
                if fake.mode == "error":
                    self._reply(500, "internal error")
                    return False
                return True

            def do_PUT(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if not self._record():
                    return
                if self.path != "/latest/api/token":
                    return self._reply(404, "not found")
                ttl = self.headers.get(TOKEN_TTL_HEADER, "")
                if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return self._reply(400, "missing or invalid " + TOKEN_TTL_HEADER)
                token = secrets.token_urlsafe(32)
                with fake._lock:
                    fake.tokens.add(token)
                self._reply(200, token)

            def do_GET(self):
                if not self._record():
                    return
                token = self.headers.get(TOKEN_HEADER)
                with fake._lock:
                    valid = token in fake.tokens
                if not valid:
                    return self._reply(401, "Unauthorized")
                prefix = "/latest/meta-data/"
                key = self.path[len(prefix):] if self.path.startswith(prefix) else None
                if key not in fake.metadata:
                    return self._reply(404, "Not Found")
                self._reply(200, fake.metadata[key])

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- helpers ---------------------------------------------------------------------------
    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def count(self, method=None, path=None):
        with self._lock:
            return sum(1 for m, p, _rest in self.requests
                       if (method is None or m == method) and (path is None or p == path))
