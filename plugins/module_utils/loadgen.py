# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An HTTP load generator: worker threads on keep-alive http.client connections, bounded in
requests and time; per-request records folded into totals, errors by kind, latency
percentiles, per-second buckets and per-instance counts (X-Instance-Id)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl
import threading
import time

import http.client as http_client
from urllib.parse import urlencode
from urllib.parse import urlsplit

# Hard caps, whatever the caller asks.
MAX_DURATION = 600
MAX_REQUESTS = 1000000
MAX_CONCURRENCY = 256
MAX_PRESSES = 1000
# Bodies above this size are read and dropped without being kept.
BODY_KEEP = 65536
INSTANCE_HEADER = "X-Instance-Id"
USER_AGENT = "immersionday.ha_web.load_test"


class LoadTestError(Exception):
    pass


def check_url(url):
    """Parse an http(s) URL; anything else is refused with the reason, before any traffic."""
    if not isinstance(url, str) or not url.strip():
        raise LoadTestError("url is empty: give an http:// or https:// URL")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise LoadTestError("url %r is not a valid URL: %s" % (url, e))
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        if not scheme:
            why = "it has no scheme"
        else:
            why = "scheme %r is not supported" % scheme
        raise LoadTestError("url %r refused: %s; only http:// and https:// URLs are load-tested" % (url, why))
    if not parts.hostname:
        raise LoadTestError("url %r refused: it names no host" % url)
    return {
        "scheme": scheme,
        "host": parts.hostname,
        "port": port or (443 if scheme == "https" else 80),
        "path": parts.path or "/",
        "query": parts.query,
    }


def target_path(target, path=None):
    """The request path: the option `path` if given, else the URL's own path and query."""
    if path:
        if not path.startswith("/"):
            path = "/" + path
        return path
    if target["query"]:
        return target["path"] + "?" + target["query"]
    return target["path"]


def check_bounds(concurrency, duration_seconds, requests, request_timeout):
    """Validate the bounds; at least one of duration_seconds / requests, within hard caps."""
    if duration_seconds is None and requests is None:
        raise LoadTestError("give duration_seconds or requests (or both): a load test must be bounded")
    if duration_seconds is not None and not 0 < duration_seconds <= MAX_DURATION:
        raise LoadTestError("duration_seconds must be more than 0 and at most %d, got %s" % (MAX_DURATION, duration_seconds))
    if requests is not None and not 0 < requests <= MAX_REQUESTS:
        raise LoadTestError("requests must be from 1 to %d, got %s" % (MAX_REQUESTS, requests))
    if not 0 < concurrency <= MAX_CONCURRENCY:
        raise LoadTestError("concurrency must be from 1 to %d, got %s" % (MAX_CONCURRENCY, concurrency))
    if not 0 < request_timeout <= 300:
        raise LoadTestError("request_timeout must be more than 0 and at most 300, got %s" % request_timeout)
    if requests is not None and concurrency > requests:
        concurrency = requests
    return concurrency


def new_connection(target, timeout, validate_certs=True):
    if target["scheme"] == "https":
        context = ssl.create_default_context()
        if not validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return http_client.HTTPSConnection(target["host"], target["port"], timeout=timeout, context=context)
    return http_client.HTTPConnection(target["host"], target["port"], timeout=timeout)


def error_kind(exc):
    """timeout / connection / tls / protocol for a failed request."""
    if isinstance(exc, socket.timeout):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, http_client.RemoteDisconnected):
        return "connection"
    if isinstance(exc, (ConnectionError, OSError)):
        return "connection"
    if isinstance(exc, http_client.HTTPException):
        return "protocol"
    return "other"


def instance_from(headers_value, body, content_type):
    """The answering instance: X-Instance-Id, else instance_id of a JSON body."""
    if headers_value:
        return headers_value, None
    if body and content_type and "json" in content_type:
        try:
            doc = json.loads(body.decode("utf-8", "replace"))
        except ValueError:
            return None, None
        if isinstance(doc, dict) and doc.get("instance_id"):
            return doc.get("instance_id"), doc.get("availability_zone")
    return None, None


