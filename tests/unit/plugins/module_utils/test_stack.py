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
    assert stack.stack_tags("blue", name="x", extra={"Owner": "me"}) == {"Owner": "me", "ha_web:stack": "blue", "Name": "x"}
    assert stack.stack_filter("blue") == {"Name": "tag:ha_web:stack", "Values": ["blue"]}
    assert stack.tag_specifications("vpc", {"a": "b"}) == [{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}]


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


def calls_answering(*answers):
    """A call that raises or returns each answer in turn, counting how often it ran."""
    remaining = list(answers)
    calls = []

    def call():
        calls.append(1)
        answer = remaining.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
    return call, calls


def test_call_until_accepted_polls_while_the_resource_is_in_use():
    clock = FakeClock()
    call, calls = calls_answering(aws_error("DependencyViolation"), aws_error("DependencyViolation"), {})
    stack.call_until_accepted(call, ("DependencyViolation",), 60, 5, "deleting sg-1", sleep=clock.sleep, clock=clock.time)
    assert len(calls) == 3
    assert clock.sleeps == [5, 5]


def test_call_until_accepted_counts_a_done_code_as_done():
    call, calls = calls_answering(aws_error("InvalidGroup.NotFound"))
    stack.call_until_accepted(call, ("DependencyViolation",), 60, 5, "deleting sg-1", done_codes=("InvalidGroup.NotFound",))
    assert len(calls) == 1


def test_call_until_accepted_raises_any_other_error_at_once():
    call, calls = calls_answering(aws_error("UnauthorizedOperation"))
    with pytest.raises(Exception) as error:
        stack.call_until_accepted(call, ("DependencyViolation",), 60, 5, "deleting sg-1", done_codes=("InvalidGroup.NotFound",))
    assert stack.error_code(error.value) == "UnauthorizedOperation"
    assert len(calls) == 1


def test_call_until_accepted_times_out_naming_what_and_the_last_answer():
    clock = FakeClock()

    def always_in_use():
        raise aws_error("ResourceInUse")
    with pytest.raises(stack.WaitTimeout) as error:
        stack.call_until_accepted(always_in_use, ("ResourceInUse",), 12, 5, "deleting target group Web-TG",
                                  sleep=clock.sleep, clock=clock.time)
    assert str(error.value) == "deleting target group Web-TG: AWS still answered ResourceInUse after 12 s"
    assert clock.sleeps == [5, 5, 2]


def test_error_code_of_anything_else_is_none():
    assert stack.error_code(aws_error("Throttling")) == "Throttling"
    assert stack.error_code(ValueError("not from AWS")) is None
