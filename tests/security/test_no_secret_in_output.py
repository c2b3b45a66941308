"""No secret in any output: a sentinel secret access key is planted (the plain embedded cloud accepts
any key), the whole lab is deployed with -vvv, then torn down with -vvv, and neither the runs' logs
nor anything written to the outputs directory holds the sentinel or a recognisable piece of it.

Before the teardown the stack's launch template gets a second version (what an update run leaves):
with several versions, amazon.aws.ec2_launch_template deletes the non-default ones
(DeleteLaunchTemplateVersions, which moto answers from 5.2.6 on) before the template, so that call
runs with the sentinel key too."""
import os
import secrets

import boto3
import pytest

from iam_env import REGION, ROOT, run_playbook
from lab_env import Cloud

SENTINEL = "HaWebSentinel" + secrets.token_hex(14)  # 41 characters, like a secret access key
FRAGMENTS = (SENTINEL, SENTINEL[:16], SENTINEL[-16:])
KEY_ID = "AKIAHAWEBSENTINEL000"
TEMPLATE_DELETION = "TASK [immersionday.ha_web.asg : Delete the launch template]"


@pytest.fixture(scope="module")
def sentinel_cloud(tmp_path_factory):
    os.makedirs(os.path.join(ROOT, ".cloud"), exist_ok=True)
    cloud = Cloud()
    try:
        yield {"cloud": cloud, "env": cloud.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SENTINEL),
               "outputs": str(tmp_path_factory.mktemp("secret"))}
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def verbose_run(sentinel_cloud):
    run = run_playbook("site.yml", sentinel_cloud["env"], "-vvv", "-e", "ha_web_outputs_dir=" + sentinel_cloud["outputs"])
    return run, sentinel_cloud["outputs"]


@pytest.fixture(scope="module")
def verbose_teardown(sentinel_cloud, verbose_run):
    assert verbose_run[0].rc == 0
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=sentinel_cloud["cloud"].url,
                       aws_access_key_id=KEY_ID, aws_secret_access_key=SENTINEL)
    templates = ec2.describe_launch_templates(Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["LaunchTemplates"]
    assert len(templates) == 1, templates
    template_id = templates[0]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=template_id, SourceVersion="1",
                                       LaunchTemplateData={}, VersionDescription="as an update run leaves it")
    run = run_playbook("teardown.yml", sentinel_cloud["env"], "-vvv", "-e", "ha_web_outputs_dir=" + sentinel_cloud["outputs"])
    left = ec2.describe_launch_templates(Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["LaunchTemplates"]
    return run, template_id, left


def leaked(text):
    return [fragment for fragment in FRAGMENTS if fragment in text]


def test_verbose_deploy_succeeds_with_the_sentinel_key(verbose_run):
    run, _outputs = verbose_run
    assert run.rc == 0, run.output[-4000:]
    assert run.changed("lab") > 0
    # -vvv really shows module arguments: the credentials are among them, masked
    assert "secret_key" in run.output
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output
    # ... and they are the planted ones (the key id is not secret: Ansible shows it)
    assert KEY_ID in run.output


def test_sentinel_not_in_the_log(verbose_run):
    run, _outputs = verbose_run
    assert leaked(run.output) == [], "the secret key (or a piece of it) is in the -vvv log of the deploy"


def test_sentinel_not_in_the_outputs(verbose_run):
    _run, outputs = verbose_run
    written = []
    for folder, _dirs, files in os.walk(outputs):
        for name in files:
            path = os.path.join(folder, name)
            written.append(name)
            with open(path, encoding="utf-8", errors="replace") as handle:
                assert leaked(handle.read()) == [], path
    assert "lab.ap-northeast-2.json" in written


def test_verbose_teardown_deletes_the_template_of_two_versions(verbose_teardown):
    run, template_id, left = verbose_teardown
    assert run.rc == 0, run.output[-4000:]
    assert run.changed("lab") > 0
    after = run.output.split(TEMPLATE_DELETION, 1)
    assert len(after) == 2, run.output[-4000:]
    deletion = after[1].split("TASK [", 1)[0]
    # -vvv prints the result as YAML: version 2 deleted first, then the template itself
    assert deletion.count("changed: [lab]") == 1, deletion
    assert "version_number: 2" in deletion and "launch_template_id: " + template_id in deletion, deletion
    assert left == []


def test_sentinel_not_in_the_teardown_log(verbose_teardown):
    run, _template_id, _left = verbose_teardown
    assert leaked(run.output) == [], "the secret key (or a piece of it) is in the -vvv log of the teardown"
