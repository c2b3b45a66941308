"""The capacity_wait module: main() with Stubber clients (stack.aws_client patched), sleeps patched."""
import datetime
from unittest.mock import patch

import pytest

from ansible_collections.immersionday.ha_web.plugins.modules import capacity_wait
from ansible_collections.immersionday.ha_web.tests.unit.module_runner import run_module

GROUP = "Web-ASG"
TG = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/Web-TG/0123456789abcdef"
T0 = datetime.datetime(2026, 11, 28, 4, 0, 0, tzinfo=datetime.timezone.utc)
DESCRIBE = {"AutoScalingGroupNames": [GROUP]}
ACTS = {"AutoScalingGroupName": GROUP, "MaxRecords": 50}


@pytest.fixture()
def aws(stubbed_client):
    clients, stubs = {}, {}
    for service in ("autoscaling", "elbv2", "ec2"):
        clients[service], stubs[service] = stubbed_client(service)
    warnings = []
    with patch.object(capacity_wait.stack, "aws_client", side_effect=lambda module, service: clients[service]), \
            patch.object(capacity_wait.AnsibleAWSModule, "warn", autospec=True,
                         side_effect=lambda self_or_msg, *a: warnings.append(a[0] if a else self_or_msg)), \
            patch("time.sleep") as sleep:
        yield stubs, sleep, warnings


def run(args):
    return run_module(capacity_wait, dict({"region": "ap-northeast-2"}, **args))


def inst(iid, state="InService", health="Healthy", az="ap-northeast-2a"):
    return {"InstanceId": iid, "AvailabilityZone": az, "LifecycleState": state, "HealthStatus": health, "ProtectedFromScaleIn": False}


def group(instances, desired=2, max_size=4):
    return {"AutoScalingGroups": [{"AutoScalingGroupName": GROUP, "MinSize": 2, "MaxSize": max_size, "DesiredCapacity": desired,
                                   "DefaultCooldown": 300, "AvailabilityZones": ["ap-northeast-2a"], "HealthCheckType": "ELB",
                                   "CreatedTime": T0, "Instances": instances}]}


def instances_answer(ids):
    return {"Reservations": [{"Instances": [{"InstanceId": i, "LaunchTime": T0} for i in ids]}]}


def test_scale_out_with_target_group_and_activities(aws):
    stubs, sleep, warnings = aws
    a, e, ec2 = stubs["autoscaling"], stubs["elbv2"], stubs["ec2"]
    a.add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")], desired=4), DESCRIBE)
    e.add_response("describe_target_health", {"TargetHealthDescriptions": [
        {"Target": {"Id": "i-1"}, "TargetHealth": {"State": "healthy"}}, {"Target": {"Id": "i-2"}, "TargetHealth": {"State": "healthy"}}]},
        {"TargetGroupArn": TG})
    four = [inst("i-1"), inst("i-2"), inst("i-3", az="ap-northeast-2c"), inst("i-4", az="ap-northeast-2c")]
    a.add_response("describe_auto_scaling_groups", group(four, desired=4), DESCRIBE)
    e.add_response("describe_target_health", {"TargetHealthDescriptions": [
        {"Target": {"Id": i}, "TargetHealth": {"State": "healthy"}} for i in ("i-1", "i-2", "i-3", "i-4")]}, {"TargetGroupArn": TG})
    ec2.add_response("describe_instances", instances_answer(["i-1", "i-2", "i-3", "i-4"]), {"InstanceIds": ["i-1", "i-2", "i-3", "i-4"]})
    a.add_response("describe_scaling_activities", {"Activities": [
        {"ActivityId": "a-1", "AutoScalingGroupName": GROUP, "Cause": "policy", "StartTime": T0, "StatusCode": "Successful",
         "Description": "Launching a new EC2 instance: i-3"}]}, ACTS)
    failed, res = run({"group_name": GROUP, "target_group_arn": TG, "desired": "max", "poll_interval": 7})
    assert not failed, res
    assert res["changed"] is False and res["wanted"] == 4 and res["healthy"] == 4
    assert res["per_az"] == {"ap-northeast-2a": 2, "ap-northeast-2c": 2}
    assert [i["target_health"] for i in res["instances"]] == ["healthy"] * 4
    assert res["instances"][0]["launch_time"] == "2026-11-28T04:00:00+00:00"
    assert [x["description"] for x in res["activities"]] == ["Launching a new EC2 instance: i-3"]
    assert res["activities_error"] is None and warnings == []
    assert [(x["in_service"], x["healthy"]) for x in res["timeline"]] == [(2, 2), (4, 4)]
    sleep.assert_called_once_with(7)


