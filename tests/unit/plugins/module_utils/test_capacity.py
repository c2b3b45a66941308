"""capacity: stubbed Auto Scaling / ELBv2 / EC2 sequences (botocore Stubber), with the real retry decorator."""
import datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from unittest.mock import patch

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import capacity
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock

GROUP = "Web-ASG"
TG = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/Web-TG/0123456789abcdef"
T0 = datetime.datetime(2026, 11, 28, 4, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def no_retry_sleep():
    with patch("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep") as s:
        yield s


def client(service):
    raw = boto3.client(service, region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(raw)
    stub.activate()
    return RetryingBotoClientWrapper(raw, stack.retry_decorator()), stub


def inst(iid, state="InService", health="Healthy", az="ap-northeast-2a"):
    return {"InstanceId": iid, "AvailabilityZone": az, "LifecycleState": state, "HealthStatus": health,
            "ProtectedFromScaleIn": False}


def group(instances, desired=2, min_size=2, max_size=4):
    return {"AutoScalingGroups": [{
        "AutoScalingGroupName": GROUP, "MinSize": min_size, "MaxSize": max_size, "DesiredCapacity": desired,
        "DefaultCooldown": 300, "AvailabilityZones": ["ap-northeast-2a", "ap-northeast-2c"], "HealthCheckType": "ELB",
        "CreatedTime": T0, "Instances": instances}]}


def health(states, reasons=None):
    reasons = reasons or {}
    return {"TargetHealthDescriptions": [{"Target": {"Id": i, "Port": 80},
                                          "TargetHealth": dict({"State": s}, **({"Reason": reasons[i]} if i in reasons else {}))}
                                         for i, s in states.items()]}


DESCRIBE = {"AutoScalingGroupNames": [GROUP]}


def wait(asg, elbv2=None, tg=None, desired=None, timeout=600, interval=15, clock=None):
    clock = clock or FakeClock()
    return capacity.wait_for_capacity(asg, elbv2, GROUP, tg, desired, timeout, interval, sleep=clock.sleep, clock=clock,
                                      wall=lambda: 1000.0), clock


# ------------------------------------------------------------------------------------------
def test_slow_scale_out_to_max():
    asg, s = client("autoscaling")
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")], desired=2), DESCRIBE)
    # the policy raised desired to 4 after the first poll: now the target moves with it
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2"), inst("i-3", "Pending", az="ap-northeast-2c")],
                                                         desired=4), DESCRIBE)
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2"), inst("i-3", az="ap-northeast-2c"),
                                                          inst("i-4", "Pending")], desired=4), DESCRIBE)
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2"), inst("i-3", az="ap-northeast-2c"),
                                                          inst("i-4", "InService", "Healthy", "ap-northeast-2c")], desired=4), DESCRIBE)
    (state, tracker, wanted), clock = wait(asg, desired="max")
    s.assert_no_pending_responses()
    assert wanted == 4
    assert clock.sleeps == [15, 15, 15]
    assert [(e["t"], e["in_service"], e["healthy"], e["desired_capacity"]) for e in tracker.public_timeline()] == [
        (0.0, 2, 2, 2), (15.0, 2, 2, 4), (30.0, 3, 3, 4), (45.0, 4, 4, 4)]
    assert tracker.public_timeline()[0]["epoch"] == 1000.0
    assert tracker.first_ready == {"i-1": 0.0, "i-2": 0.0, "i-3": 30.0, "i-4": 45.0}
    res = capacity.describe_result(state, tracker, wanted, {"i-1": "2026-11-28T04:00:00+00:00"})
    assert res["per_az"] == {"ap-northeast-2a": 2, "ap-northeast-2c": 2}
    assert res["healthy"] == 4 and res["in_service"] == 4 and res["polls"] == 4
    assert res["instances"][0] == {"instance_id": "i-1", "availability_zone": "ap-northeast-2a", "lifecycle_state": "InService",
                                   "health_status": "Healthy", "target_health": None, "target_health_reason": None,
                                   "launch_time": "2026-11-28T04:00:00+00:00",
                                   "in_service_at": 0.0, "ready_at": 0.0}
    assert res["instances"][3]["launch_time"] is None and res["instances"][3]["ready_at"] == 45.0


def test_default_desired_is_the_groups_desired_capacity():
    asg, s = client("autoscaling")
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2", "Pending")], desired=2), DESCRIBE)
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")], desired=2), DESCRIBE)
    (state, tracker, wanted), clock = wait(asg, interval=5)
    assert wanted == 2 and clock.sleeps == [5]


