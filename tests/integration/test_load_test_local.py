"""End-to-end: the load_test module against three instances of the sample application on loopback
(each with its own fake IMDS: distinct instance id and AZ) behind a round-robin proxy that counts
what the servers got; the report page; load_test.yml with a URL override; capacity_wait on moto
while the test plays the scaling policy's part (desired capacity 2 -> 4).

Traffic goes to 127.0.0.1 only.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from html.parser import HTMLParser

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from support.fake_imds import FakeIMDS  # noqa: E402
from support.round_robin import RoundRobin  # noqa: E402

PY = os.path.join(ROOT, ".venv", "bin", "python")
APP = os.path.join(ROOT, "roles", "web_ami", "files", "ha_web_app.py")
MODULES = os.path.join(ROOT, "plugins", "modules")
COLLECTIONS = os.path.join(ROOT, ".collections")
IDENTITIES = [("i-0aaaaaaaaaaaaaaa1", "ap-northeast-2a"), ("i-0ccccccccccccccc2", "ap-northeast-2c"),
              ("i-0aaaaaaaaaaaaaaa3", "ap-northeast-2a")]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as r:  # loopback only
        return json.loads(r.read().decode())


class Backend:
    """One sample app process with its own fake IMDS."""

    def __init__(self, instance_id, az, log_dir):
        self.instance_id, self.az = instance_id, az
        self.imds = FakeIMDS(instance_id=instance_id, availability_zone=az).start()
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(log_dir, "app-%d.log" % self.port), "w")
        self.proc = subprocess.Popen([PY, APP, "--port", str(self.port), "--bind", "127.0.0.1", "--imds-url", self.imds.url,
                                      "--load-seconds", "1"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                if get_json(self.url + "/api/status")["instance_id"] == instance_id:
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("sample app on %s did not come up" % self.url)
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.imds.stop()
        self.log.close()


@pytest.fixture(scope="module")
def backends():
    log_dir = tempfile.mkdtemp(prefix="load-test-apps-")
    started = []
    try:
        for iid, az in IDENTITIES:
            started.append(Backend(iid, az, log_dir))
        yield started
    finally:
        for b in started:
            b.stop()


@pytest.fixture()
def rr(backends):
    with RoundRobin([b.url for b in backends if b.proc.poll() is None]) as proxy:
        yield proxy


def run_module(name, args, check=False, env=None):
    """Run a module of this collection the way Ansible does (a separate process, JSON args)."""
    payload = dict(args)
    payload["_ansible_check_mode"] = check
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"ANSIBLE_MODULE_ARGS": payload}, f)
    try:
        run_env = dict(os.environ, PYTHONPATH=COLLECTIONS)
        run_env.update(env or {})
        out = subprocess.run([PY, os.path.join(MODULES, name + ".py"), f.name], capture_output=True, text=True,
                             env=run_env, timeout=120, check=False)
    finally:
        os.unlink(f.name)
    try:
        return json.loads(out.stdout)
    except ValueError:
        raise AssertionError("module output is not JSON: %s %s" % (out.stdout, out.stderr))


def by_instance(rr, method, path):
    """What the servers answered per instance for one method/path, from the proxy's counts."""
    return dict((iid, n) for (iid, m, p), n in rr.by_instance_path.items() if m == method and p == path)


# --------------------------------------------------------------------------------------------
def test_counts_match_what_the_servers_got(rr, backends):
    res = run_module("load_test", {"url": rr.url + "/", "requests": 300, "concurrency": 6})
    assert not res.get("failed"), res
    assert res["requests"] == 300 and res["ok"] == 300 and res["errored"] == 0 and res["errors"] == {}
    assert rr.by_path[("GET", "/")] == 300
    assert res["per_instance"] == by_instance(rr, "GET", "/")
    assert res["per_instance"] == dict((iid, 100) for iid, dummy in IDENTITIES)  # round robin: an even split
    # AZs: probed on /api/status after the load, counted separately
    assert rr.by_path.get(("GET", "/api/status"), 0) == res["zone_probes"] >= 3
    assert res["zones"] == dict(IDENTITIES)
    assert res["per_az"] == {"ap-northeast-2a": 200, "ap-northeast-2c": 100}
    assert rr.total() == 300 + res["zone_probes"]
    assert res["status_codes"] == {"200": 300}
    assert sum(b["requests"] for b in res["timeline"]) == 300
    lat = res["latency_ms"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]
    assert res["connections"] <= 6  # keep-alive to the proxy
    assert res["changed"] is False


