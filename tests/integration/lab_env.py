"""Helpers for end-to-end runs against a private embedded cloud (moto server on loopback)."""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".venv", "bin")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cloud:
    """A moto server of this test session's own."""

    def __init__(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(ROOT, ".cloud", "test-moto-%d.log" % self.port), "w")
        self.process = subprocess.Popen([os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=1).read(1)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("moto server did not start on %s" % self.url)
                time.sleep(0.1)

    def env(self, **extra):
        env = dict(os.environ, AWS_ENDPOINT_URL=self.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="ap-northeast-2", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        env.pop("AWS_PROFILE", None)
        env.update(extra)
        return env

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


class Run:
    def __init__(self, completed, seconds):
        self.rc = completed.returncode
        self.output = completed.stdout
        self.seconds = seconds
        self.recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(5))}
                      for m in RECAP.finditer(completed.stdout)}

    def changed(self, host="lab"):
        return self.recap[host]["changed"]


def playbook(cloud, name, *args, **env):
    started = time.monotonic()
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "inventories/local", "playbooks/" + name] + list(args),
                               cwd=ROOT, env=cloud.env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    run = Run(completed, time.monotonic() - started)
    sys.stdout.write("\n--- %s %s: rc=%s in %.1fs %s\n" % (name, " ".join(args), run.rc, run.seconds, run.recap))
    return run


def check_lab(cloud, *args):
    return subprocess.run([os.path.join(BIN, "python"), os.path.join(ROOT, "tests", "integration", "check_lab.py")] + list(args),
                          cwd=ROOT, env=cloud.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
