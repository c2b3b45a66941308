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