def test_duration_bound_and_per_second_buckets(rr):
    res = run_module("load_test", {"url": rr.url + "/health", "duration_seconds": 1.5, "concurrency": 4, "zone_probe_path": ""})
    assert not res.get("failed"), res
    assert 1.4 <= res["elapsed_seconds"] < 3.0
    assert rr.total() == res["requests"] == rr.by_path[("GET", "/health")]
    assert res["zone_probes"] == 0
    assert [b["t"] for b in res["timeline"]] == list(range(len(res["timeline"])))
    assert sum(b["requests"] for b in res["timeline"]) == res["requests"]
    assert res["timeline"][0]["rps"] == res["timeline"][0]["requests"]


def test_stopped_backend_gives_connection_errors(backends):
    extra = Backend("i-0dddddddddddddd4", "ap-northeast-2c", tempfile.mkdtemp(prefix="load-test-apps-"))
    extra.stop()  # a backend that is gone
    with RoundRobin([b.url for b in backends] + [extra.url]) as proxy:
        res = run_module("load_test", {"url": proxy.url + "/", "requests": 200, "concurrency": 4, "zone_probe_path": ""})
        assert not res.get("failed"), res
        assert res["requests"] == 200 == proxy.total()
        assert res["errors"] == {"connection": proxy.failed[extra.url]}
        assert proxy.failed[extra.url] == 50
        assert res["ok"] == 150 == sum(proxy.answered.values())
        assert res["per_instance"] == proxy.by_instance
    with RoundRobin([b.url for b in backends[:1]], on_error="502") as proxy:
        res = run_module("load_test", {"url": proxy.url + "/nope", "requests": 20, "concurrency": 2, "zone_probe_path": ""})
        assert res["errors"] == {"http_404": 20} and res["status_codes"] == {"404": 20}


@pytest.mark.parametrize("url, why", [
    ("ftp://127.0.0.1/", "scheme 'ftp' is not supported"),
    ("file:///etc/passwd", "scheme 'file' is not supported"),
    ("127.0.0.1:8080/", "it has no scheme"),
    ("gopher://127.0.0.1:70/", "scheme 'gopher' is not supported"),
    ("/just/a/path", "it has no scheme"),
])
def test_non_http_url_refused(rr, url, why):
    res = run_module("load_test", {"url": url, "requests": 10})
    assert res["failed"] is True
    assert res["msg"] == "url %r refused: %s; only http:// and https:// URLs are load-tested" % (url, why)
    assert rr.total() == 0


def test_url_without_host_refused(rr):
    res = run_module("load_test", {"url": "http:///nohost", "requests": 10})
    assert res["msg"] == "url 'http:///nohost' refused: it names no host"
    assert rr.total() == 0


def test_bounds_are_required_and_capped(rr):
    res = run_module("load_test", {"url": rr.url + "/"})
    assert res["msg"] == "give duration_seconds or requests (or both): a load test must be bounded"
    res = run_module("load_test", {"url": rr.url + "/", "duration_seconds": 601})
    assert res["msg"] == "duration_seconds must be more than 0 and at most 600, got 601.0"
    res = run_module("load_test", {"url": rr.url + "/", "requests": 1000001})
    assert res["msg"] == "requests must be from 1 to 1000000, got 1000001"
    assert rr.total() == 0


