import http.client
import json
import socket
import ssl

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import loadgen


# ---------------------------------------------------------------- URL and bounds
def test_check_url_http_and_https():
    assert loadgen.check_url("http://lb.example/") == {"scheme": "http", "host": "lb.example", "port": 80, "path": "/", "query": ""}
    assert loadgen.check_url("HTTPS://lb.example:8443/a?b=1") == {"scheme": "https", "host": "lb.example", "port": 8443,
                                                                  "path": "/a", "query": "b=1"}
    assert loadgen.check_url("http://127.0.0.1")["path"] == "/"


@pytest.mark.parametrize("url, msg", [
    ("ftp://x/", "url 'ftp://x/' refused: scheme 'ftp' is not supported; only http:// and https:// URLs are load-tested"),
    ("file:///etc/passwd", "url 'file:///etc/passwd' refused: scheme 'file' is not supported; only http:// and https:// URLs are load-tested"),
    ("ws://x/", "url 'ws://x/' refused: scheme 'ws' is not supported; only http:// and https:// URLs are load-tested"),
    ("x/y", "url 'x/y' refused: it has no scheme; only http:// and https:// URLs are load-tested"),
    ("http:///p", "url 'http:///p' refused: it names no host"),
    ("", "url is empty: give an http:// or https:// URL"),
    ("http://x:99999/", "url 'http://x:99999/' is not a valid URL: Port out of range 0-65535"),
])
def test_check_url_refuses(url, msg):
    with pytest.raises(loadgen.LoadTestError) as e:
        loadgen.check_url(url)
    assert str(e.value) == msg


def test_target_path():
    t = loadgen.check_url("http://x/a?b=1")
    assert loadgen.target_path(t) == "/a?b=1"
    assert loadgen.target_path(t, "health") == "/health"
    assert loadgen.target_path(t, "/api/status") == "/api/status"


def test_check_bounds():
    assert loadgen.check_bounds(8, 10, None, 5) == 8
    assert loadgen.check_bounds(8, None, 3, 5) == 3  # no idle worker
    cases = [
        ((8, None, None, 5), "give duration_seconds or requests (or both): a load test must be bounded"),
        ((8, 601, None, 5), "duration_seconds must be more than 0 and at most 600, got 601"),
        ((8, 0, None, 5), "duration_seconds must be more than 0 and at most 600, got 0"),
        ((8, None, 1000001, 5), "requests must be from 1 to 1000000, got 1000001"),
        ((0, None, 10, 5), "concurrency must be from 1 to 256, got 0"),
        ((257, None, 10, 5), "concurrency must be from 1 to 256, got 257"),
        ((1, None, 10, 0), "request_timeout must be more than 0 and at most 300, got 0"),
    ]
    for args, msg in cases:
        with pytest.raises(loadgen.LoadTestError) as e:
            loadgen.check_bounds(*args)
        assert str(e.value) == msg


# ---------------------------------------------------------------- error kinds, instance ids
def test_error_kind():
    assert loadgen.error_kind(socket.timeout("timed out")) == "timeout"
    assert loadgen.error_kind(ConnectionRefusedError()) == "connection"
    assert loadgen.error_kind(ConnectionResetError()) == "connection"
    assert loadgen.error_kind(http.client.RemoteDisconnected("x")) == "connection"
    assert loadgen.error_kind(ssl.SSLError("bad")) == "tls"
    assert loadgen.error_kind(http.client.BadStatusLine("x")) == "protocol"
    assert loadgen.error_kind(ValueError()) == "other"


def test_instance_from():
    assert loadgen.instance_from("i-1", b'{"instance_id": "i-2"}', "application/json") == ("i-1", None)
    assert loadgen.instance_from(None, b'{"instance_id": "i-2", "availability_zone": "az-c"}', "application/json") == ("i-2", "az-c")
    assert loadgen.instance_from(None, b"<html>", "text/html") == (None, None)
    assert loadgen.instance_from(None, b"not json", "application/json") == (None, None)


# ---------------------------------------------------------------- figures
def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert loadgen.percentile(values, 50) == 50
    assert loadgen.percentile(values, 90) == 90
    assert loadgen.percentile(values, 99) == 99
    assert loadgen.percentile([7], 99) == 7
    assert loadgen.percentile([], 50) is None


