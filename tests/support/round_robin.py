"""A tiny round-robin HTTP proxy for tests, on loopback: each request goes to the next backend
(like an ALB spreading requests), and every request is counted, so a test can compare a load
generator's figures with what the servers really got.

    with RoundRobin(["http://127.0.0.1:8001", "http://127.0.0.1:8002"]) as rr:
        rr.url                  # "http://127.0.0.1:<port>"
        rr.total()              # requests received from clients
        rr.answered             # {backend url: requests it answered}
        rr.by_instance          # {X-Instance-Id of the answer: count}
        rr.failed               # {backend url: requests it could not take (connection refused...)}
        rr.by_path              # {(method, path): count}
        rr.by_instance_path     # {(X-Instance-Id, method, path): count}

When a backend cannot be reached, ``on_error="close"`` (default) drops the client connection
without an answer (the client sees a connection error), ``on_error="502"`` answers 502.
Client connections are kept alive (HTTP/1.1); each backend request uses a new connection.
"""
import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length", "host"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # read by listen(): a class attribute, set before the server binds


class RoundRobin:
    def __init__(self, backends, on_error="close", timeout=10.0, host="127.0.0.1", port=0):
        self.backends = list(backends)
        self.on_error = on_error
        self.timeout = timeout
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._next = itertools.count()
        self.reset()
        self._server = None
        self._thread = None

    def reset(self):
        with self._lock:
            self.received = 0
            self.answered = dict((b, 0) for b in self.backends)
            self.failed = dict((b, 0) for b in self.backends)
            self.by_instance = {}
            self.by_path = {}
            self.by_backend_path = {}
            self.by_instance_path = {}

    def total(self):
        with self._lock:
            return self.received

    def pick(self):
        with self._lock:
            return self.backends[next(self._next) % len(self.backends)]

    def start(self):
        rr = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                backend = rr.pick()
                key = (self.command, urlsplit(self.path).path)
                with rr._lock:
                    rr.received += 1
                    rr.by_path[key] = rr.by_path.get(key, 0) + 1
                b = urlsplit(backend)
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP)
                headers["Host"] = self.headers.get("Host") or b.netloc
                conn = http.client.HTTPConnection(b.hostname, b.port, timeout=rr.timeout)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    status, resp_headers = resp.status, resp.getheaders()
                except (OSError, http.client.HTTPException):
                    with rr._lock:
                        rr.failed[backend] += 1
                    if rr.on_error == "502":
                        return self._send(502, [("Content-Type", "text/plain")], b"bad gateway\n")
                    self.close_connection = True
                    return None
                finally:
                    conn.close()
                iid = resp.getheader("X-Instance-Id")
                with rr._lock:
                    rr.answered[backend] += 1
                    bkey = (backend,) + key
                    rr.by_backend_path[bkey] = rr.by_backend_path.get(bkey, 0) + 1
                    if iid:
                        rr.by_instance[iid] = rr.by_instance.get(iid, 0) + 1
                        ikey = (iid,) + key
                        rr.by_instance_path[ikey] = rr.by_instance_path.get(ikey, 0) + 1
                kept = [(k, v) for k, v in resp_headers if k.lower() not in HOP_BY_HOP and k.lower() not in ("server", "date")]
                return self._send(status, kept, data)

            def _send(self, status, headers, data):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward

        self._server = _Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    """python tests/support/round_robin.py --port 8080 http://127.0.0.1:8001 http://127.0.0.1:8002"""
    import argparse
    import time
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--on-error", choices=["close", "502"], default="close")
    ap.add_argument("backends", nargs="+")
    args = ap.parse_args(argv)
    rr = RoundRobin(args.backends, on_error=args.on_error, port=args.port).start()
    print(rr.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        rr.stop()


if __name__ == "__main__":
    main()
