# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web_image module: exact API calls on the no-op, check-mode and absent paths (Stubber),
and its failures. The bake itself runs on moto in test_image.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from botocore.stub import Stubber

from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import image as im
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.plugins.modules import web_image

AMI = "ami-0123456789abcdef0"
BASE = "ami-0870825cefcaafcc8"
SSM_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
IMAGE_FILTERS = {"Owners": ["self"], "Filters": [{"Name": "tag:ha_web:stack", "Values": ["lab"]},
                                                 {"Name": "tag:ha_web:component", "Values": ["image"]}]}


def builder_filters(component, live=False):
    filters = [{"Name": "tag:ha_web:stack", "Values": ["lab"]}, {"Name": "tag:ha_web:component", "Values": [component]}]
    if live:
        filters.insert(0, {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]})
    return {"Filters": filters}


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    from ansible_collections.amazon.aws.plugins.module_utils import cloud
    monkeypatch.setattr(cloud.time, "sleep", lambda seconds: None)


@pytest.fixture
def stubs(monkeypatch):
    clients = {}
    stubbers = {}
    for service in ("ec2", "ssm"):
        client = boto3.client(service, region_name="ap-northeast-2", aws_access_key_id="k", aws_secret_access_key="s")
        stubbers[service] = Stubber(client)
        stubbers[service].activate()
        clients[service] = RetryingBotoClientWrapper(client, retry_decorator())
    monkeypatch.setattr(web_image, "aws_client", lambda module, service: clients[service])
    yield stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def run(capsys, **args):
    sleeps = []
    with patch_module_args(dict(region="ap-northeast-2", stack_name="lab", user_data="#!/bin/bash", app_fingerprint="app", **args)):
        with pytest.raises(SystemExit):
            web_image.main(sleep=sleeps.append, clock=lambda: 0)
    return json.loads(capsys.readouterr().out)


def baked_image(fingerprint, snapshots_tagged=True):
    tags = {"ha_web:stack": "lab", "ha_web:component": "image", "Name": "Web Server v1", "ha_web:version": "1",
            "ha_web:fingerprint": fingerprint, "ha_web:base-image": BASE}
    if snapshots_tagged:
        tags["ha_web:snapshots-tagged"] = "true"
    return {"ImageId": AMI, "Name": "Web Server v1", "State": "available", "CreationDate": "2026-11-28T04:00:00.000Z",
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-1"}}],
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}


def expected_fingerprint():
    return im.fingerprint("app", "#!/bin/bash", BASE, None, True, http_put_response_hop_limit=1)


def test_noop_is_three_describe_calls(stubs, capsys):
    fingerprint = expected_fingerprint()
    stubs["ec2"].add_response("describe_images", {"Images": [baked_image(fingerprint)]}, IMAGE_FILTERS)
    stubs["ec2"].add_response("describe_instances", {"Reservations": []}, builder_filters("builder", live=True))
    stubs["ec2"].add_response("describe_security_groups", {"SecurityGroups": []}, builder_filters("builder-sg"))
    result = run(capsys, probe=False)
    assert result["changed"] is False
    assert result["image"] == {"image_id": AMI, "name": "Web Server v1", "fingerprint": fingerprint, "state": "available"}
    assert result["base_image"] == {"image_id": BASE, "source": "pinned"}
    assert result["builder"]["state"] == "absent"
    assert result["probe"]["status"] == "not-run"
    assert "diff" not in result


def test_pending_image_is_returned_without_cleanup(stubs, capsys):
    pending = baked_image(expected_fingerprint(), snapshots_tagged=False)
    pending["State"] = "pending"
    stubs["ec2"].add_response("describe_images", {"Images": [pending]}, IMAGE_FILTERS)
    result = run(capsys)
    assert result["changed"] is False
    assert result["image"]["state"] == "pending"
    assert result["builder"]["state"] == "kept"