class Requester:
    """One keep-alive connection; one request at a time."""

    def __init__(self, target, timeout, validate_certs=True, connection_factory=None):
        self.target, self.timeout, self.validate_certs = target, timeout, validate_certs
        self.factory = connection_factory or new_connection
        self.conn = None
        self.connects = 0

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self.conn = None

    def request(self, method, path, body=None, headers=None, keep_body=False):
        """Send one request. Returns (status or None, error kind or None, instance id, az, body or None)."""
        hdrs = {"User-Agent": USER_AGENT, "Connection": "keep-alive"}
        hdrs.update(headers or {})
        try:
            if self.conn is None:
                self.conn = self.factory(self.target, self.timeout, self.validate_certs)
                self.connects += 1
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
            status = resp.status
            iid, az = instance_from(resp.getheader(INSTANCE_HEADER), data if len(data) <= BODY_KEEP else None,
                                    resp.getheader("Content-Type"))
            if resp.will_close:
                self.close()
        except Exception as e:  # pylint: disable=broad-except
            self.close()
            return None, error_kind(e), None, None, None
        kind = "http_%d" % status if status >= 400 else None
        return status, kind, iid, az, (data if keep_body else None)


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = int(-(-pct * len(sorted_values) // 100))  # ceil
    rank = min(max(rank, 1), len(sorted_values))
    return sorted_values[rank - 1]


def _ms(value):
    return None if value is None else round(value * 1000.0, 3)


def summarize(records, elapsed, started_epoch=None, zones=None):
    """Fold records [(t_start, latency_s, status, kind, instance_id)] into the module's figures."""
    zones = dict(zones or {})
    total = len(records)
    errors = {}
    statuses = {}
    per_instance = {}
    latencies = []
    buckets = {}
    for t0, latency, status, kind, iid in records:
        if kind:
            errors[kind] = errors.get(kind, 0) + 1
        if status is not None:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            latencies.append(latency)
            if iid:
                per_instance[iid] = per_instance.get(iid, 0) + 1
        second = int(t0 + latency)  # the second the request completed in
        b = buckets.setdefault(second, {"requests": 0, "errors": 0, "lat": []})
        b["requests"] += 1
        if kind:
            b["errors"] += 1
        if status is not None:
            b["lat"].append(latency)
    latencies.sort()
    timeline = []
    if records:
        last = max(buckets)
        for second in range(0, last + 1):
            b = buckets.get(second, {"requests": 0, "errors": 0, "lat": []})
            lat = sorted(b["lat"])
            # the last bucket may be partial: its rate is per its real length
            width = 1.0
            if second == last and elapsed > second:
                width = max(min(elapsed - second, 1.0), 0.001)
            timeline.append({
                "t": second,
                "requests": b["requests"],
                "errors": b["errors"],
                "rps": round(b["requests"] / width, 3),
                "p50_ms": _ms(percentile(lat, 50)),
                "p90_ms": _ms(percentile(lat, 90)),
                "p99_ms": _ms(percentile(lat, 99)),
            })
    failed = sum(errors.values())
    per_az = {}
    for iid, count in per_instance.items():
        if iid in zones and zones[iid]:
            per_az[zones[iid]] = per_az.get(zones[iid], 0) + count
    return {
        "requests": total,
        "ok": total - failed,
        "errored": failed,
        "errors": errors,
        "status_codes": statuses,
        "elapsed_seconds": round(elapsed, 3),
        "rps": round(total / elapsed, 3) if elapsed > 0 else 0.0,
        "latency_ms": {
            "min": _ms(latencies[0] if latencies else None),
            "mean": _ms(sum(latencies) / len(latencies) if latencies else None),
            "p50": _ms(percentile(latencies, 50)),
            "p90": _ms(percentile(latencies, 90)),
            "p99": _ms(percentile(latencies, 99)),
            "max": _ms(latencies[-1] if latencies else None),
        },
        "timeline": timeline,
        "per_instance": per_instance,
        "per_az": per_az,
        "instances": sorted(per_instance),
        "zones": dict((k, v) for k, v in zones.items() if k in per_instance),
        "started_epoch": started_epoch,
    }


def run_load(target, path="/", method="GET", concurrency=4, duration_seconds=None, requests=None,
             request_timeout=5.0, validate_certs=True, connection_factory=None, clock=time.monotonic, wall=time.time):
    """Send the load. Returns (records, elapsed seconds, started epoch, zones seen, connections opened).

    Workers share a request budget (requests) and a deadline (duration_seconds); whichever comes first ends
    the test. Each worker keeps one connection alive and reopens it after an error.
    """
    lock = threading.Lock()
    budget = [requests if requests is not None else -1]
    start = clock()
    started_epoch = wall()
    deadline = start + duration_seconds if duration_seconds is not None else None
    results = []
    zones = {}
    connects = [0]

    def take():
        if deadline is not None and clock() >= deadline:
            return False
        if budget[0] < 0:
            return True
        with lock:
            if budget[0] == 0:
                return False
            budget[0] -= 1
            return True

    def worker():
        req = Requester(target, request_timeout, validate_certs, connection_factory)
        mine = []
        seen = {}
        try:
            while take():
                t0 = clock()
                status, kind, iid, az, dummy = req.request(method, path)
                t1 = clock()
                mine.append((t0 - start, t1 - t0, status, kind, iid))
                if az and iid:
                    seen[iid] = az
        finally:
            req.close()
        with lock:
            results.extend(mine)
            zones.update(seen)
            connects[0] += req.connects

    threads = [threading.Thread(target=worker, name="load-%d" % i) for i in range(concurrency)]
    for th in threads:
        th.daemon = True
        th.start()
    for th in threads:
        th.join()
    elapsed = clock() - start
    results.sort(key=lambda r: r[0])
    return results, elapsed, started_epoch, zones, connects[0]


def probe_zones(target, instances, status_path="/api/status", attempts=None, request_timeout=5.0, validate_certs=True,
                connection_factory=None):
    """Ask status_path (JSON instance_id, availability_zone) until every instance's AZ is known or the budget ends.

    Returns (zones {instance: az}, probes sent)."""
    wanted = set(instances)
    zones = {}
    if attempts is None:
        attempts = max(4, 3 * len(wanted))
    req = Requester(target, request_timeout, validate_certs, connection_factory)
    sent = 0
    try:
        while sent < attempts and (not wanted or not wanted.issubset(zones)):
            sent += 1
            status, kind, iid, dummy, body = req.request("GET", status_path, headers={"Accept": "application/json"}, keep_body=True)
            if status != 200 or not body:
                continue
            try:
                doc = json.loads(body.decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(doc, dict):
                iid = doc.get("instance_id") or iid
                if iid and doc.get("availability_zone"):
                    zones[iid] = doc["availability_zone"]
            if not wanted and sent >= 2 * max(len(zones), 1):
                break
    finally:
        req.close()
    return zones, sent


def press_load_test(target, path="/load-test", seconds=None, max_presses=20, expected_instances=None, confirm=None,
                    request_timeout=5.0, validate_certs=True, connection_factory=None):
    """POST the LOAD TEST path until every distinct instance answering reports it running.

    Without expected_instances the set of instances is what answers: pressing stops once every seen
    instance is loaded and `confirm` further presses (default 2 x the instances seen) brought no new one.
    Returns {presses, loaded, instances, complete, responses: [{instance_id, status, started, running, error}]}.
    """
    body = urlencode({"seconds": int(seconds)}) if seconds else ""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    seen = set()
    loaded = set()
    responses = []
    quiet = 0
    req = Requester(target, request_timeout, validate_certs, connection_factory)
    presses = 0
    try:
        while presses < max_presses:
            presses += 1
            status, kind, iid, dummy, data = req.request("POST", path, body=body, headers=headers, keep_body=True)
            entry = {"instance_id": iid, "status": status, "started": False, "running": False, "error": kind}
            if data and status is not None and status < 300:
                try:
                    doc = json.loads(data.decode("utf-8", "replace"))
                except ValueError:
                    doc = {}
                if isinstance(doc, dict):
                    entry["started"] = bool(doc.get("started"))
                    entry["running"] = bool(doc.get("running"))
                    entry["remaining_seconds"] = doc.get("remaining_seconds")
                    iid = iid or doc.get("instance_id")
                    entry["instance_id"] = iid
            responses.append(entry)
            new = iid is not None and iid not in seen
            if iid is not None:
                seen.add(iid)
                if entry["started"] or entry["running"]:
                    loaded.add(iid)
            quiet = 0 if new else quiet + 1
            if expected_instances:
                if len(loaded) >= expected_instances:
                    break
                continue
            need = confirm if confirm is not None else 2 * max(len(seen), 1)
            if seen and loaded == seen and quiet >= need:
                break
    finally:
        req.close()
    if expected_instances:
        complete = len(loaded) >= expected_instances
    else:
        complete = bool(seen) and loaded == seen
    return {
        "presses": presses,
        "instances": sorted(seen),
        "loaded": sorted(loaded),
        "not_loaded": sorted(seen - loaded),
        "complete": complete,
        "responses": responses,
    }


def plan(target, path, method, concurrency, duration_seconds, requests, load_test_path=None):
    """What a run would do (check mode)."""
    url = "%s://%s:%s%s" % (target["scheme"], target["host"], target["port"], path)
    return {
        "url": url,
        "method": method,
        "concurrency": concurrency,
        "duration_seconds": duration_seconds,
        "requests": requests,
        "load_test_path": load_test_path,
    }
