"""The sample web application (roles/web_ami/files/ha_web_app.py), run for real on loopback.

The app runs as a subprocess (under Python 3.9 when one is found, as on Amazon Linux 2023)
against tests/support/fake_imds.py; nothing here talks to 169.254.169.254.
"""
import ast
import glob
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import jinja2
import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from support.fake_imds import FakeIMDS  # noqa: E402

ROOT = os.path.dirname(TESTS)
ROLE = os.path.join(ROOT, "roles", "web_ami")
APP = os.path.join(ROLE, "files", "ha_web_app.py")
UNIT = os.path.join(ROLE, "files", "ha-web-app.service")
USER_DATA = os.path.join(ROLE, "templates", "user_data.sh.j2")
USER_DATA_PACKED = os.path.join(ROLE, "templates", "user_data_packed.sh.j2")
INSTANCE_ID = "i-0a1b2c3d4e5f60718"
AZ = "ap-northeast-2c"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _find_python39():
    """A real Python 3.9 (AL2023's system python), or None. HA_WEB_TEST_PYTHON39 overrides."""
    candidates = [os.environ.get("HA_WEB_TEST_PYTHON39"), "/usr/bin/python3.9",
                  "/usr/local/bin/python3.9"]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    for exe in candidates:
        if not exe or not os.access(exe, os.X_OK):
            continue
        try:
            out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=30, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if out == "(3, 9)":
            return exe
    return None


PYTHON39 = _find_python39()
APP_PYTHON = PYTHON39 or sys.executable


# -- /proc helpers (no psutil) ---------------------------------------------------------------
def _stat(pid):
    """Fields of /proc/<pid>/stat after the command name (index 0 = state), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def children(pid):
    """Live (non-zombie) child processes of pid."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st and int(st[1]) == pid and st[0] != "Z":
                kids.append(int(entry))
    return kids


def alive(pid):
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def cpu_seconds(pid):
    """(own utime+stime, reaped children's cutime+cstime) of pid, in CPU seconds."""
    st = _stat(pid)
    return (int(st[11]) + int(st[12])) / CLK_TCK, (int(st[13]) + int(st[14])) / CLK_TCK


def runnable_fraction(pid):
    """(on-CPU + waiting-for-CPU time) / age of pid, from /proc/<pid>/schedstat: about 1.0 for
    a process that never sleeps (busy), whatever the machine's other load; about 0 for a
    sleeper. Returns (fraction, age in seconds)."""
    with open("/proc/%d/schedstat" % pid) as f:
        on_cpu, waiting = (int(x) for x in f.read().split()[:2])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    age = uptime - int(_stat(pid)[19]) / CLK_TCK
    return (on_cpu + waiting) / 1e9 / max(age, 0.01), age