def test_check_mode_first_bake_reads_only(stubs, capsys):
    stubs["ec2"].add_response("describe_images", {"Images": []}, IMAGE_FILTERS)
    stubs["ssm"].add_response("get_parameter", {"Parameter": {"Name": SSM_PARAMETER, "Value": BASE}}, {"Name": SSM_PARAMETER})
    result = run(capsys, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert result["image"] == {"image_id": None, "name": "Web Server v1", "fingerprint": expected_fingerprint(), "state": "absent"}
    assert result["builder"] == {"state": "would be launched"}
    assert result["diff"] == {"before": {"image": None}, "after": {"image": result["image"]}}


def test_track_latest_base_gives_a_new_fingerprint(stubs, capsys):
    stubs["ec2"].add_response("describe_images", {"Images": [baked_image(expected_fingerprint())]}, IMAGE_FILTERS)
    stubs["ssm"].add_response("get_parameter", {"Parameter": {"Name": SSM_PARAMETER, "Value": "ami-newer"}}, {"Name": SSM_PARAMETER})
    result = run(capsys, track_latest_base=True, _ansible_check_mode=True)
    assert result["changed"] is True
    assert result["image"]["name"] == "Web Server v2"
    assert result["base_image"] == {"image_id": "ami-newer", "source": "ssm"}


SNAPSHOT_TAGS = {"Filters": [{"Name": "resource-type", "Values": ["snapshot"]}, {"Name": "key", "Values": ["ha_web:stack"]},
                             {"Name": "value", "Values": ["lab"]}]}


def snapshot_tag(snapshot_id):
    return {"ResourceId": snapshot_id, "ResourceType": "snapshot", "Key": "ha_web:stack", "Value": "lab"}


def test_absent_noop(stubs, capsys):
    stubs["ec2"].add_response("describe_images", {"Images": []}, IMAGE_FILTERS)
    stubs["ec2"].add_response("describe_tags", {"Tags": []}, SNAPSHOT_TAGS)
    stubs["ec2"].add_response("describe_instances", {"Reservations": []}, builder_filters("builder", live=True))
    stubs["ec2"].add_response("describe_security_groups", {"SecurityGroups": []}, builder_filters("builder-sg"))
    result = run(capsys, state="absent")
    assert result["changed"] is False
    assert result["removed_image_ids"] == [] and result["deleted_snapshot_ids"] == []


def test_absent_check_mode_deletes_nothing(stubs, capsys):
    stubs["ec2"].add_response("describe_images", {"Images": [baked_image("x")]}, IMAGE_FILTERS)
    # snap-1 belongs to the image; snap-0 is an orphan (its image was deregistered by an interrupted run).
    stubs["ec2"].add_response("describe_tags", {"Tags": [snapshot_tag("snap-1"), snapshot_tag("snap-0")]}, SNAPSHOT_TAGS)
    stubs["ec2"].add_response("describe_snapshots", {"Snapshots": [{"SnapshotId": "snap-0"}]},
                              {"OwnerIds": ["self"], "Filters": [{"Name": "snapshot-id", "Values": ["snap-0"]}] + builder_filters("image")["Filters"]})
    stubs["ec2"].add_response("describe_instances", {"Reservations": []}, builder_filters("builder", live=True))
    stubs["ec2"].add_response("describe_security_groups", {"SecurityGroups": [{"GroupId": "sg-1"}]}, builder_filters("builder-sg"))
    result = run(capsys, state="absent", _ansible_check_mode=True)
    assert result["changed"] is True
    assert result["removed_image_ids"] == [AMI]
    assert result["deleted_snapshot_ids"] == ["snap-1", "snap-0"]
    assert result["builder"]["deleted_security_group_ids"] == ["sg-1"]


def test_bake_without_network_fails_clearly(stubs, capsys):
    stubs["ec2"].add_response("describe_images", {"Images": []}, IMAGE_FILTERS)
    stubs["ssm"].add_response("get_parameter", {"Parameter": {"Name": SSM_PARAMETER, "Value": BASE}}, {"Name": SSM_PARAMETER})
    stubs["ec2"].add_response("describe_images", {"Images": [{"ImageId": BASE, "RootDeviceName": "/dev/xvda", "State": "available"}]},
                              {"ImageIds": [BASE]})
    stubs["ec2"].add_response("describe_subnets", {"Subnets": []}, builder_filters("public-subnet-a"))
    result = run(capsys)
    assert result["failed"] is True
    assert result["msg"] == ("No subnet tagged ha_web:stack=lab, ha_web:component=public-subnet-a: "
                             "deploy the network first, or pass subnet_id and vpc_id")


def test_aws_error_is_reported(stubs, capsys):
    stubs["ec2"].add_client_error("describe_images", "UnauthorizedOperation", "You are not authorized", expected_params=IMAGE_FILTERS)
    result = run(capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to reconcile the image of stack lab: An error occurred (UnauthorizedOperation)")
