"""Sample app instances on loopback (roles/web_ami/files/ha_web_app.py, each with its own fake IMDS)
behind a round-robin proxy: what load_test.yml's URL override talks to. Traffic stays on 127.0.0.1."""
import contextlib
import json
import os
import subprocess
import time
import urllib.request

from iam_env import BIN, ROOT
from support.fake_imds import FakeIMDS
from support.round_robin import RoundRobin
from lab_env import free_port

APP = os.path.join(ROOT, "roles", "web_ami", "files", "ha_web_app.py")


def _status(url):
    with urllib.request.urlopen(url + "/api/status", timeout=2) as response:  # loopback only
        return json.loads(response.read().decode())


@contextlib.contextmanager
def web_apps(identities, log_dir):
    """Yields a RoundRobin over one app per (instance id, AZ)."""
    started = []
    try:
        for instance_id, zone in identities:
            imds = FakeIMDS(instance_id=instance_id, availability_zone=zone).start()
            port = free_port()
            log = open(os.path.join(log_dir, "app-%d.log" % port), "w")
            proc = subprocess.Popen([os.path.join(BIN, "python"), APP, "--port", str(port), "--bind", "127.0.0.1",
                                     "--imds-url", imds.url, "--load-seconds", "1"], stdout=log, stderr=subprocess.STDOUT)
            started.append((proc, imds, log))
            url = "http://127.0.0.1:%d" % port
            deadline = time.monotonic() + 15
            while True:
                try:
                    if _status(url)["instance_id"] == instance_id:
                        break
                except (OSError, ValueError, KeyError):
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("sample app on %s did not come up" % url)
                time.sleep(0.05)
        with RoundRobin(["http://127.0.0.1:%d" % int(p.args[p.args.index("--port") + 1]) for p, _imds, _log in started]) as rr:
            yield rr
    finally:
        for proc, imds, log in started:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            imds.stop()
            log.close()
