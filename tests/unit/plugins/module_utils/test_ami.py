# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/ami.py: waiting for an AMI with stubbed AWS answers (real AWS behaviour:
pending, failed, not yet visible, throttled), and the image facts by exact values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import ami as im
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock

REGION = "ap-northeast-2"
AMI = "ami-0123456789abcdef0"


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def stubbed(stubbed_client):
    return stubbed_client("ec2")


def image(state, **extra):
    result = {"ImageId": AMI, "Name": "Web Server v1", "State": state, "CreationDate": "2026-11-28T04:00:00.000Z"}
    result.update(extra)
    return result


def by_id():
    return {"ImageIds": [AMI]}


# ------------------------------------------------------------------------- wait_for_image

def test_pending_then_available(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("available")]}, by_id())
    clock = FakeClock()
    result = im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert result["State"] == "available"
    assert clock.sleeps == [15, 15]


def test_pending_then_failed_carries_state_reason(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    failed = image("failed", StateReason={"Code": "Client.InternalError", "Message": "Client error on launch"})
    stubber.add_response("describe_images", {"Images": [failed]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitFailed) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Image %s (Web Server v1) is failed: Client.InternalError: Client error on launch" % AMI
    assert e.value.last["State"] == "failed"


@pytest.mark.parametrize("state", ["invalid", "error", "deregistered"])
def test_other_failed_states_stop_at_once(stubbed, state):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image(state)]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitFailed) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Image %s (Web Server v1) is %s (AWS gave no state reason)" % (AMI, state)
    assert clock.sleeps == []


def test_not_found_then_available(stubbed):
    """Eventual consistency right after CreateImage: NotFound, then an empty answer, then the image."""
    ec2, stubber = stubbed
    stubber.add_client_error("describe_images", "InvalidAMIID.NotFound", "The image id '[%s]' does not exist" % AMI,
                             expected_params=by_id())
    stubber.add_response("describe_images", {"Images": []}, by_id())
    stubber.add_response("describe_images", {"Images": [image("available")]}, by_id())
    clock = FakeClock()
    result = im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert result["ImageId"] == AMI
    assert clock.sleeps == [15, 15]


def test_throttled_then_available_is_not_success_on_error(stubbed, no_backoff_sleep):
    """A throttled call is retried by the client (backoff), never taken as 'available'."""
    ec2, stubber = stubbed
    stubber.add_client_error("describe_images", "RequestLimitExceeded", "Request limit exceeded.", expected_params=by_id())
    stubber.add_client_error("describe_images", "Throttling", "Rate exceeded", expected_params=by_id())
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("available")]}, by_id())
    clock = FakeClock()
    result = im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert result["State"] == "available"
    assert len(no_backoff_sleep) == 2  # two backoffs
    assert clock.sleeps == [15]  # one poll interval, after the pending answer


def test_timeout_while_pending(stubbed):
    ec2, stubber = stubbed
    for _attempt in range(3):
        stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=30, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == ("Timed out after 30 s waiting for image %s (Web Server v1) to become available: it is still pending "
                            "(AWS gave no state reason)" % AMI)
    assert clock.sleeps == [15, 15]


def test_timeout_names_the_last_state_and_its_reason(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("pending", StateReason={"Code": "Client.Slow",
                                                                                      "Message": "snapshot 40% done"})]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=15, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == ("Timed out after 15 s waiting for image %s (Web Server v1) to become available: it is still pending "
                            "(state reason Client.Slow: snapshot 40%% done)" % AMI)
    assert e.value.last["StateReason"]["Code"] == "Client.Slow"


def test_image_status_in_words():
    assert im.image_status(None, image_id=AMI) == "image %s is not visible yet" % AMI
    assert im.image_status(None, name="Web Server v1") == "image named 'Web Server v1' is not visible yet"
    assert im.image_status(image("pending")) == "image %s (Web Server v1) is pending (AWS gave no state reason)" % AMI
    assert im.image_status(image("failed", StateReason={"Code": "Client.InternalError", "Message": "boom"})) == (
        "image %s (Web Server v1) is failed (state reason Client.InternalError: boom)" % AMI)


def test_timeout_never_found_by_name(stubbed):
    ec2, stubber = stubbed
    params = {"Owners": ["self"], "Filters": [{"Name": "name", "Values": ["Web Server v9"]}]}
    stubber.add_response("describe_images", {"Images": []}, params)
    stubber.add_response("describe_images", {"Images": []}, params)
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as e:
        im.wait_for_image(ec2, name="Web Server v9", timeout=10, interval=10, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Timed out after 10 s waiting for image named 'Web Server v9': it was never found"


def test_other_errors_propagate(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("describe_images", "UnauthorizedOperation", "no", expected_params=by_id())
    with pytest.raises(Exception) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=10, interval=10, sleep=FakeClock().sleep)
    assert "UnauthorizedOperation" in str(e.value)


def test_get_image_by_name_takes_newest(stubbed):
    ec2, stubber = stubbed
    older = image("available", ImageId="ami-old", CreationDate="2026-01-01T00:00:00.000Z")
    newer = image("available", ImageId="ami-new", CreationDate="2026-02-01T00:00:00.000Z")
    stubber.add_response("describe_images", {"Images": [newer, older]},
                         {"Owners": ["self"], "Filters": [{"Name": "name", "Values": ["Web Server v1"]}]})
    assert im.get_image(ec2, name="Web Server v1")["ImageId"] == "ami-new"


def test_by_name_an_image_of_another_stack_is_never_the_one(stubbed):
    ec2, stubber = stubbed
    ours = image("pending", ImageId="ami-ours", CreationDate="2026-01-01T00:00:00.000Z")  # not tagged yet: a new image
    theirs = image("available", ImageId="ami-theirs", CreationDate="2026-02-01T00:00:00.000Z",
                   Tags=[{"Key": "ha_web:stack", "Value": "lab2"}])
    look_alike = image("available", ImageId="ami-look", Name="Web Server v1x", CreationDate="2026-03-01T00:00:00.000Z")
    query = {"Owners": ["self"], "Filters": [{"Name": "name", "Values": ["Web Server v1"]}]}
    stubber.add_response("describe_images", {"Images": [ours, theirs, look_alike]}, query)
    assert im.get_image(ec2, name="Web Server v1", stack_name="lab")["ImageId"] == "ami-ours"
    stubber.add_response("describe_images", {"Images": [theirs]}, query)
    assert im.get_image(ec2, name="Web Server v1", stack_name="lab") is None


# ------------------------------------------------------------------------- image facts

def test_image_facts_snake_case_and_tags():
    facts = im.image_facts(image("available", Tags=[{"Key": "ha_web:stack", "Value": "lab"}], RootDeviceName="/dev/xvda"))
    assert facts == {"image_id": AMI, "name": "Web Server v1", "state": "available", "creation_date": "2026-11-28T04:00:00.000Z",
                     "root_device_name": "/dev/xvda", "tags": {"ha_web:stack": "lab"}}
    assert im.image_facts(None) == {}
