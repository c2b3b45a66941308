# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ami_wait module with stubbed DescribeImages answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.immersionday.ha_web.plugins.modules import ami_wait
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock

AMI = "ami-0123456789abcdef0"
BY_ID = {"ImageIds": [AMI]}


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def ec2(monkeypatch, stubbed_client):
    client, stubber = stubbed_client("ec2")
    monkeypatch.setattr(ami_wait, "aws_client", lambda module, service: client)
    return stubber


def image(state, **extra):
    result = {"ImageId": AMI, "Name": "Web Server v1", "State": state, "Tags": [{"Key": "ha_web:stack", "Value": "lab"}]}
    result.update(extra)
    return result


def run(capsys, args, sleeps=None):
    clock = FakeClock([] if sleeps is None else sleeps)
    with patch_module_args(dict(dict(region="ap-northeast-2"), **args)):
        with pytest.raises(SystemExit):
            ami_wait.main(sleep=clock.sleep, clock=clock.clock)
    return json.loads(capsys.readouterr().out)


def test_pending_then_available(ec2, capsys):
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    ec2.add_response("describe_images", {"Images": [image("available")]}, BY_ID)
    sleeps = []
    result = run(capsys, {"image_id": AMI, "poll_interval": 7}, sleeps)
    assert result["changed"] is False
    assert result["image_id"] == AMI and result["state"] == "available"
    assert result["image"] == {"image_id": AMI, "name": "Web Server v1", "state": "available", "tags": {"ha_web:stack": "lab"}}
    assert sleeps == [7]


def test_pending_then_failed(ec2, capsys):
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    ec2.add_response("describe_images", {"Images": [image("failed", StateReason={"Code": "Client.InternalError", "Message": "boom"})]}, BY_ID)
    result = run(capsys, {"image_id": AMI})
    assert result["failed"] is True
    assert result["msg"] == "Image %s (Web Server v1) is failed: Client.InternalError: boom" % AMI
    assert result["state"] == "failed"
    assert result["image"]["state_reason"] == {"code": "Client.InternalError", "message": "boom"}


def test_not_found_then_available_by_name(ec2, capsys):
    by_name = {"Owners": ["self"], "Filters": [{"Name": "name", "Values": ["Web Server v1"]}]}
    ec2.add_response("describe_images", {"Images": []}, by_name)
    ec2.add_response("describe_images", {"Images": [image("available")]}, by_name)
    result = run(capsys, {"name": "Web Server v1"})
    assert result["state"] == "available" and result["image_id"] == AMI


def test_throttled_then_available(ec2, capsys):
    ec2.add_client_error("describe_images", "Throttling", "Rate exceeded", expected_params=BY_ID)
    ec2.add_response("describe_images", {"Images": [image("available")]}, BY_ID)
    sleeps = []
    result = run(capsys, {"image_id": AMI}, sleeps)
    assert result["state"] == "available"
    assert sleeps == []  # the retry happened in the client, not as a poll


def test_timeout(ec2, capsys):
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    sleeps = []
    result = run(capsys, {"image_id": AMI, "wait_timeout": 10, "poll_interval": 5}, sleeps)
    assert sleeps == [5, 5]
    assert result["failed"] is True
    assert result["msg"] == ("Timed out after 10 s waiting for image %s (Web Server v1) to become available: it is still pending "
                             "(AWS gave no state reason)" % AMI)
    assert result["state"] == "pending"


def test_short_runs_for_progress_return_what_they_saw_without_failing(ec2, capsys):
    """fail_on_timeout=false: the run a role repeats with until (a line of progress each time)."""
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    sleeps = []
    result = run(capsys, {"image_id": AMI, "wait_timeout": 10, "poll_interval": 10, "fail_on_timeout": False}, sleeps)
    assert sleeps == [10]
    assert "failed" not in result and result["changed"] is False
    assert result["state"] == "pending" and result["image_id"] == AMI
    assert result["msg"] == "image %s (Web Server v1) is pending (AWS gave no state reason)" % AMI


def test_short_runs_while_not_visible_yet(ec2, capsys):
    ec2.add_client_error("describe_images", "InvalidAMIID.NotFound", "nope", expected_params=BY_ID)
    result = run(capsys, {"image_id": AMI, "wait_timeout": 0, "fail_on_timeout": False})
    assert "failed" not in result and result["state"] == "absent"
    assert result["msg"] == "image %s is not visible yet" % AMI


def test_short_runs_still_fail_on_a_failed_image(ec2, capsys):
    ec2.add_response("describe_images", {"Images": [image("failed", StateReason={"Code": "Client.InternalError", "Message": "boom"})]},
                     BY_ID)
    result = run(capsys, {"image_id": AMI, "wait_timeout": 10, "fail_on_timeout": False})
    assert result["failed"] is True and result["state"] == "failed"
    assert result["msg"] == "Image %s (Web Server v1) is failed: Client.InternalError: boom" % AMI


def test_check_mode_reads_once_without_waiting(ec2, capsys):
    ec2.add_response("describe_images", {"Images": [image("pending")]}, BY_ID)
    sleeps = []
    result = run(capsys, {"image_id": AMI, "_ansible_check_mode": True}, sleeps)
    assert result["changed"] is False and result["state"] == "pending"
    assert sleeps == []


def test_check_mode_not_found(ec2, capsys):
    ec2.add_client_error("describe_images", "InvalidAMIID.NotFound", "nope", expected_params=BY_ID)
    result = run(capsys, {"image_id": AMI, "_ansible_check_mode": True})
    assert result["state"] == "absent" and result["image_id"] is None and result["image"] == {}


def test_no_wait_still_fails_on_failed_state(ec2, capsys):
    ec2.add_response("describe_images", {"Images": [image("error")]}, BY_ID)
    result = run(capsys, {"image_id": AMI, "wait": False})
    assert result["failed"] is True
    assert result["msg"] == "Image %s (Web Server v1) is error (AWS gave no state reason)" % AMI


def test_id_and_name_are_exclusive(capsys):
    result = run(capsys, {"image_id": AMI, "name": "x"})
    assert result["failed"] is True
    assert result["msg"] == "parameters are mutually exclusive: image_id|name"