def test_instance_unhealthy_then_healthy_in_the_target_group():
    asg, s = client("autoscaling")
    elbv2, e = client("elbv2")
    for states in ({"i-1": "healthy", "i-2": "initial"}, {"i-1": "healthy", "i-2": "unhealthy"}, {"i-1": "healthy", "i-2": "healthy"}):
        s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
        e.add_response("describe_target_health", health(states), {"TargetGroupArn": TG})
    (state, tracker, wanted), clock = wait(asg, elbv2, TG, desired=2, interval=10)
    s.assert_no_pending_responses()
    e.assert_no_pending_responses()
    assert [(x["in_service"], x["healthy"]) for x in tracker.public_timeline()] == [(2, 1), (2, 2)]
    assert tracker.public_timeline()[0]["last_seen"] == 10.0
    assert [i["target_health"] for i in state["instances"]] == ["healthy", "healthy"]
    assert tracker.first_ready == {"i-1": 0.0, "i-2": 20.0}


def test_unhealthy_in_the_group_does_not_count_and_unregistered_target():
    state = {"instances": [
        {"instance_id": "i-1", "lifecycle_state": "InService", "health_status": "Unhealthy", "target_health": None},
        {"instance_id": "i-2", "lifecycle_state": "InService", "health_status": "Healthy", "target_health": "unregistered"},
        {"instance_id": "i-3", "lifecycle_state": "Terminating", "health_status": "Healthy", "target_health": None}],
        "desired_capacity": 2}
    assert capacity.counts(state) == {"in_service": 2, "healthy": 0, "desired_capacity": 2, "instances": 3}


def test_throttling_is_retried():
    asg, s = client("autoscaling")
    s.add_client_error("describe_auto_scaling_groups", "Throttling", "Rate exceeded", 400, expected_params=DESCRIBE)
    s.add_client_error("describe_auto_scaling_groups", "RequestLimitExceeded", "slow down", 400, expected_params=DESCRIBE)
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    (state, tracker, wanted), clock = wait(asg)
    s.assert_no_pending_responses()
    assert clock.sleeps == []  # no poll interval spent: the retry decorator waited (patched) and the first poll succeeded
    assert tracker.polls == 1 and wanted == 2


def test_timeout_reports_the_last_state():
    asg, s = client("autoscaling")
    for dummy in range(3):
        s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2"), inst("i-3", "Pending")], desired=4), DESCRIBE)
    with pytest.raises(capacity.CapacityError) as err:
        wait(asg, desired="max", timeout=20, interval=10)
    assert str(err.value) == ("timed out after 20s waiting for 4 instances InService and healthy in group Web-ASG: "
                              "2 ready, 2 in service, desired capacity 4; not ready: i-3 Pending, Healthy")
    assert err.value.timed_out is True
    state, tracker, wanted = err.value.last
    assert wanted == 4 and len(state["instances"]) == 3 and tracker.polls == 3
    assert tracker.public_timeline() == [{"t": 0.0, "epoch": 1000.0, "in_service": 2, "healthy": 2, "desired_capacity": 4, "last_seen": 20.0}]


def test_timeout_message_with_target_group():
    asg, s = client("autoscaling")
    elbv2, e = client("elbv2")
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    e.add_response("describe_target_health", health({"i-1": "healthy", "i-2": "unhealthy"}, {"i-2": "Target.ResponseCodeMismatch"}),
                   {"TargetGroupArn": TG})
    with pytest.raises(capacity.CapacityError) as err:
        wait(asg, elbv2, TG, timeout=0)
    assert str(err.value) == ("timed out after 0s waiting for 2 instances InService and healthy in group Web-ASG and its target group: "
                              "1 ready, 2 in service, desired capacity 2; not ready: i-2 InService, Healthy, target unhealthy "
                              "(Target.ResponseCodeMismatch)")


def test_more_than_max_fails_at_once():
    asg, s = client("autoscaling")
    s.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    with pytest.raises(capacity.CapacityError) as err:
        wait(asg, desired=5)
    assert str(err.value) == "waiting for 5 instances can never succeed: the group Web-ASG has MaxSize 4"
    assert err.value.timed_out is False


def test_group_not_found():
    asg, s = client("autoscaling")
    s.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, DESCRIBE)
    with pytest.raises(capacity.CapacityError) as err:
        wait(asg)
    assert str(err.value) == "Auto Scaling group Web-ASG not found"
    assert err.value.last is None


def test_wanted_count():
    g = {"DesiredCapacity": 2, "MinSize": 1, "MaxSize": 4}
    assert [capacity.wanted_count(g, d) for d in (None, "desired", "max", "min", 3)] == [2, 2, 4, 1, 3]


# ------------------------------------------------------------------------------------------ activities
ACT = {"ActivityId": "a-1", "AutoScalingGroupName": GROUP, "Description": "Launching a new EC2 instance: i-3",
       "Cause": "At 2026-11-28T04:05:00Z a monitor alarm TargetTracking-Web-ASG-AlarmHigh in state ALARM triggered policy",
       "StartTime": T0, "EndTime": T0 + datetime.timedelta(seconds=40), "StatusCode": "Successful", "Progress": 100}