def test_summarize():
    records = [
        (0.0, 0.010, 200, None, "i-a"),
        (0.1, 0.020, 200, None, "i-b"),
        (0.5, 0.600, 200, None, "i-a"),   # completes in second 1
        (1.2, 0.005, 503, "http_503", "i-b"),
        (1.3, 5.0, None, "timeout", None),  # completes in second 6
        (2.0, 0.001, None, "connection", None),
    ]
    s = loadgen.summarize(records, 6.5, started_epoch=1000.0, zones={"i-a": "az-a", "i-b": "az-c", "i-z": "az-z"})
    assert s["requests"] == 6 and s["ok"] == 3 and s["errored"] == 3
    assert s["errors"] == {"http_503": 1, "timeout": 1, "connection": 1}
    assert s["status_codes"] == {"200": 3, "503": 1}
    assert s["per_instance"] == {"i-a": 2, "i-b": 2}
    assert s["per_az"] == {"az-a": 2, "az-c": 2}
    assert s["zones"] == {"i-a": "az-a", "i-b": "az-c"}
    assert s["instances"] == ["i-a", "i-b"]
    assert s["latency_ms"] == {"min": 5.0, "mean": 158.75, "p50": 10.0, "p90": 600.0, "p99": 600.0, "max": 600.0}
    assert s["rps"] == round(6 / 6.5, 3)
    assert [b["t"] for b in s["timeline"]] == [0, 1, 2, 3, 4, 5, 6]
    assert [b["requests"] for b in s["timeline"]] == [2, 2, 1, 0, 0, 0, 1]
    assert [b["errors"] for b in s["timeline"]] == [0, 1, 1, 0, 0, 0, 1]
    assert s["timeline"][0] == {"t": 0, "requests": 2, "errors": 0, "rps": 2.0, "p50_ms": 10.0, "p90_ms": 20.0, "p99_ms": 20.0}
    assert s["timeline"][3]["p50_ms"] is None
    assert s["timeline"][6]["rps"] == 2.0  # last bucket is half a second long
    assert s["started_epoch"] == 1000.0


def test_summarize_empty():
    s = loadgen.summarize([], 0.0)
    assert s["requests"] == 0 and s["timeline"] == [] and s["rps"] == 0.0 and s["latency_ms"]["p50"] is None


# ---------------------------------------------------------------- the generator, with fake connections
class FakeResponse:
    def __init__(self, status=200, headers=None, body=b"ok", will_close=False):
        self.status, self.headers, self.body, self.will_close = status, headers or {}, body, will_close

    def read(self):
        return self.body

    def getheader(self, name, default=None):
        return self.headers.get(name, default)


class FakeConnection:
    """Answers from a script: a list of FakeResponse or exceptions, shared by every connection."""

    def __init__(self, script, log):
        self.script, self.log, self.pending = script, log, None
        self.closed = False

    def request(self, method, path, body=None, headers=None):
        self.log.append((method, path, body, dict(headers or {})))
        item = self.script.pop(0) if self.script else FakeResponse(headers={"X-Instance-Id": "i-x"})
        if isinstance(item, Exception):
            raise item
        self.pending = item

    def getresponse(self):
        return self.pending

    def close(self):
        self.closed = True


def factory(script, log, made):
    def make(target, timeout, validate_certs):
        conn = FakeConnection(script, log)
        made.append((target["host"], timeout, validate_certs))
        return conn
    return make


def fake_clock(step=0.001):
    now = [0.0]

    def clock():
        now[0] += step
        return now[0]
    return clock


def test_run_load_request_budget_and_reconnects():
    log, made = [], []
    script = [FakeResponse(headers={"X-Instance-Id": "i-a"}), ConnectionRefusedError(), FakeResponse(503, {"X-Instance-Id": "i-b"}),
              FakeResponse(headers={"X-Instance-Id": "i-a"}, will_close=True), socket.timeout()]
    t = loadgen.check_url("http://lb/")
    records, elapsed, started, zones, connects = loadgen.run_load(
        t, path="/", concurrency=1, requests=7, request_timeout=2.0, connection_factory=factory(script, log, made),
        clock=fake_clock(), wall=lambda: 1234.5)
    assert len(records) == 7 and len(log) == 7
    assert [r[3] for r in records] == [None, "connection", "http_503", None, "timeout", None, None]
    assert [r[4] for r in records] == ["i-a", None, "i-b", "i-a", None, "i-x", "i-x"]
    # a new connection at the start, after the refused one, after Connection: close, after the timeout
    assert connects == 4 and len(made) == 4
    assert made[0] == ("lb", 2.0, True)
    assert log[0][0:2] == ("GET", "/") and log[0][3]["User-Agent"] == loadgen.USER_AGENT
    assert started == 1234.5


def test_run_load_duration_bound():
    log, made = [], []
    clock = fake_clock(0.01)
    records, elapsed, dummy, dummy2, dummy3 = loadgen.run_load(
        loadgen.check_url("http://lb/"), concurrency=1, duration_seconds=0.5, connection_factory=factory([], log, made), clock=clock)
    # each request costs 2 clock ticks (t0, t1) plus one in take(): 0.03 s
    assert 15 <= len(records) <= 17
    assert elapsed >= 0.5


