from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import names
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock


def test_poll_returns_the_first_done_result():
    clock = FakeClock()
    states = iter(["pending", "pending", "available"])
    result = stack.poll(lambda: next(states), lambda s: s == "available", timeout=60, interval=5, sleep=clock.sleep, clock=clock.time)
    assert result == "available"
    assert clock.sleeps == [5, 5]


def test_poll_stops_on_failure_with_the_reason():
    clock = FakeClock()
    states = iter(["pending", "failed"])
    with pytest.raises(stack.WaitFailed) as error:
        stack.poll(lambda: next(states), lambda s: s == "available", timeout=60, interval=5,
                   failed=lambda s: "image failed" if s == "failed" else None, sleep=clock.sleep, clock=clock.time)
    assert str(error.value) == "image failed"
    assert error.value.last == "failed"


def test_poll_times_out_without_sleeping_past_the_deadline():
    clock = FakeClock()
    with pytest.raises(stack.WaitTimeout) as error:
        stack.poll(lambda: "pending", lambda s: False, timeout=12, interval=5, sleep=clock.sleep, clock=clock.time)
    assert clock.sleeps == [5, 5, 2]
    assert error.value.last == "pending"


def test_names_and_tags():
    assert names.scoped_name("VPC-Lab", "lab") == "VPC-Lab"
    assert names.scoped_name("VPC-Lab", "blue") == "blue-VPC-Lab"
    assert stack.stack_filter("blue") == {"Name": "tag:ha_web:stack", "Values": ["blue"]}


def test_retry_decorator_retries_throttling():
    from botocore.exceptions import ClientError

    calls = []

    def throttled_then_ok():
        calls.append(1)
        if len(calls) < 3:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeVpcs")
        return "ok"

    from unittest import mock
    with mock.patch("time.sleep"):
        assert stack.retry_decorator()(throttled_then_ok)() == "ok"
    assert len(calls) == 3


def aws_error(code):
    from botocore.exceptions import ClientError
    return ClientError({"Error": {"Code": code, "Message": code}}, "DeleteSecurityGroup")


def test_error_code_of_anything_else_is_none():
    assert stack.error_code(aws_error("Throttling")) == "Throttling"
    assert stack.error_code(ValueError("not from AWS")) is None


# --- the exact stack tag

BLUE = [{"Key": "Name", "Value": "blue-VPC-Lab"}, {"Key": "ha_web:stack", "Value": "blue"}, {"Key": "ha_web:component", "Value": "vpc"}]


@pytest.mark.parametrize("name", ["bl*", "blu?", "*", "?", "b*", "BLUE", "Blue", "blue ", " blue", "blue\n", "blu", "blue2", "", None])
def test_a_resource_of_blue_is_not_of_a_look_alike_stack(name):
    assert stack.carries_stack(BLUE, name) is False
    assert stack.carries_stack({"ha_web:stack": "blue"}, name) is False
    assert stack.of_stack([{"Tags": BLUE}], name) == []


def test_a_resource_of_the_stack_is_kept_in_every_tag_shape():
    assert stack.carries_stack(BLUE, "blue") and stack.carries_stack({"ha_web:stack": "blue"}, "blue")
    asg_tags = [dict(tag, ResourceId="Web-ASG", ResourceType="auto-scaling-group", PropagateAtLaunch=True) for tag in BLUE]
    assert stack.carries_stack(asg_tags, "blue", "vpc")
    assert stack.carries_stack([{"Key": "ha_web:stack", "Value": "bl*"}], "bl*")  # a name compares as text, never as a pattern


def test_the_component_is_compared_exactly_too():
    assert stack.carries_stack(BLUE, "blue", "vpc")
    assert not stack.carries_stack(BLUE, "blue", "vp?")
    assert not stack.carries_stack(BLUE, "blue", "alb")
    assert not stack.carries_stack([{"Key": "ha_web:stack", "Value": "blue"}], "blue", "vpc")


def test_untagged_resources_are_no_ones():
    assert not stack.carries_stack([], "blue") and not stack.carries_stack(None, "blue")
    assert stack.of_stack([{"GroupName": "Web-ASG"}, {"Tags": []}, {"Tags": BLUE}], "blue") == [{"Tags": BLUE}]


def test_of_stack_reads_the_tags_under_another_key():
    assert stack.of_stack([{"TagSet": BLUE}, {"TagSet": []}], "blue", key="TagSet") == [{"TagSet": BLUE}]