def test_activities_present():
    asg, s = client("autoscaling")
    s.add_response("describe_scaling_activities", {"Activities": [ACT]}, {"AutoScalingGroupName": GROUP, "MaxRecords": 50})
    acts, error = capacity.scaling_activities(asg, GROUP)
    assert error is None
    assert acts == [{"activity_id": "a-1", "description": "Launching a new EC2 instance: i-3", "cause": ACT["Cause"],
                     "status_code": "Successful", "progress": 100, "start_time": "2026-11-28T04:00:00+00:00",
                     "end_time": "2026-11-28T04:00:40+00:00"}]


@pytest.mark.parametrize("code", ["AccessDenied", "UnauthorizedOperation", "NotImplemented"])
def test_activities_refused_do_not_fail(code):
    asg, s = client("autoscaling")
    s.add_client_error("describe_scaling_activities", code, "User: arn:aws:iam::123456789012:user/x is not authorized", 403)
    acts, error = capacity.scaling_activities(asg, GROUP)
    assert acts == []
    assert error == "DescribeScalingActivities refused (%s): User: arn:aws:iam::123456789012:user/x is not authorized" % code


def test_activities_throttled_then_answered():
    asg, s = client("autoscaling")
    s.add_client_error("describe_scaling_activities", "Throttling", "Rate exceeded", 400)
    s.add_response("describe_scaling_activities", {"Activities": []})
    assert capacity.scaling_activities(asg, GROUP) == ([], None)
    s.assert_no_pending_responses()


def test_activities_other_errors_raise():
    asg, s = client("autoscaling")
    s.add_client_error("describe_scaling_activities", "ValidationError", "bad", 400)
    with pytest.raises(ClientError) as err:
        capacity.scaling_activities(asg, GROUP)
    assert stack.error_code(err.value) == "ValidationError"


def test_launch_times():
    ec2, s = client("ec2")
    s.add_response("describe_instances", {"Reservations": [{"Instances": [{"InstanceId": "i-1", "LaunchTime": T0}]}]},
                   {"InstanceIds": ["i-1"]})
    assert capacity.launch_times(ec2, ["i-1"]) == ({"i-1": "2026-11-28T04:00:00+00:00"}, None)
    s.add_client_error("describe_instances", "UnauthorizedOperation", "no", 403)
    assert capacity.launch_times(ec2, ["i-1"]) == ({}, "DescribeInstances: UnauthorizedOperation")
    assert capacity.launch_times(ec2, []) == ({}, None)


# --- someone else's group of the same name is never waited for

def tagged(response, stack_name):
    tags = [{"Key": "ha_web:stack", "Value": stack_name, "ResourceId": GROUP, "ResourceType": "auto-scaling-group",
             "PropagateAtLaunch": True}] if stack_name is not None else []
    response["AutoScalingGroups"][0]["Tags"] = tags
    return response


@pytest.mark.parametrize("holder", [None, "blue", "LAB", "la*", "lab "])
def test_a_group_not_tagged_exactly_with_the_stack_is_not_waited_for(holder):
    asg, s = client("autoscaling")
    s.add_response("describe_auto_scaling_groups", tagged(group([inst("i-1", "Pending")], desired=1, min_size=1), holder), DESCRIBE)
    clock = FakeClock()
    with pytest.raises(capacity.CapacityError) as error:
        capacity.wait_for_capacity(asg, None, GROUP, desired=None, timeout=600, interval=15, sleep=clock.sleep, clock=clock,
                                   stack_name="lab")
    assert "Auto Scaling group Web-ASG is not stack lab's" in str(error.value)
    assert ("missing" if holder is None else repr(holder)) in str(error.value)
    assert error.value.last is None and clock.sleeps == []  # at once, and nothing of it reported
    s.assert_no_pending_responses()


def test_the_stacks_own_group_is_waited_for():
    asg, s = client("autoscaling")
    s.add_response("describe_auto_scaling_groups", tagged(group([inst("i-1", "Pending")], desired=1, min_size=1), "lab"), DESCRIBE)
    s.add_response("describe_auto_scaling_groups", tagged(group([inst("i-1")], desired=1, min_size=1), "lab"), DESCRIBE)
    clock = FakeClock()
    state, _tracker, wanted = capacity.wait_for_capacity(asg, None, GROUP, timeout=600, interval=15, sleep=clock.sleep, clock=clock,
                                                         wall=lambda: 1000.0, stack_name="lab")
    assert wanted == 1 and state["instances"][0]["lifecycle_state"] == "InService"
