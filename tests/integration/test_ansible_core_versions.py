"""meta/runtime.yml's requires_ansible is true at both ends that install here.

The newest ansible-core it admits is the one in .venv (requirements-test.txt takes the newest 2.19, the
last series that runs on Python 3.11): the lifecycle tests run on it. This test builds a second
virtual environment with the OLDEST release it admits and runs the lab there on a private embedded
cloud: deploy, rerun with changed=0, teardown, and the independent check both ways.
"""
import os
import re
import subprocess
import sys

import yaml

from lab_env import BIN, ROOT, Run, check_lab

CACHE = os.path.join(ROOT, ".cloud", "venvs")


def oldest_admitted():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        claim = yaml.safe_load(handle)["requires_ansible"]
    match = re.match(r"^>=(\d+\.\d+)\.(\d+)$", claim.split(",")[0].strip())
    assert match, "requires_ansible %r: expected a lower bound >=X.Y.Z" % claim
    return "%s.%s" % match.groups()


def core_venv(version):
    """A venv with ansible-core==version and the collection's runtime requirements (cached)."""
    path = os.path.join(CACHE, "ansible-core-" + version)
    python = os.path.join(path, "bin", "python")
    stamp = os.path.join(path, ".ready")
    if not os.path.exists(stamp):
        subprocess.run([sys.executable, "-m", "venv", "--clear", path], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "ansible-core==" + version, "boto3>=1.40,<2", "botocore>=1.40,<2"], check=True)
        open(stamp, "w").close()
    return path


def run_with(venv, cloud, name, *args):
    env = cloud.env()
    completed = subprocess.run([os.path.join(venv, "bin", "ansible-playbook"), "-i", "inventories/local", "playbooks/" + name]
                               + list(args), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, check=False)
    run = Run(completed, 0.0)
    sys.stdout.write("\n--- %s %s: rc=%s %s\n" % (os.path.basename(venv), name, run.rc, run.recap))
    return run


def test_the_newest_admitted_release_is_the_one_the_suite_runs_on():
    version = subprocess.run([os.path.join(BIN, "python"), "-c", "import ansible; print(ansible.__version__)"],
                             stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    assert version.startswith("2.19."), version


def test_the_oldest_admitted_release_deploys_reruns_and_tears_down(cloud):
    venv = core_venv(oldest_admitted())
    deploy = run_with(venv, cloud, "site.yml")
    assert deploy.rc == 0, deploy.output[-4000:]
    assert deploy.changed() > 0
    look = check_lab(cloud, "present")
    assert look.returncode == 0, look.stdout
    rerun = run_with(venv, cloud, "site.yml")
    assert rerun.rc == 0 and rerun.changed() == 0, rerun.output[-4000:]
    teardown = run_with(venv, cloud, "teardown.yml")
    assert teardown.rc == 0 and teardown.changed() > 0, teardown.output[-4000:]
    look = check_lab(cloud, "absent")
    assert look.returncode == 0, look.stdout