def wait_for(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


# -- running the app ---------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    def __init__(self, imds_url, load_seconds=600, use_env=False, nofile=None):
        self.imds_url, self.load_seconds, self.use_env, self.nofile = imds_url, load_seconds, use_env, nofile
        self.proc = None

    def start(self):
        for _attempt in range(5):  # a free port may be taken between probe and bind: try another
            self.port = _free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("HA_WEB_APP_")}
            cmd = [APP_PYTHON, APP, "--bind", "127.0.0.1"]
            if self.use_env:
                env.update(HA_WEB_APP_PORT=str(self.port), HA_WEB_APP_IMDS_URL=self.imds_url,
                           HA_WEB_APP_LOAD_SECONDS=str(self.load_seconds))
            else:
                cmd += ["--port", str(self.port), "--imds-url", self.imds_url,
                        "--load-seconds", str(self.load_seconds)]
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log, preexec_fn=self._limits)
            if wait_for(self._up, 30, 0.1):
                return self
            self.stop()
            if "Address already in use" not in self.output():
                break
        raise AssertionError("app did not start:\n" + self.output())

    def _limits(self):
        if self.nofile:  # the open-files limit a service gets from systemd without LimitNOFILE
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def _up(self):
        if self.proc.poll() is not None:
            return True
        try:
            return self.request("GET", "/health", timeout=2)[0] == 200
        except OSError:
            return False

    def output(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    @property
    def pid(self):
        return self.proc.pid

    def request(self, method, path, body=None, headers=None, timeout=20):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read().decode("utf-8")
        finally:
            conn.close()

    def get_json(self, path="/api/status"):
        status, headers, body = self.request("GET", path)
        assert status == 200, body
        return json.loads(body)

    def press(self, seconds=None, accept="application/json", in_query=False):
        path, body = "/load-test", ""
        if seconds is not None:
            q = urllib.parse.urlencode({"seconds": seconds})
            path, body = (path + "?" + q, "") if in_query else (path, q)
        return self.request("POST", path, body=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def header(headers, name):
    return {k.lower(): v for k, v in headers}.get(name.lower())


@pytest.fixture(scope="module")
def imds():
    with FakeIMDS(instance_id=INSTANCE_ID, availability_zone=AZ) as fake:
        yield fake


@pytest.fixture(scope="module")
def app(imds):
    proc = AppProcess(imds.url).start()
    yield proc
    proc.stop()
    assert proc.proc.returncode == 0, proc.output()


@pytest.fixture
def fresh_app(imds):
    started = []

    def make(**kwargs):
        proc = AppProcess(kwargs.pop("imds_url", imds.url), **kwargs).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop(signal.SIGKILL)


# -- the page, health and status ---------------------------------------------------------------
def test_page_shows_instance_and_load_test_menu(app):
    status, headers, body = app.request("GET", "/")
    assert status == 200
    assert header(headers, "Content-Type").startswith("text/html")
    assert header(headers, "X-Instance-Id") == INSTANCE_ID
    assert INSTANCE_ID in body and AZ in body
    assert "LOAD TEST" in body and "CPU load" in body
    form = re.search(r'<form[^>]*method="post"[^>]*action="/load-test"', body)
    assert form, body
    assert 'name="seconds"' in body and 'value="600"' in body
    assert "idle" in body


def test_health(app):
    status, headers, body = app.request("GET", "/health")
    assert (status, body.strip()) == (200, "ok")
    assert header(headers, "X-Instance-Id") == INSTANCE_ID
    status, headers, body = app.request("HEAD", "/health")
    assert status == 200 and body == ""


def test_api_status_fields(app):
    status, headers, body = app.request("GET", "/api/status")
    assert status == 200
    assert header(headers, "Content-Type") == "application/json"
    assert header(headers, "X-Instance-Id") == INSTANCE_ID
    data = json.loads(body)
    assert data["instance_id"] == INSTANCE_ID
    assert data["availability_zone"] == AZ
    assert isinstance(data["cpu_load"], float) and data["cpu_load"] >= 0
    assert isinstance(data["cpu_percent"], (int, float)) and 0 <= data["cpu_percent"] <= 100
    lt = data["load_test"]
    assert lt["running"] is False and lt["remaining_seconds"] == 0 and lt["seconds"] == 600
    assert isinstance(lt["remaining_seconds"], int) and isinstance(lt["seconds"], int)


def test_other_paths_and_methods(app):
    status, headers, _body = app.request("GET", "/nope")
    assert status == 404 and header(headers, "X-Instance-Id") == INSTANCE_ID
    status, headers, _body = app.request("GET", "/load-test")
    assert status == 405 and header(headers, "Allow") == "POST"
    assert app.request("POST", "/elsewhere", body=b"")[0] == 404


def test_keep_alive_connection_serves_many_requests(app):
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=20)
    try:
        for path in ("/health", "/api/status", "/", "/health"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
        conn.request("POST", "/load-test", body=b"seconds=0",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 400
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_imdsv2_token_used_and_identity_cached(app, imds):
    for _attempt in range(5):
        app.request("GET", "/")
        app.get_json()
    assert imds.count("PUT", "/latest/api/token") == 1
    assert imds.count("GET", "/latest/meta-data/instance-id") == 1
    assert imds.count("GET", "/latest/meta-data/placement/availability-zone") == 1
    for method, path, headers in imds.requests:
        if method == "PUT":
            assert int(headers["x-aws-ec2-metadata-token-ttl-seconds"]) > 0
        else:
            assert headers.get("x-aws-ec2-metadata-token") in imds.tokens


def test_fake_imds_requires_a_token(imds):
    conn = http.client.HTTPConnection("127.0.0.1", imds.port, timeout=10)
    conn.request("GET", "/latest/meta-data/instance-id")
    assert conn.getresponse().status == 401
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", imds.port, timeout=10)
    conn.request("PUT", "/latest/api/token")
    assert conn.getresponse().status == 400
    conn.close()


@pytest.mark.parametrize("value", ["0", "-1", "abc", "3601", "1.5", "1e3", "99999999",
                                   "\u0663", "5; rm"])
@pytest.mark.parametrize("in_query", [False, True])
def test_bad_seconds_rejected(app, value, in_query):
    status, headers, body = app.press(value, in_query=in_query)
    assert status == 400, body
    assert "error" in json.loads(body)
    assert header(headers, "X-Instance-Id") == INSTANCE_ID
    assert app.get_json()["load_test"]["running"] is False
    assert children(app.pid) == []


def test_bad_seconds_from_browser_gets_html(app):
    status, headers, body = app.press("0", accept="text/html,application/xhtml+xml")
    assert status == 400 and header(headers, "Content-Type").startswith("text/html")
    assert children(app.pid) == []


# -- LOAD TEST -------------------------------------------------------------------------------
def test_load_test_burns_cpu_for_the_set_time_then_stops(fresh_app):
    seconds = 4
    app = fresh_app()
    ncpu = len(os.sched_getaffinity(app.pid))
    _own, reaped_before = cpu_seconds(app.pid)
    t0 = time.monotonic()
    status, headers, body = app.press(seconds)
    assert status == 202, body
    answer = json.loads(body)
    assert answer["started"] is True and answer["running"] is True
    assert 1 <= answer["remaining_seconds"] <= seconds
    workers = children(app.pid)
    assert len(workers) == ncpu  # one busy worker per CPU
    during = app.get_json()["load_test"]
    assert during["running"] is True and during["seconds"] == seconds
    assert 0 < during["remaining_seconds"] <= seconds
    page = app.request("GET", "/")[2]
    assert "running" in page
    # busy, not sleeping: each worker is always on a CPU or queued for one (this holds however
    # many other processes share the machine; CPU seconds alone depend on them)
    time.sleep(max(0.0, t0 + seconds * 0.6 - time.monotonic()))
    fractions = [runnable_fraction(pid) for pid in workers]
    for fraction, age in fractions:
        assert age >= 1.0 and fraction >= 0.8, fractions

    assert wait_for(lambda: not app.get_json()["load_test"]["running"], seconds + 30, 0.2)
    elapsed = time.monotonic() - t0
    assert elapsed >= seconds - 0.5  # it ran for the set time
    assert not any(alive(pid) for pid in workers)
    assert children(app.pid) == []
    after = app.get_json()["load_test"]
    assert after == {"running": False, "remaining_seconds": 0, "seconds": seconds, "workers": 0}

    # the workers are reaped by the app: their CPU time is in the app's cutime+cstime
    _own, reaped_after = cpu_seconds(app.pid)
    burned = reaped_after - reaped_before
    print("\nLOAD TEST seconds=%d on %d CPU(s): %.2f CPU-s burned, stopped after %.2f s, "
          "workers runnable %s of their life" % (seconds, ncpu, burned, elapsed,
                                                 ["%.0f%%" % (100 * f) for f, _age in fractions]))
    # really burned: ~seconds x CPUs on an idle machine; the floor is low because other jobs
    # may share this one (the runnable check above is the contention-proof part); an idle
    # worker would burn ~0.03 CPU-s (interpreter start-up)
    assert burned >= 0.0625 * seconds * ncpu
    assert burned <= seconds * ncpu + 1.5  # and not beyond its deadline

    # back to idle: the app itself burns (almost) nothing once the load is over
    own0, kids0 = cpu_seconds(app.pid)
    time.sleep(1.5)
    own1, kids1 = cpu_seconds(app.pid)
    assert (own1 - own0) + (kids1 - kids0) < 0.3
    assert children(app.pid) == []


def test_presses_do_not_stack_and_sigterm_stops_workers(fresh_app):
    app = fresh_app(load_seconds=30)
    ncpu = len(os.sched_getaffinity(app.pid))
    status, _headers, body = app.press()  # no field: the configured default duration
    assert status == 202
    first = json.loads(body)
    assert first["started"] is True and first["seconds"] == 30
    workers = sorted(children(app.pid))
    assert len(workers) == ncpu
    for seconds in (None, 3600, 5):
        status, _headers, body = app.press(seconds)
        assert status == 202, body
        again = json.loads(body)
        assert again["started"] is False and again["running"] is True
        assert 0 < again["remaining_seconds"] <= 30 and again["seconds"] == 30
        assert sorted(children(app.pid)) == workers
    # the browser's form: a redirect back to the page, and still no new workers
    status, headers, _body = app.press(10, accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert status == 303 and header(headers, "Location") == "/"
    assert sorted(children(app.pid)) == workers
    assert app.get_json()["load_test"]["workers"] == ncpu

    app.stop(signal.SIGTERM)
    assert app.proc.returncode == 0, app.output()
    assert wait_for(lambda: not any(alive(pid) for pid in workers), 10)


def test_workers_stop_by_themselves_when_app_is_killed(fresh_app):
    app = fresh_app()
    assert app.press(120)[0] == 202
    workers = children(app.pid)
    assert workers
    app.stop(signal.SIGKILL)
    assert wait_for(lambda: not any(alive(pid) for pid in workers), 10)


# -- metadata service trouble ----------------------------------------------------------------
def _assert_unknown(app):
    status, headers, body = app.request("GET", "/")
    assert status == 200 and "unknown" in body
    assert header(headers, "X-Instance-Id") == "unknown"
    data = app.get_json()
    assert data["instance_id"] == "unknown" and data["availability_zone"] == "unknown"
    assert app.request("GET", "/health")[0] == 200


def test_imds_down_gives_unknown(fresh_app):
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d" % s.getsockname()[1]
        app = fresh_app(imds_url=url)
        _assert_unknown(app)
    assert app.proc.poll() is None


@pytest.mark.parametrize("mode", ["hang", "error"])
def test_imds_broken_gives_unknown_quickly(fresh_app, mode):
    with FakeIMDS(mode=mode) as broken:
        app = fresh_app(imds_url=broken.url)
        t0 = time.monotonic()
        _assert_unknown(app)
        assert time.monotonic() - t0 < 15  # short timeouts, no hang
        assert app.proc.poll() is None


def test_configuration_from_environment(fresh_app, imds):
    app = fresh_app(load_seconds=42, use_env=True)
    data = app.get_json()
    assert data["instance_id"] == INSTANCE_ID
    assert data["load_test"]["seconds"] == 42


# -- Python 3.9, stdlib only -----------------------------------------------------------------
def test_app_compiles_for_python39_stdlib_only():
    with open(APP) as f:
        source = f.read()
    tree = ast.parse(source, feature_version=(3, 9))
    assert not [n for n in ast.walk(tree) if type(n).__name__.startswith("Match")]
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported and imported <= set(sys.stdlib_module_names), imported
    for newer in ("tomllib", "pairwise", "strict=", "bit_count", "aiter(", "anext(",
                  "ExceptionGroup", "except*", "datetime.UTC", "TypeAlias", "kw_only"):
        assert newer not in source, newer
    if PYTHON39:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([PYTHON39, "-c", "import py_compile,sys; py_compile.compile("
                                  "sys.argv[1], cfile=sys.argv[2], doraise=True)",
                                  APP, os.path.join(tmp, "app.pyc")],
                                 capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr


def test_app_ran_under_the_interpreter_chosen(app):
    server = header(app.request("GET", "/health")[1], "Server")
    expected = "3.9" if PYTHON39 else "%d.%d" % sys.version_info[:2]
    assert "Python/" + expected in server


# -- systemd unit and user data --------------------------------------------------------------
def test_unit_runs_unprivileged_and_restarts():
    with open(UNIT) as f:
        unit = f.read()
    settings = dict(line.split("=", 1) for line in unit.splitlines()
                    if "=" in line and not line.startswith("#"))
    assert settings["Restart"] == "always"
    assert settings["DynamicUser"] == "yes"
    assert settings["AmbientCapabilities"] == "CAP_NET_BIND_SERVICE"
    assert settings["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["ProtectSystem"] == "strict"
    assert "User" not in settings
    assert settings["ExecStart"].split()[0] == "/usr/bin/python3"
    assert settings["ExecStart"].split()[-1] == "/opt/ha-web-app/ha_web_app.py"
    assert settings["EnvironmentFile"] == "-/etc/ha-web-app.env"
    assert settings["WantedBy"] == "multi-user.target"
    assert int(settings["LimitNOFILE"]) >= 4096  # the app's connections and the LOAD TEST workers


def _render_user_data(**variables):
    files = os.path.join(ROLE, "files")

    def lookup(plugin, name):
        assert plugin in ("ansible.builtin.file", "file")
        with open(os.path.join(files, name)) as f:
            return f.read().rstrip()  # as Ansible's file lookup does by default (rstrip=True)

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    with open(USER_DATA) as f:
        return env.from_string(f.read()).render(lookup=lookup, **variables)


def _heredocs(script):
    return {m.group(1): m.group(3) + "\n" for m in re.finditer(
        r"^cat > (\S+) <<'(\w+)'\n(.*?)\n\2$", script, re.M | re.S)}


def _role_defaults():
    """The role's defaults (defaults/main.yml, written with the role's tasks) or the contract's."""
    values = {"web_ami_app_port": 80, "web_ami_load_seconds": 600}
    path = os.path.join(ROLE, "defaults", "main.yml")
    if os.path.exists(path):
        import yaml

        with open(path) as f:
            loaded = yaml.safe_load(f) or {}
        for key in values:
            if key in loaded:
                assert loaded[key] == values[key], (key, loaded[key])
    return values


def _render_packed(script):
    from ansible_collections.immersionday.ha_web.plugins.filter.gzip_b64 import gzip_b64

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["immersionday.ha_web.gzip_b64"] = gzip_b64
    with open(USER_DATA_PACKED) as f:
        return env.from_string(f.read()).render(web_ami__user_data=script)


@pytest.mark.parametrize("variables", [None, {"web_ami_app_port": 8080,
                                              "web_ami_load_seconds": 3600}])
def test_user_data_installs_app_and_unit_verbatim(variables):
    variables = variables or _role_defaults()
    script = _render_user_data(**variables)
    assert script.startswith("#!/usr/bin/env bash\n")
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0
    docs = _heredocs(script)
    with open(APP) as f:
        assert docs["/opt/ha-web-app/ha_web_app.py"] == f.read()
    with open(UNIT) as f:
        assert docs["/etc/systemd/system/ha-web-app.service"] == f.read()
    env = dict(line.split("=", 1) for line in docs["/etc/ha-web-app.env"].split())
    assert env == {"HA_WEB_APP_PORT": str(variables["web_ami_app_port"]),
                   "HA_WEB_APP_LOAD_SECONDS": str(variables["web_ami_load_seconds"])}
    assert re.search(r"^systemctl enable --now ha-web-app\.service$", script, re.M)
    assert not re.search(r"\b(curl|wget|dnf|yum|pip3?|apt-get|rpm)\b", script)


def test_the_builder_gets_the_installer_packed_within_the_16_kb_of_user_data(tmp_path):
    """The installer gzipped: base64 -d | gzip -dc on the instance gives it back byte for byte."""
    script = _render_user_data(**_role_defaults())
    packed = _render_packed(script)
    size = len(packed.encode("utf-8"))
    print("\nuser data: %d bytes packed, %d bytes unpacked" % (size, len(script.encode("utf-8"))))
    assert size < 16384 - 2048  # AWS limit is 16 KB: keep a margin
    assert packed.startswith("#!/usr/bin/env bash\n")
    assert subprocess.run(["bash", "-n"], input=packed, text=True, check=False).returncode == 0
    # run it with `bash` swapped for `cat`: what the instance's bash would read
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bash").symlink_to(subprocess.run(["which", "cat"], capture_output=True, text=True, check=True).stdout.strip())
    body = packed.split("\n", 1)[1]  # the real bash runs the script; its inner `bash` is the fake
    import shutil

    out = subprocess.run([shutil.which("bash"), "-c", body], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PATH="%s:%s" % (fake, os.environ["PATH"])))
    assert out.returncode == 0, out.stderr
    assert out.stdout == script
    assert not re.search(r"\b(curl|wget|dnf|yum|pip3?|apt-get|rpm)\b", packed)


# -- abuse: many idle clients, smuggled requests, malformed requests --------------------------
def _raise_fd_limit(wanted):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def _threads(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))


def _exchange(port, data, timeout=5, half_close=False):
    """Sends raw bytes (then ends its side with half_close), returns everything the app answers
    until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return b"".join(chunks), True  # closed by the app
                chunks.append(chunk)
        except socket.timeout:
            return b"".join(chunks), False
        except ConnectionResetError:
            return b"".join(chunks), True


def _statuses(answer):
    """The status codes answered; a request line too broken to name its version gets the error
    page alone, as HTTP/0.9 answers (no status line): its code then."""
    codes = [int(code) for code in re.findall(rb"^HTTP/1\.[01] (\d{3}) ", answer, re.M)]
    return codes or [int(code) for code in re.findall(rb"<p>Error code: (\d{3})</p>", answer)]


def test_health_answers_under_1000_idle_connections(fresh_app):
    """1,100 clients connect and send nothing (half of them the start of a request line): the
    app keeps at most 256 connections, closing the longest waiting, and /health answers at once,
    even with the 1,024 open files systemd gives a service by default. (One thread and one file per
    connection, as before: 1,022 threads, and /health timed out.)"""
    _raise_fd_limit(4096)
    app = fresh_app(nofile=1024)
    clients = []
    try:
        t0 = time.monotonic()
        for index in range(1100):
            sock = socket.create_connection(("127.0.0.1", app.port), timeout=10)
            if index % 2:
                sock.sendall(b"GET /health HT")  # slow loris: never finishes its request line
            clients.append(sock)
        opened = time.monotonic() - t0
        time.sleep(0.5)
        t1 = time.monotonic()
        status, _headers, body = app.request("GET", "/health", timeout=5)
        answered = time.monotonic() - t1
        threads = _threads(app.pid)
        print("\n1100 idle connections opened in %.2f s; /health %d in %.3f s; app threads %d"
              % (opened, status, answered, threads))
        assert (status, body) == (200, "ok\n")
        assert answered < 2.0
        assert threads <= 256 + 10  # the connections' threads, the accept loop, the CPU meter
        assert app.get_json()["instance_id"] == INSTANCE_ID
    finally:
        for sock in clients:
            sock.close()
    assert "Traceback" not in app.output()


def test_a_body_carrying_a_second_request_is_read_as_a_body(fresh_app):
    """Request smuggling: a GET whose body is a POST /load-test. The body is read and dropped;
    the next request on the connection is the client's next one, not the smuggled one."""
    app = fresh_app()
    smuggled = (b"POST /load-test HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 9\r\n\r\nseconds=5")
    request = b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(smuggled), smuggled)
    answer, closed = _exchange(app.port, request + b"GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert closed
    assert _statuses(answer) == [200, 200], answer
    assert b'"running": false' in answer
    assert app.get_json()["load_test"]["running"] is False
    assert children(app.pid) == []


@pytest.mark.parametrize("framing", [
    b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
    b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
    b"Content-Length: 3\r\nContent-Length: 7\r\n\r\n%x\r\n%s",
    b"Content-Length: +3\r\n\r\n%x\r\n%s",
    b"Content-Length: 99999\r\n\r\n%x\r\n%s",
], ids=["chunked", "length and chunked", "two lengths", "signed length", "too long"])
def test_a_body_the_app_cannot_delimit_closes_the_connection(fresh_app, framing):
    app = fresh_app()
    smuggled = b"POST /load-test?seconds=5 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    request = b"GET / HTTP/1.1\r\nHost: x\r\n" + framing % (len(smuggled), smuggled)
    answer, closed = _exchange(app.port, request)
    statuses = _statuses(answer)
    assert statuses in ([400], [413]) and closed, answer
    assert app.get_json()["load_test"]["running"] is False
    assert children(app.pid) == []
    assert "Traceback" not in app.output()


MALFORMED = {
    "binary": b"\x00\x01\x02\xff garbage\r\n\r\n",
    "no path": b"GET\r\n\r\n",
    "two words": b"GET /\r\n\r\n",
    "bad version": b"GET / HTTP/x.y\r\n\r\n",
    "future version": b"GET / HTTP/9.9\r\n\r\n",
    "70 KB request line": b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "unparsable URL": b"GET http://[/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "control characters": b"GET /\x1b[31mred\x07 HTTP/1.1\r\nHost: x\r\n\r\n",
    "70 KB header": b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n",
    "200 headers": b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
    "header without colon": b"GET / HTTP/1.1\r\nnonsense\r\n\r\n",
    "unknown method": b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
    "closed mid-line": b"GET /he",
}


def test_malformed_requests_get_an_error_or_a_close_never_an_exception(fresh_app):
    app = fresh_app()
    for name, data in MALFORMED.items():
        answer, closed = _exchange(app.port, data, timeout=2, half_close=name == "closed mid-line")
        statuses = _statuses(answer)
        # an error status (501 for an unknown method, 505 for a version from the future), or the
        # connection closed
        assert (statuses and all(400 <= code < 500 or code in (501, 505) for code in statuses)) or (not answer and closed), \
            (name, answer[:300])
        assert app.request("GET", "/health")[0] == 200, name
    log = app.output()
    assert "Traceback" not in log and "Exception" not in log, log[-3000:]
    assert "\x1b" not in log  # the request line is logged escaped