def test_check_mode_sends_nothing(rr, tmp_path):
    res = run_module("load_test", {"url": rr.url + "/", "requests": 100, "concurrency": 4, "load_test_path": "/load-test",
                                   "report_path": str(tmp_path / "r")}, check=True)
    assert not res.get("failed"), res
    assert res["changed"] is False
    assert res["would"]["requests"] == 100 and res["would"]["send_traffic"] is False
    assert res["would"]["load_test_path"] == "/load-test"
    assert rr.total() == 0
    assert list(tmp_path.iterdir()) == []


def test_load_test_pressed_on_every_instance(rr, backends):
    res = run_module("load_test", {"url": rr.url + "/", "load_test_path": "/load-test", "load_test_seconds": 1})
    assert not res.get("failed"), res
    press = res["load_test_press"]
    ids = sorted(iid for iid, dummy in IDENTITIES)
    assert press["complete"] is True
    assert press["loaded"] == ids and press["instances"] == ids and press["not_loaded"] == []
    assert press["presses"] == rr.by_path[("POST", "/load-test")] == rr.total()
    assert press["presses"] == 9  # 3 to find them, then 2 x 3 that find no new one
    assert sorted(by_instance(rr, "POST", "/load-test")) == ids
    assert res["changed"] is True
    started = [r for r in press["responses"] if r["started"]]
    assert sorted(r["instance_id"] for r in started) == ids  # presses never stack: one start each
    # and with the expected count, pressing stops as soon as each is loaded
    rr.reset()
    for b in backends:  # let the 1-second loads finish
        deadline = time.monotonic() + 10
        while get_json(b.url + "/api/status")["load_test"]["running"] and time.monotonic() < deadline:
            time.sleep(0.1)
    res = run_module("load_test", {"url": rr.url + "/", "load_test_path": "/load-test", "load_test_seconds": 1,
                                   "load_test_instances": 3})
    assert res["load_test_press"]["presses"] == 3 == rr.total()