def test_access_denied_on_activities_does_not_fail(aws):
    stubs, sleep, warnings = aws
    stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    stubs["autoscaling"].add_client_error("describe_scaling_activities", "AccessDenied", "not authorized to perform DescribeScalingActivities",
                                          403, expected_params=ACTS)
    failed, res = run({"group_name": GROUP})
    assert not failed, res
    assert res["activities"] == []
    assert res["activities_error"] == "DescribeScalingActivities refused (AccessDenied): not authorized to perform DescribeScalingActivities"
    assert warnings == ["scaling activities not available: " + res["activities_error"]]


def test_throttling_retried(aws):
    stubs, sleep, warnings = aws
    stubs["autoscaling"].add_client_error("describe_auto_scaling_groups", "Throttling", "Rate exceeded", 400, expected_params=DESCRIBE)
    stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    failed, res = run({"group_name": GROUP, "scaling_activities": False})
    assert not failed and res["healthy"] == 2 and res["polls"] == 1
    assert "activities" not in res


def test_timeout_fails_with_the_last_state(aws):
    stubs, sleep, warnings = aws
    clock = [0.0]

    def advance(seconds):
        clock[0] += seconds
    sleep.side_effect = advance
    for dummy in range(3):
        stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2", "Pending")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    stubs["autoscaling"].add_response("describe_scaling_activities", {"Activities": []}, ACTS)
    with patch("ansible_collections.immersionday.ha_web.plugins.module_utils.capacity.time.monotonic", side_effect=lambda: clock[0]):
        failed, res = run({"group_name": GROUP, "wait_timeout": 20, "poll_interval": 10})
    assert failed
    assert res["msg"] == ("timed out after 20s waiting for 2 instances InService and healthy in group Web-ASG: 1 ready, 1 in service, "
                          "desired capacity 2; not ready: i-2 Pending, Healthy")
    assert res["polls"] == 3 and res["healthy"] == 1
    assert [i["lifecycle_state"] for i in res["instances"]] == ["InService", "Pending"]


def test_short_runs_for_progress_return_what_they_wait_for_without_failing(aws):
    """fail_on_timeout=false: the run a role repeats with until (a line of progress each time)."""
    stubs, sleep, warnings = aws
    clock = [0.0]

    def advance(seconds):
        clock[0] += seconds
    sleep.side_effect = advance
    for dummy in range(2):
        stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2", "Pending")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    with patch("ansible_collections.immersionday.ha_web.plugins.module_utils.capacity.time.monotonic", side_effect=lambda: clock[0]):
        failed, res = run({"group_name": GROUP, "wait_timeout": 10, "poll_interval": 10, "fail_on_timeout": False,
                           "scaling_activities": False})
    assert not failed and res["changed"] is False
    assert res["healthy"] == 1 and res["wanted"] == 2 and res["polls"] == 2
    assert res["msg"] == ("waiting for 2 instances InService and healthy in group Web-ASG: 1 ready, 1 in service, "
                          "desired capacity 2; not ready: i-2 Pending, Healthy")


def test_short_runs_still_fail_when_the_count_can_never_be_reached(aws):
    stubs, sleep, warnings = aws
    stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    failed, res = run({"group_name": GROUP, "desired": "5", "wait_timeout": 10, "fail_on_timeout": False, "scaling_activities": False})
    assert failed and res["msg"] == "waiting for 5 instances can never succeed: the group Web-ASG has MaxSize 4"


def test_no_wait_reports_the_current_state(aws):
    stubs, sleep, warnings = aws
    stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2", "Pending")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    failed, res = run({"group_name": GROUP, "wait": False, "scaling_activities": False})
    assert not failed and res["healthy"] == 1 and res["wanted"] == 2
    sleep.assert_not_called()


@pytest.mark.parametrize("args, msg", [
    ({"desired": "lots"}, "desired must be a number, desired, max or min; got 'lots'"),
    ({"desired": "-1"}, "desired must not be negative; got -1"),
    ({"poll_interval": 0}, "wait_timeout must be >= 0 and poll_interval > 0"),
])
def test_bad_options(aws, args, msg):
    failed, res = run(dict({"group_name": GROUP}, **args))
    assert failed and res["msg"] == msg


def test_group_missing_and_beyond_max(aws):
    stubs, sleep, warnings = aws
    stubs["autoscaling"].add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, DESCRIBE)
    failed, res = run({"group_name": GROUP})
    assert failed and res == {"msg": "Auto Scaling group Web-ASG not found"}
    stubs["autoscaling"].add_response("describe_auto_scaling_groups", group([inst("i-1"), inst("i-2")]), DESCRIBE)
    stubs["ec2"].add_response("describe_instances", instances_answer(["i-1", "i-2"]), {"InstanceIds": ["i-1", "i-2"]})
    stubs["autoscaling"].add_response("describe_scaling_activities", {"Activities": []}, ACTS)
    failed, res = run({"group_name": GROUP, "desired": "5"})
    assert failed and res["msg"] == "waiting for 5 instances can never succeed: the group Web-ASG has MaxSize 4"
    assert res["max_size"] == 4 and len(res["instances"]) == 2
