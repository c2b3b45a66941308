"""The embedded cloud's lifecycle through the Makefile, with a foreign HTTP server on the default port.

make demo (port taken: one line naming the variable to set), make cloud-status, make teardown with no
cloud running, then make demo with that variable, and plain make cloud-status, make demo (again),
make teardown and make cloud-down: each goes to the port the cloud was started on, and nothing is
ever sent to the foreign server.

The test moves the cloud's state directory and default port (HA_WEB_CLOUD_DIR,
HA_WEB_CLOUD_DEFAULT_PORT) so that it never touches a developer's own cloud. HA_WEB_TEST_SCOPE=full
deploys and tears down the whole lab; CI's bounded sample runs the same make targets with
`ARGS=--tags never` (the plays' look-ups and outputs file only: the cloud's log shows where they
went) and tears down the web tier only (its look-up), in ~20 s instead of ~1.5 min.
"""
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from lab_env import ROOT, free_port

FULL = os.environ.get("HA_WEB_TEST_SCOPE") == "full"
RECAP = re.compile(r"^lab\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", re.M)


class Foreign(BaseHTTPRequestHandler):
    """Another program's HTTP server: it only counts what it is sent."""

    def _any(self):
        self.server.seen.append((self.command, self.path))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args):
        pass


@pytest.fixture()
def foreign():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Foreign)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def make(env, target, *args, **extra):
    run_env = dict(env, **extra)
    done = subprocess.run(["make", "--no-print-directory", target] + list(args), cwd=ROOT, env=run_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=900, check=False)
    print("--- make %s %s: rc=%s\n%s" % (target, " ".join(args), done.returncode, done.stdout[-3000:]))
    return done


def vpcs(port):
    ec2 = boto3.client("ec2", endpoint_url="http://127.0.0.1:%d" % port, region_name="ap-northeast-2",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    return ec2.describe_vpcs(Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["Vpcs"]


def requests_logged(state, port):
    """The AWS requests (POST lines of werkzeug's log) that the cloud on `port` received so far."""
    with open(os.path.join(state, "moto-%d.log" % port)) as log:
        return sum(1 for line in log if '"POST / HTTP' in line)


def test_make_targets_use_the_cloud_they_started_and_never_the_program_on_the_default_port(foreign, tmp_path):
    state = str(tmp_path / "cloud")
    env = dict((k, v) for k, v in os.environ.items()
               if k not in ("AWS_ENDPOINT_URL", "HA_WEB_CLOUD_PORT", "AWS_PROFILE", "AWS_SESSION_TOKEN", "MAKEFLAGS", "MFLAGS"))
    env.update(HA_WEB_CLOUD_DIR=state, HA_WEB_CLOUD_DEFAULT_PORT=str(foreign.server_port), AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    outputs = "-e ha_web_outputs_dir=%s" % (tmp_path / "outputs")
    args = "ARGS=%s%s" % ("" if FULL else "--tags never ", outputs)
    teardown_args = "ARGS=%s%s" % ("" if FULL else "--tags asg ", outputs)
    default_url = "http://127.0.0.1:%d" % foreign.server_port

    # The default port is taken: one line says which variable to set, with a free port to set it to.
    run = make(env, "demo", args)
    assert run.returncode != 0
    hints = [line for line in run.stdout.splitlines() if line.startswith("cloud:")]
    assert len(hints) == 1, run.stdout
    hint = re.match(r"cloud: port %d on 127\.0\.0\.1 is taken by another program: set HA_WEB_CLOUD_PORT to a free port, "
                    r"e\.g\. HA_WEB_CLOUD_PORT=(\d+) make demo$" % foreign.server_port, hints[0])
    assert hint, hints[0]
    assert "PLAY [" not in run.stdout
    port = int(hint.group(1))

    # Nothing runs: status says so, and teardown refuses rather than talk to the default port.
    run = make(env, "cloud-status")
    assert run.returncode != 0 and "cloud: not running" in run.stdout
    run = make(env, "teardown", teardown_args)
    assert run.returncode != 0
    assert "cloud: the embedded cloud is not running at %s: start it with 'make cloud-up'" % default_url in run.stdout
    assert "PLAY [" not in run.stdout

    # The variable of the hint works, and the cloud's port is remembered.
    url = "http://127.0.0.1:%d" % port
    run = make(env, "demo", args, HA_WEB_CLOUD_PORT=str(port))
    assert run.returncode == 0, run.stdout[-4000:]
    assert "cloud: running at %s" % url in run.stdout
    assert int(RECAP.search(run.stdout).group(1)) > 0
    assert run.stdout.rstrip().splitlines()[-1] == (
        "The embedded cloud keeps running at %s (remembered): 'make teardown' removes the stack, 'make cloud-down' stops it." % url)
    with open(os.path.join(state, "port")) as remembered:
        assert remembered.read().strip() == str(port)
    assert os.path.exists(tmp_path / "outputs" / "lab.ap-northeast-2.json")
    assert requests_logged(state, port) > 0
    if FULL:
        assert len(vpcs(port)) == 1

    # Plain commands from now on: status, a second demo (a rerun), teardown, cloud-down.
    run = make(env, "cloud-status")
    assert run.returncode == 0 and "cloud: running at %s" % url in run.stdout

    before = requests_logged(state, port)
    run = make(env, "demo", args)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "cloud: already running at %s" % url in run.stdout
    assert int(RECAP.search(run.stdout).group(1)) == 0, run.stdout[-4000:]
    assert requests_logged(state, port) > before

    before = requests_logged(state, port)
    run = make(env, "teardown", teardown_args)
    assert run.returncode == 0, run.stdout[-4000:]
    assert requests_logged(state, port) > before
    assert not os.path.exists(tmp_path / "outputs" / "lab.ap-northeast-2.json")
    if FULL:
        assert int(RECAP.search(run.stdout).group(1)) > 0
        assert vpcs(port) == []

    run = make(env, "cloud-down")
    assert run.returncode == 0 and "cloud: stopped (was at %s)" % url in run.stdout
    assert not os.path.exists(os.path.join(state, "port"))
    run = make(env, "cloud-status")
    assert run.returncode != 0 and "cloud: not running" in run.stdout

    assert foreign.seen == []