class SvgSeries(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.series, self.data, self._in_data, self.charts = {}, None, False, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "polyline" and "data-series" in a:
            self.series[a["data-series"]] = json.loads(a["data-points"])
        if tag == "svg" and "data-chart" in a:
            self.charts.append(a["data-chart"])
        if tag == "script" and a.get("id") == "report-data":
            self._in_data = True
            self.data = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data += data


def test_report_holds_every_series(rr, tmp_path):
    base = str(tmp_path / "out" / "lab-load-test")
    timeline = [{"t": 0, "instances": 2}, {"t": 1.0, "instances": 3}, {"t": 2.5, "instances": 4}]
    res = run_module("load_test", {"url": rr.url + "/", "duration_seconds": 2, "concurrency": 3, "report_path": base + ".html",
                                   "capacity_timeline": timeline})
    assert not res.get("failed"), res
    assert res["report_json"] == base + ".json" and res["report_html"] == base + ".html"
    with open(res["report_json"]) as f:
        doc = json.load(f)
    parser = SvgSeries()
    with open(res["report_html"]) as f:
        page = f.read()
    parser.feed(page)
    assert "<script src" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(rr.url, "")
    assert parser.charts == ["rps", "latency", "capacity"]
    assert sorted(parser.series) == ["instances", "p50_ms", "p90_ms", "p99_ms", "rps"]
    for name, points in parser.series.items():
        assert points == doc["series"][name], name
    assert doc["series"]["rps"] == [[float(b["t"]), b["rps"]] for b in doc["timeline"]]
    assert doc["series"]["p99_ms"] == [[float(b["t"]), b["p99_ms"]] for b in doc["timeline"] if b["p99_ms"] is not None]
    assert doc["series"]["instances"] == [[0.0, 2], [1.0, 3], [2.5, 4]]
    assert json.loads(parser.data) == doc
    assert doc["requests"] == res["requests"] == rr.by_path[("GET", "/")]

    # re-rendered later with capacity_wait's timeline (epochs re-based on the load's start): no traffic
    before = rr.total()
    start = doc["started_epoch"]
    cap = [{"t": 0.0, "epoch": start + 10, "in_service": 2, "healthy": 2, "desired_capacity": 4},
           {"t": 5.0, "epoch": start + 15, "in_service": 4, "healthy": 4, "desired_capacity": 4}]
    res = run_module("load_test", {"url": rr.url + "/", "report_from": base + ".json", "report_path": base, "capacity_timeline": cap})
    assert not res.get("failed"), res
    assert rr.total() == before
    parser = SvgSeries()
    with open(base + ".html") as f:
        parser.feed(f.read())
    assert parser.series["instances"] == [[10.0, 2], [15.0, 4]]
    assert parser.series["rps"] == doc["series"]["rps"]


def make_group(moto_url, name, cidr="10.42"):
    import boto3
    kw = dict(endpoint_url=moto_url, region_name="ap-northeast-2", aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2, asg = boto3.client("ec2", **kw), boto3.client("autoscaling", **kw)
    vpc = ec2.create_vpc(CidrBlock=cidr + ".0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="%s.%d.0/24" % (cidr, n), AvailabilityZone=az)["Subnet"]["SubnetId"]
               for n, az in ((1, "ap-northeast-2a"), (2, "ap-northeast-2c"))]
    ami = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    asg.create_launch_configuration(LaunchConfigurationName=name, ImageId=ami, InstanceType="t2.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=name, MinSize=2, MaxSize=4,
                                  DesiredCapacity=2, VPCZoneIdentifier=",".join(subnets))
    return asg


def scale_out_when_polled(spy, asg, name, delay=1.5):
    """Play the target tracking policy's part (moto never scales by itself) once the waiter has polled."""
    def run():
        deadline = time.monotonic() + 90
        while not any(k[1] == "/" and k[0] == "POST" for k in spy.by_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(delay)
        asg.set_desired_capacity(AutoScalingGroupName=name, DesiredCapacity=4)
    th = threading.Thread(target=run)
    th.start()
    return th


def test_playbook_with_url_override(rr, tmp_path, moto_url):
    """load_test.yml's HTTP path, for real, against the round robin; step (c) on moto while the test scales the group."""
    name = "lt-pb-%d" % os.getpid()
    asg = make_group(moto_url, name, "10.43")
    report = str(tmp_path / "pb-report")
    with RoundRobin([moto_url]) as spy:
        env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", AWS_ENDPOINT_URL=spy.url, AWS_DEFAULT_REGION="ap-northeast-2",
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        th = scale_out_when_polled(spy, asg, name)
        try:
            out = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "playbooks/load_test.yml",
                                  "-e", "load_test_url=%s/" % rr.url, "-e", "load_test_duration_seconds=1.5", "-e", "load_test_concurrency=3",
                                  "-e", "load_test_seconds=1", "-e", "load_test_group_name=" + name, "-e", "load_test_poll_interval=1",
                                  "-e", "load_test_wait_timeout=60", "-e", "load_test_report_path=" + report,
                                  "-e", "ha_web_outputs_dir=" + str(tmp_path)],
                                 cwd=ROOT, capture_output=True, text=True, env=env, timeout=240, check=False)
        finally:
            th.join()
    assert out.returncode == 0, out.stdout + out.stderr
    sent = rr.by_path[("GET", "/")]
    assert "%d requests to %s/" % (sent, rr.url) in out.stdout
    for iid, dummy in IDENTITIES:
        assert iid in out.stdout
    assert "ap-northeast-2c" in out.stdout
    assert "SKIPPED" not in out.stdout
    assert "group %s: 4 of 4 instances ready" % name in out.stdout
    assert "scaling activities: none reported" in out.stdout
    # the scale-out wait runs in the background and says how it goes at each poll
    assert "FAILED - RETRYING: [lab]: Wait for the group to scale out (c)" in out.stdout
    assert rr.by_path[("POST", "/load-test")] >= 3
    with open(report + ".json") as f:
        doc = json.load(f)
    assert doc["per_instance"] == by_instance(rr, "GET", "/")
    assert doc["requests"] == sent
    assert len(doc["series"]["rps"]) >= 2  # the load lasted load_test_duration_seconds: a point per second
    assert "path" not in doc and doc["request_path"] == "/"
    assert [p[1] for p in doc["series"]["instances"]] == [2, 4]
    page = SvgSeries()
    with open(report + ".html") as f:
        page.feed(f.read())
    assert page.series["instances"] == doc["series"]["instances"]


def test_playbook_on_the_embedded_cloud_says_what_it_skips(moto_url, tmp_path):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", AWS_ENDPOINT_URL=moto_url, AWS_DEFAULT_REGION="ap-northeast-2",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    out = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "playbooks/load_test.yml",
                          "-e", "stack_name=lt-nothing-%d" % os.getpid(), "-e", "ha_web_outputs_dir=" + str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=240, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "leads nowhere" in out.stdout and "SKIPPED" in out.stdout
    assert "No Auto Scaling group found for stack lt-nothing-%d" % os.getpid() in out.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def moto_url(request):
    """HA_WEB_TEST_MOTO_URL (a moto server already running, e.g. scripts/cloud.sh up), else a private one."""
    url = os.environ.get("HA_WEB_TEST_MOTO_URL")
    if url:
        return url
    return request.getfixturevalue("cloud").url


def test_capacity_wait_sees_the_group_reach_four(moto_url):
    name = "lt-e2e-%d" % os.getpid()
    asg = make_group(moto_url, name, "10.42")
    before = set(i["InstanceId"] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]["Instances"])
    assert len(before) == 2

    # The module talks to moto through a counting proxy: once it has polled, the test plays the target
    # tracking policy's part (moto never scales by itself) and raises the desired capacity to 4.
    with RoundRobin([moto_url]) as spy:
        th = scale_out_when_polled(spy, asg, name)
        try:
            res = run_module("capacity_wait", {"group_name": name, "desired": "max", "wait_timeout": 30, "poll_interval": 1,
                                               "region": "ap-northeast-2", "endpoint_url": spy.url,
                                               "access_key": "testing", "secret_key": "testing"})
        finally:
            th.join()
    assert not res.get("failed"), res
    assert res["changed"] is False
    assert res["wanted"] == 4 and res["healthy"] == 4 and res["in_service"] == 4 and res["desired_capacity"] == 4
    assert [(e["in_service"], e["healthy"], e["desired_capacity"]) for e in res["timeline"]] == [(2, 2, 2), (4, 4, 4)]
    assert res["timeline"][1]["t"] >= 1.0 and res["polls"] >= 3
    assert sum(res["per_az"].values()) == 4
    by_id = dict((i["instance_id"], i) for i in res["instances"])
    assert len(by_id) == 4 and before < set(by_id)
    for iid, i in by_id.items():
        assert i["lifecycle_state"] == "InService" and i["health_status"] == "Healthy" and i["target_health"] is None
        assert i["launch_time"]
        assert (i["ready_at"] == res["timeline"][0]["t"]) == (iid in before)
    assert res["activities"] == [] and res["activities_error"] is None  # moto answers an empty list
    # a wait that cannot be reached times out with the last state
    res = run_module("capacity_wait", {"group_name": name, "desired": "3", "wait_timeout": 0, "region": "ap-northeast-2",
                                       "endpoint_url": moto_url, "access_key": "testing", "secret_key": "testing"})
    assert not res.get("failed") and res["healthy"] == 4
    res = run_module("capacity_wait", {"group_name": name, "desired": "5", "region": "ap-northeast-2",
                                       "endpoint_url": moto_url, "access_key": "testing", "secret_key": "testing"})
    assert res["failed"] is True
    assert res["msg"] == "waiting for 5 instances can never succeed: the group %s has MaxSize 4" % name
