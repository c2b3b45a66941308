"""No secret in any output: a sentinel secret access key is planted (the plain embedded cloud accepts
any key), the whole lab is deployed with -vvv, and neither the run's log nor anything written to
the outputs directory holds the sentinel or a recognisable piece of it."""
import os
import secrets

import pytest

from iam_env import ROOT, run_playbook
from lab_env import Cloud

SENTINEL = "HaWebSentinel" + secrets.token_hex(14)  # 41 characters, like a secret access key
FRAGMENTS = (SENTINEL, SENTINEL[:16], SENTINEL[-16:])


@pytest.fixture(scope="module")
def verbose_run(tmp_path_factory):
    os.makedirs(os.path.join(ROOT, ".cloud"), exist_ok=True)
    cloud = Cloud()
    outputs = str(tmp_path_factory.mktemp("secret"))
    try:
        env = cloud.env(AWS_ACCESS_KEY_ID="AKIAHAWEBSENTINEL000", AWS_SECRET_ACCESS_KEY=SENTINEL)
        run = run_playbook("site.yml", env, "-vvv", "-e", "ha_web_outputs_dir=" + outputs)
        yield run, outputs
    finally:
        cloud.stop()


def test_verbose_deploy_succeeds_with_the_sentinel_key(verbose_run):
    run, _outputs = verbose_run
    assert run.rc == 0, run.output[-4000:]
    assert run.changed("lab") > 0
    # -vvv really shows module arguments: the credentials are among them, masked
    assert "secret_key" in run.output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output
    # ... and they are the planted ones (the key id is not secret: Ansible shows it)
    assert "AKIAHAWEBSENTINEL000" in run.output


def test_sentinel_not_in_the_log(verbose_run):
    run, _outputs = verbose_run
    for fragment in FRAGMENTS:
        assert fragment not in run.output, "the secret key (or a piece of it) is in the -vvv log"


def test_sentinel_not_in_the_outputs(verbose_run):
    _run, outputs = verbose_run
    written = []
    for folder, _dirs, files in os.walk(outputs):
        for name in files:
            path = os.path.join(folder, name)
            written.append(name)
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            for fragment in FRAGMENTS:
                assert fragment not in text, path
    assert "lab.json" in written