def test_run_load_zones_from_json_bodies():
    script = [FakeResponse(headers={"Content-Type": "application/json"}, body=json.dumps({"instance_id": "i-j", "availability_zone": "az-j"}).encode())]
    records, elapsed, dummy, zones, dummy3 = loadgen.run_load(
        loadgen.check_url("http://lb/api/status"), concurrency=1, requests=1, connection_factory=factory(script, [], []))
    assert zones == {"i-j": "az-j"} and records[0][4] == "i-j"


def status_body(iid, az):
    return FakeResponse(headers={"X-Instance-Id": iid, "Content-Type": "application/json"},
                        body=json.dumps({"instance_id": iid, "availability_zone": az}).encode())


def test_probe_zones_until_every_instance_known():
    log = []
    script = [status_body("i-a", "az-a"), FakeResponse(500), status_body("i-a", "az-a"), status_body("i-b", "az-c"), status_body("i-c", "az-a")]
    zones, sent = loadgen.probe_zones(loadgen.check_url("http://lb/"), ["i-a", "i-b"], connection_factory=factory(script, log, []))
    assert zones == {"i-a": "az-a", "i-b": "az-c"} and sent == 4
    assert [entry[:2] for entry in log] == [("GET", "/api/status")] * 4


def test_probe_zones_budget():
    zones, sent = loadgen.probe_zones(loadgen.check_url("http://lb/"), ["i-a", "i-b"], attempts=3,
                                      connection_factory=factory([status_body("i-a", "az-a")] * 5, [], []))
    assert zones == {"i-a": "az-a"} and sent == 3


def press_answer(iid, started, running=True):
    return FakeResponse(202, {"X-Instance-Id": iid, "Content-Type": "application/json"},
                        json.dumps({"started": started, "running": running, "remaining_seconds": 600}).encode())


def test_press_until_every_instance_loaded():
    log = []
    script = [press_answer("i-a", True), press_answer("i-b", True), press_answer("i-a", False)] + \
        [press_answer("i-b", False), press_answer("i-a", False), press_answer("i-b", False), press_answer("i-a", False)]
    out = loadgen.press_load_test(loadgen.check_url("http://lb/"), "/load-test", seconds=30, max_presses=20,
                                  connection_factory=factory(script, log, []))
    # after i-b (press 2): 4 more presses with no new instance
    assert out["presses"] == 6
    assert out["loaded"] == ["i-a", "i-b"] and out["instances"] == ["i-a", "i-b"] and out["not_loaded"] == []
    assert out["complete"] is True
    assert log[0][0:3] == ("POST", "/load-test", "seconds=30")
    assert log[0][3]["Content-Type"] == "application/x-www-form-urlencoded"
    assert [r["started"] for r in out["responses"]] == [True, True, False, False, False, False]


def test_press_expected_instances_and_budget():
    script = [press_answer("i-a", True), FakeResponse(502, {}, b"bad gateway"), press_answer("i-b", False, running=False)]
    out = loadgen.press_load_test(loadgen.check_url("http://lb/"), "/load-test", max_presses=3, expected_instances=2,
                                  connection_factory=factory(script, [], []))
    assert out["presses"] == 3 and out["complete"] is False
    assert out["loaded"] == ["i-a"] and out["not_loaded"] == ["i-b"]
    assert out["responses"][1] == {"instance_id": None, "status": 502, "started": False, "running": False, "error": "http_502"}
    script = [press_answer("i-a", True), press_answer("i-b", True)]
    out = loadgen.press_load_test(loadgen.check_url("http://lb/"), "/load-test", expected_instances=2,
                                  connection_factory=factory(script, [], []))
    assert out["presses"] == 2 and out["complete"] is True


def test_press_nothing_answers():
    out = loadgen.press_load_test(loadgen.check_url("http://lb/"), "/load-test", max_presses=4,
                                  connection_factory=factory([ConnectionRefusedError()] * 4, [], []))
    assert out["presses"] == 4 and out["complete"] is False and out["instances"] == []
    assert [r["error"] for r in out["responses"]] == ["connection"] * 4


def test_plan():
    t = loadgen.check_url("http://lb:8080/x")
    assert loadgen.plan(t, "/x", "GET", 4, 10, None, "/load-test") == {
        "url": "http://lb:8080/x", "method": "GET", "concurrency": 4, "duration_seconds": 10, "requests": None,
        "load_test_path": "/load-test"}
