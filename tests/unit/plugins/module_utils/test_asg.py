"""module_utils/asg.py with botocore Stubber: exact create arguments, the no-op path (zero mutating
calls), a rerun after scale-out, a new AMI (new version + group update + instance refresh), refresh
unsupported / already in progress, deletion waits, throttling, validation messages."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time

import boto3
import pytest
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import asg
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock

REGION = "ap-northeast-2"
VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0cccccccccccccccc"]
ALB_SG = "sg-0a1b2c3d4e5f60718"
SG = "sg-0123456789abcdef0"
LT = "lt-0123456789abcdef0"
AMI = "ami-0123456789abcdef0"
AMI2 = "ami-0fedcba9876543210"
TG = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/Web-TG/0123456789abcdef"
DESCRIPTION = u"Immersion Day Web Instances Template \u2013 Web only"

PARAMS = dict(
    stack_name="lab", state="present", vpc_id=VPC, subnet_ids=list(SUBNETS), security_group_name="ASG-Web-Inst-SG",
    security_group_description="HTTP Allow", load_balancer_security_group_id=ALB_SG, instance_port=80,
    launch_template_name="Web", launch_template_description=DESCRIPTION, image_id=AMI, instance_type="t2.micro",
    detailed_monitoring=True, root_volume_size=None, root_volume_type="gp3", kms_key_id=None, instance_name="ASG-Web-Instance",
    group_name="Web-ASG", target_group_arn=TG, min_size=2, max_size=4, desired_capacity=2, health_check_type="ELB",
    health_check_grace_period=120, metrics=list(asg.DEFAULT_METRICS), policy_name="Target Tracking Policy", cpu_target_value=30.0,
    estimated_instance_warmup=120, instance_refresh=True, refresh_min_healthy_percentage=50, refresh_instance_warmup=120,
    tags={}, wait=True, wait_timeout=600, poll_interval=5.0,
)

SG_FILTERS = [{"Name": "tag:ha_web:stack", "Values": ["lab"]}, {"Name": "tag:ha_web:component", "Values": ["instance-sg"]}]
LT_FILTERS = [{"Name": "tag:ha_web:stack", "Values": ["lab"]}, {"Name": "tag:ha_web:component", "Values": ["launch-template"]}]
ASG_FILTERS = [{"Name": "tag:ha_web:stack", "Values": ["lab"]}, {"Name": "tag:ha_web:component", "Values": ["asg"]}]
SG_TAGS = [{"Key": "ha_web:component", "Value": "instance-sg"}, {"Key": "ha_web:stack", "Value": "lab"}, {"Key": "Name", "Value": "ASG-Web-Inst-SG"}]
LT_TAGS = [{"Key": "ha_web:component", "Value": "launch-template"}, {"Key": "ha_web:stack", "Value": "lab"}, {"Key": "Name", "Value": "Web"}]
INSTANCE_TAGS = [{"Key": "ha_web:stack", "Value": "lab"}, {"Key": "Name", "Value": "ASG-Web-Instance"}]
INGRESS = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": ALB_SG}]}]
GROUP_TAGS = [
    {"ResourceId": "Web-ASG", "ResourceType": "auto-scaling-group", "Key": "Name", "Value": "ASG-Web-Instance", "PropagateAtLaunch": True},
    {"ResourceId": "Web-ASG", "ResourceType": "auto-scaling-group", "Key": "ha_web:component", "Value": "asg", "PropagateAtLaunch": False},
    {"ResourceId": "Web-ASG", "ResourceType": "auto-scaling-group", "Key": "ha_web:stack", "Value": "lab", "PropagateAtLaunch": True},
]
POLICY_ARGS = {
    "AutoScalingGroupName": "Web-ASG",
    "PolicyName": "Target Tracking Policy",
    "PolicyType": "TargetTrackingScaling",
    "EstimatedInstanceWarmup": 120,
    "TargetTrackingConfiguration": {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
        "TargetValue": 30.0,
        "DisableScaleIn": False,
    },
}


def template_data(image_id=AMI):
    return {
        "ImageId": image_id,
        "InstanceType": "t2.micro",
        "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False, "DeleteOnTermination": True, "Groups": [SG]}],
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
        "Monitoring": {"Enabled": True},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "DeleteOnTermination": True, "VolumeType": "gp3", "VolumeSize": 8}}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": INSTANCE_TAGS}, {"ResourceType": "volume", "Tags": INSTANCE_TAGS}],
    }


def stored_data(image_id=AMI):
    """What DescribeLaunchTemplateVersions answers: extra defaults AWS fills in, another tag order."""
    data = template_data(image_id)
    data["MetadataOptions"].update({"State": "applied", "HttpProtocolIpv6": "disabled"})
    data["TagSpecifications"] = [{"ResourceType": "volume", "Tags": list(reversed(INSTANCE_TAGS))},
                                 {"ResourceType": "instance", "Tags": list(reversed(INSTANCE_TAGS))}]
    return data


def instance(n, version="1", state="InService"):
    return {"InstanceId": "i-%017d" % n, "AvailabilityZone": "ap-northeast-2a" if n % 2 else "ap-northeast-2c",
            "LifecycleState": state, "HealthStatus": "Healthy", "ProtectedFromScaleIn": False,
            "LaunchTemplate": {"LaunchTemplateId": LT, "LaunchTemplateName": "Web", "Version": version}}


def group(desired=2, count=None, version="1", min_size=2, max_size=4, status=None, instances=None):
    count = desired if count is None else count
    g = {
        "AutoScalingGroupName": "Web-ASG",
        "LaunchTemplate": {"LaunchTemplateId": LT, "LaunchTemplateName": "Web", "Version": version},
        "MinSize": min_size, "MaxSize": max_size, "DesiredCapacity": desired, "DefaultCooldown": 300,
        "AvailabilityZones": ["ap-northeast-2a", "ap-northeast-2c"],
        "TargetGroupARNs": [TG], "HealthCheckType": "ELB", "HealthCheckGracePeriod": 120,
        "Instances": instances if instances is not None else [instance(n + 1, version) for n in range(count)],
        "CreatedTime": "2026-11-28T00:00:00Z",
        "VPCZoneIdentifier": ",".join(SUBNETS),
        "EnabledMetrics": [{"Metric": m, "Granularity": "1Minute"} for m in asg.DEFAULT_METRICS],
        "Tags": GROUP_TAGS,
    }
    if status:
        g["Status"] = status
    return g


def security_group():
    return {"GroupId": SG, "GroupName": "ASG-Web-Inst-SG", "Description": "HTTP Allow", "VpcId": VPC, "OwnerId": "123456789012",
            "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                               "UserIdGroupPairs": [{"GroupId": ALB_SG, "UserId": "123456789012"}]}],
            "Tags": SG_TAGS}


def launch_template(latest=1):
    return {"LaunchTemplateId": LT, "LaunchTemplateName": "Web", "DefaultVersionNumber": latest, "LatestVersionNumber": latest, "Tags": LT_TAGS}


def policy():
    return dict(POLICY_ARGS, PolicyARN="arn:aws:autoscaling:policy", Enabled=True)


def params(**overrides):
    result = copy.deepcopy(PARAMS)
    result.update(overrides)
    return result


@pytest.fixture
def retry_sleeps(monkeypatch):
    calls = []
    monkeypatch.setattr(time, "sleep", calls.append)
    return calls


@pytest.fixture
def aws(retry_sleeps):
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s", endpoint_url="https://ec2.invalid")
    auto = boto3.client("autoscaling", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s", endpoint_url="https://as.invalid")
    with Stubber(ec2) as ec2_stub, Stubber(auto) as asg_stub:
        yield RetryingBotoClientWrapper(ec2, retry_decorator()), ec2_stub, RetryingBotoClientWrapper(auto, retry_decorator()), asg_stub
        ec2_stub.assert_no_pending_responses()
        asg_stub.assert_no_pending_responses()


def reconciler(aws, clock=None, check_mode=False, **overrides):
    ec2, _ec2_stub, auto, _asg_stub = aws
    clock = clock or FakeClock()
    return asg.Reconciler(ec2, auto, params(**overrides), check_mode=check_mode, sleep=clock.sleep, clock=clock.time)


def expect_existing(ec2_stub, asg_stub, grp, data=None, versions=("1",)):
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [grp]}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [security_group()]}, {"Filters": SG_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": [launch_template(int(versions[-1]))]}, {"Filters": LT_FILTERS})
    ec2_stub.add_response(
        "describe_launch_template_versions",
        {"LaunchTemplateVersions": [{"LaunchTemplateId": LT, "VersionNumber": int(v), "LaunchTemplateData": data or stored_data()} for v in versions]},
        {"LaunchTemplateId": LT, "Versions": list(versions)})


def expect_policy(asg_stub, current=True):
    asg_stub.add_response("describe_policies", {"ScalingPolicies": [policy()] if current else []},
                          {"AutoScalingGroupName": "Web-ASG", "PolicyNames": ["Target Tracking Policy"]})


def expect_image(ec2_stub, image_id=AMI):
    ec2_stub.add_response("describe_images", {"Images": [{
        "ImageId": image_id, "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0", "VolumeSize": 8}}]}]},
        {"ImageIds": [image_id]})


# ---------------------------------------------------------------- create

def test_fresh_create_sends_exact_arguments(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS})
    ec2_stub.add_response("create_security_group", {"GroupId": SG}, {
        "GroupName": "ASG-Web-Inst-SG", "Description": "HTTP Allow", "VpcId": VPC,
        "TagSpecifications": [{"ResourceType": "security-group", "Tags": SG_TAGS}]})
    ec2_stub.add_response("authorize_security_group_ingress", {"Return": True}, {"GroupId": SG, "IpPermissions": INGRESS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": []}, {"Filters": LT_FILTERS})
    expect_image(ec2_stub)
    ec2_stub.add_response("create_launch_template", {"LaunchTemplate": launch_template()}, {
        "LaunchTemplateName": "Web", "VersionDescription": DESCRIPTION, "LaunchTemplateData": template_data(),
        "TagSpecifications": [{"ResourceType": "launch-template", "Tags": LT_TAGS}]})
    asg_stub.add_response("create_auto_scaling_group", {}, {
        "AutoScalingGroupName": "Web-ASG",
        "LaunchTemplate": {"LaunchTemplateId": LT, "Version": "1"},
        "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2,
        "VPCZoneIdentifier": ",".join(SUBNETS),
        "TargetGroupARNs": [TG],
        "HealthCheckType": "ELB", "HealthCheckGracePeriod": 120,
        "Tags": GROUP_TAGS})
    asg_stub.add_response("enable_metrics_collection", {}, {
        "AutoScalingGroupName": "Web-ASG", "Granularity": "1Minute",
        "Metrics": ["GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances",
                    "GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances"]})
    asg_stub.add_response("put_scaling_policy", {"PolicyARN": "arn:aws:autoscaling:policy"}, POLICY_ARGS)
    # Real AWS: the instances are Pending first, then InService.
    pending = group(instances=[instance(1, state="Pending"), instance(2, state="Pending")])
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [pending]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group()]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    clock = FakeClock()
    r = reconciler(aws, clock)
    result = r.present()
    assert r.changed
    assert clock.sleeps == [5.0]
    assert result["launch_template_id"] == LT
    assert result["launch_template_version"] == "1"
    assert result["security_group_id"] == SG
    assert result["created"] is True
    assert result["instances"] == [
        {"instance_id": "i-00000000000000001", "availability_zone": "ap-northeast-2a", "lifecycle_state": "InService", "health_status": "Healthy"},
        {"instance_id": "i-00000000000000002", "availability_zone": "ap-northeast-2c", "lifecycle_state": "InService", "health_status": "Healthy"},
    ]
    assert result["instance_refresh"] == {"status": "not_needed"}
    assert result["policy"]["target_value"] == 30.0
    assert r.changes[:2] == ["create security group ASG-Web-Inst-SG", "create launch template Web (version 1, %s)" % AMI]
    assert r.before["group"] is None and r.after["group"]["desired_capacity"] == 2


def test_check_mode_fresh_makes_only_describe_calls(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": []}, {"Filters": LT_FILTERS})
    expect_image(ec2_stub)
    r = reconciler(aws, check_mode=True)
    result = r.present()
    assert r.changed
    assert result["launch_template_id"] is None and result["security_group_id"] is None
    assert r.changes == [
        "create security group ASG-Web-Inst-SG",
        "create launch template Web (version 1, %s)" % AMI,
        "create group Web-ASG (min 2, max 4, desired 2, launch template version 1)",
        "enable group metrics collection",
        "put scaling policy Target Tracking Policy (ASGAverageCPUUtilization at 30.0)",
    ]


# ---------------------------------------------------------------- reruns

def test_noop_rerun_makes_no_mutating_call(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    expect_existing(ec2_stub, asg_stub, group())
    expect_policy(asg_stub)
    r = reconciler(aws)
    result = r.present()
    assert not r.changed and r.changes == [] and r.warnings == []
    assert result["launch_template_version"] == "1"
    assert result["created"] is False
    assert r.before == r.after


def test_rerun_after_scale_out_keeps_desired_4(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    expect_existing(ec2_stub, asg_stub, group(desired=4))
    expect_policy(asg_stub)
    r = reconciler(aws)
    result = r.present()
    assert not r.changed
    assert result["desired_capacity"] == 4
    assert len(result["instances"]) == 4


def test_new_max_below_desired_clamps_and_warns(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    expect_existing(ec2_stub, asg_stub, group(desired=4))
    asg_stub.add_response("update_auto_scaling_group", {}, {"AutoScalingGroupName": "Web-ASG", "MaxSize": 3, "DesiredCapacity": 3})
    expect_policy(asg_stub)
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(desired=3, max_size=3)]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    r = reconciler(aws, max_size=3)
    result = r.present()
    assert r.changes == ["update group Web-ASG (DesiredCapacity, MaxSize)"]
    assert r.warnings == ["desired capacity 4 of group Web-ASG is outside min_size 2..max_size 3: set to 3"]
    assert result["desired_capacity"] == 3


def test_new_ami_creates_a_version_updates_the_group_and_starts_a_refresh(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    expect_existing(ec2_stub, asg_stub, group(desired=4))
    expect_image(ec2_stub, AMI2)
    ec2_stub.add_response("create_launch_template_version", {"LaunchTemplateVersion": {"LaunchTemplateId": LT, "VersionNumber": 2}}, {
        "LaunchTemplateId": LT, "VersionDescription": DESCRIPTION, "LaunchTemplateData": template_data(AMI2)})
    ec2_stub.add_response("modify_launch_template", {"LaunchTemplate": launch_template(2)}, {"LaunchTemplateId": LT, "DefaultVersion": "2"})
    asg_stub.add_response("update_auto_scaling_group", {}, {
        "AutoScalingGroupName": "Web-ASG", "LaunchTemplate": {"LaunchTemplateId": LT, "Version": "2"}})
    expect_policy(asg_stub)
    asg_stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": [
        {"InstanceRefreshId": "old", "AutoScalingGroupName": "Web-ASG", "Status": "Successful"}]},
        {"AutoScalingGroupName": "Web-ASG", "MaxRecords": 10})
    asg_stub.add_response("start_instance_refresh", {"InstanceRefreshId": "refresh-1"}, {
        "AutoScalingGroupName": "Web-ASG", "Strategy": "Rolling",
        "Preferences": {"MinHealthyPercentage": 50, "InstanceWarmup": 120}})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(desired=4, version="2")]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    r = reconciler(aws, image_id=AMI2)
    result = r.present()
    assert r.changes == [
        "create launch template Web version 2 (ImageId changed)",
        "update group Web-ASG (LaunchTemplate)",
        "start instance refresh refresh-1 (min healthy 50%)",
    ]
    assert result["launch_template_version"] == "2"
    assert result["instance_refresh"] == {"status": "started", "id": "refresh-1"}
    assert result["desired_capacity"] == 4
    assert r.before["launch_template"]["data"]["ImageId"] == AMI and r.after["launch_template"]["data"]["ImageId"] == AMI2


def expect_new_version_until_refresh(ec2_stub, asg_stub):
    expect_existing(ec2_stub, asg_stub, group())
    expect_image(ec2_stub, AMI2)
    ec2_stub.add_response("create_launch_template_version", {"LaunchTemplateVersion": {"LaunchTemplateId": LT, "VersionNumber": 2}}, {
        "LaunchTemplateId": LT, "VersionDescription": DESCRIPTION, "LaunchTemplateData": template_data(AMI2)})
    ec2_stub.add_response("modify_launch_template", {"LaunchTemplate": launch_template(2)}, {"LaunchTemplateId": LT, "DefaultVersion": "2"})
    asg_stub.add_response("update_auto_scaling_group", {}, {
        "AutoScalingGroupName": "Web-ASG", "LaunchTemplate": {"LaunchTemplateId": LT, "Version": "2"}})
    expect_policy(asg_stub)


def test_refresh_unsupported_warns_and_does_not_fail(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    expect_new_version_until_refresh(ec2_stub, asg_stub)
    asg_stub.add_client_error("describe_instance_refreshes", "InvalidAction", "The action DescribeInstanceRefreshes is not valid", 400)
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(version="2")]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    r = reconciler(aws, image_id=AMI2)
    result = r.present()
    assert result["instance_refresh"] == {"status": "unsupported"}
    assert r.warnings == ["the endpoint does not support instance refresh (DescribeInstanceRefreshes: InvalidAction);"
                          " running instances keep their launch template version until they are replaced"]
    assert r.changed


def test_refresh_already_in_progress_is_not_started_again(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    expect_new_version_until_refresh(ec2_stub, asg_stub)
    asg_stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": [
        {"InstanceRefreshId": "refresh-0", "AutoScalingGroupName": "Web-ASG", "Status": "InProgress"}]},
        {"AutoScalingGroupName": "Web-ASG", "MaxRecords": 10})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(version="2")]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    r = reconciler(aws, image_id=AMI2)
    result = r.present()
    assert result["instance_refresh"] == {"status": "in_progress", "id": "refresh-0"}
    assert r.warnings == ["instance refresh refresh-0 is already in progress; not starting another"]


def test_start_refresh_conflict_and_moto_error_page():
    class Client(object):
        def __init__(self, describe_error=None, start_error=None):
            self.describe_error, self.start_error = describe_error, start_error

        def describe_instance_refreshes(self, **kwargs):
            if self.describe_error:
                raise self.describe_error
            return {"InstanceRefreshes": []}

        def start_instance_refresh(self, **kwargs):
            raise self.start_error

    from botocore.exceptions import ClientError
    conflict = ClientError({"Error": {"Code": "InstanceRefreshInProgress", "Message": "busy"}}, "StartInstanceRefresh")
    assert asg.start_refresh(Client(start_error=conflict), "Web-ASG", PARAMS, False) == (
        {"status": "in_progress"}, "an instance refresh is already in progress; not starting another")
    page = ResponseParserError("Unable to parse response (syntax error: line 1, column 0), invalid XML received")
    status, warning = asg.start_refresh(Client(describe_error=page), "Web-ASG", PARAMS, False)
    assert status == {"status": "unsupported"}
    assert warning.startswith("the endpoint does not support instance refresh (DescribeInstanceRefreshes: the endpoint answered with a non-AWS")
    assert asg.start_refresh(Client(), "Web-ASG", PARAMS, True) == ({"status": "would_start"}, None)
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeInstanceRefreshes")
    with pytest.raises(ClientError):
        asg.start_refresh(Client(describe_error=denied), "Web-ASG", PARAMS, False)


def test_version_created_by_an_interrupted_run_is_reused(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group()]}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [security_group()]}, {"Filters": SG_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": [launch_template(2)]}, {"Filters": LT_FILTERS})
    ec2_stub.add_response("describe_launch_template_versions", {"LaunchTemplateVersions": [
        {"LaunchTemplateId": LT, "VersionNumber": 1, "LaunchTemplateData": stored_data()},
        {"LaunchTemplateId": LT, "VersionNumber": 2, "LaunchTemplateData": stored_data(AMI2)}]},
        {"LaunchTemplateId": LT, "Versions": ["1", "2"]})
    expect_image(ec2_stub, AMI2)
    asg_stub.add_response("update_auto_scaling_group", {}, {
        "AutoScalingGroupName": "Web-ASG", "LaunchTemplate": {"LaunchTemplateId": LT, "Version": "2"}})
    expect_policy(asg_stub)
    asg_stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": []}, {"AutoScalingGroupName": "Web-ASG", "MaxRecords": 10})
    asg_stub.add_response("start_instance_refresh", {"InstanceRefreshId": "refresh-2"}, {
        "AutoScalingGroupName": "Web-ASG", "Strategy": "Rolling", "Preferences": {"MinHealthyPercentage": 50, "InstanceWarmup": 120}})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(version="2")]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    r = reconciler(aws, image_id=AMI2)
    assert r.present()["launch_template_version"] == "2"
    assert not [c for c in r.changes if c.startswith("create launch template")]


def test_drifted_ingress_is_repaired(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    sg = security_group()
    sg["IpPermissions"].append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group()]}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [sg]}, {"Filters": SG_FILTERS})
    ec2_stub.add_response("revoke_security_group_ingress", {"Return": True}, {
        "GroupId": SG, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": [launch_template()]}, {"Filters": LT_FILTERS})
    ec2_stub.add_response("describe_launch_template_versions", {"LaunchTemplateVersions": [
        {"LaunchTemplateId": LT, "VersionNumber": 1, "LaunchTemplateData": stored_data()}]}, {"LaunchTemplateId": LT, "Versions": ["1"]})
    expect_policy(asg_stub)
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group()]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    r = reconciler(aws)
    r.present()
    assert r.changes == ["revoke ingress tcp 22-22 from 0.0.0.0/0 on %s" % SG]


def test_throttled_describe_is_retried(aws, retry_sleeps):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_client_error("describe_auto_scaling_groups", "Throttling", "Rate exceeded", 400)
    expect_existing(ec2_stub, asg_stub, group())
    expect_policy(asg_stub)
    r = reconciler(aws)
    r.present()
    assert not r.changed
    assert len(retry_sleeps) == 1


def test_group_being_deleted_fails_clearly(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(status="Delete in progress")]}, {"Filters": ASG_FILTERS})
    with pytest.raises(asg.AsgError) as error:
        reconciler(aws).present()
    assert str(error.value) == "Auto Scaling group Web-ASG is being deleted (Delete in progress); rerun when it is gone"


# ---------------------------------------------------------------- absent

INSTANCE_FILTERS = [{"Name": "instance-state-name", "Values": ["pending", "running", "shutting-down", "stopping", "stopped"]},
                    {"Name": "tag:aws:autoscaling:groupName", "Values": ["Web-ASG"]}]


def test_absent_waits_for_the_group_its_instances_and_the_security_group(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group()]}, {"Filters": ASG_FILTERS})
    asg_stub.add_response("delete_auto_scaling_group", {}, {"AutoScalingGroupName": "Web-ASG", "ForceDelete": True})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(status="Delete in progress")]},
                          {"AutoScalingGroupNames": ["Web-ASG"]})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"AutoScalingGroupNames": ["Web-ASG"]})
    ec2_stub.add_response("describe_instances", {"Reservations": [{"Instances": [{"InstanceId": "i-00000000000000001"}]}]},
                          {"Filters": INSTANCE_FILTERS})
    ec2_stub.add_response("describe_instances", {"Reservations": []}, {"Filters": INSTANCE_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": [launch_template()]}, {"Filters": LT_FILTERS})
    ec2_stub.add_response("delete_launch_template", {}, {"LaunchTemplateId": LT})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [security_group()]}, {"Filters": SG_FILTERS})
    ec2_stub.add_client_error("delete_security_group", "DependencyViolation", "resource sg has a dependent object", 400)
    ec2_stub.add_response("delete_security_group", {}, {"GroupId": SG})
    clock = FakeClock()
    r = reconciler(aws, clock, state="absent")
    result = r.absent()
    assert clock.sleeps == [5.0, 5.0, 5.0]
    assert result["deleted"] == {"group": "Web-ASG", "launch_template": LT, "security_group": SG}
    assert r.changes == ["delete group Web-ASG (2 instances)", "delete launch template Web", "delete security group %s" % SG]


def test_absent_twice_changes_nothing(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_instances", {"Reservations": []}, {"Filters": INSTANCE_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": []}, {"Filters": LT_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS})
    r = reconciler(aws, state="absent")
    assert r.absent()["deleted"] == {}
    assert not r.changed


def test_absent_times_out_with_the_option_named(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group()]}, {"Filters": ASG_FILTERS})
    asg_stub.add_response("delete_auto_scaling_group", {}, {"AutoScalingGroupName": "Web-ASG", "ForceDelete": True})
    for _attempt in range(3):
        asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group(status="Delete in progress")]},
                              {"AutoScalingGroupNames": ["Web-ASG"]})
    with pytest.raises(asg.AsgError) as error:
        reconciler(aws, state="absent", wait_timeout=10).absent()
    assert str(error.value) == "timed out after 10s waiting for group Web-ASG to be deleted"


def test_absent_without_wait_fails_on_dependency_violation(aws):
    ec2, ec2_stub, auto, asg_stub = aws
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"Filters": ASG_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": []}, {"Filters": LT_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [security_group()]}, {"Filters": SG_FILTERS})
    ec2_stub.add_client_error("delete_security_group", "DependencyViolation", "resource sg has a dependent object", 400)
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError):
        reconciler(aws, state="absent", wait=False).absent()


# ---------------------------------------------------------------- validation and pure helpers

@pytest.mark.parametrize("overrides, message", [
    (dict(min_size=-1, desired_capacity=0), "min_size must be >= 0 (got -1)"),
    (dict(max_size=0, min_size=0, desired_capacity=0), "max_size must be >= 1 (got 0)"),
    (dict(min_size=3, max_size=2, desired_capacity=2), "min_size (3) must be <= max_size (2)"),
    (dict(desired_capacity=5), "desired_capacity (5) must be between min_size (2) and max_size (4)"),
    (dict(desired_capacity=1), "desired_capacity (1) must be between min_size (2) and max_size (4)"),
    (dict(cpu_target_value=0.0), "cpu_target_value must be > 0 and <= 100 (got 0.0)"),
    (dict(cpu_target_value=100.5), "cpu_target_value must be > 0 and <= 100 (got 100.5)"),
    (dict(estimated_instance_warmup=-1), "estimated_instance_warmup must be >= 0 (got -1)"),
    (dict(health_check_grace_period=-5), "health_check_grace_period must be >= 0 (got -5)"),
    (dict(wait_timeout=-1), "wait_timeout must be >= 0 (got -1)"),
    (dict(subnet_ids=[]), "subnet_ids must list at least one subnet"),
    (dict(launch_template_name="We"), "launch_template_name must be 3 to 128 characters of letters, digits and ( ) . - / _ (got 'We')"),
    (dict(launch_template_name="Web template"),
     "launch_template_name must be 3 to 128 characters of letters, digits and ( ) . - / _ (got 'Web template')"),
    (dict(launch_template_name="W" * 129), "launch_template_name must be 3 to 128 characters of letters, digits and ( ) . - / _ (got '%s')" % ("W" * 129)),
    (dict(group_name="a:b"), "group_name must be 1 to 255 characters, without ':' or surrounding spaces (got 'a:b')"),
    (dict(image_id="web-v1"), "image_id must look like ami-<8 to 17 hex digits> (got 'web-v1')"),
])
def test_validation_messages(overrides, message):
    assert asg.validate(params(**overrides)) == [message]


def test_valid_names_pass():
    assert asg.validate(params(launch_template_name="blue-Web(v1)/x_y.z")) == []
    assert asg.validate(params()) == []


def test_template_comparison_ignores_aws_defaults_and_tag_order():
    assert asg.template_differences(stored_data(), template_data()) == []
    moto_style = stored_data()
    moto_style["TagSpecifications"].append({"ResourceType": "launch-template", "Tags": LT_TAGS})
    assert asg.template_differences(moto_style, template_data()) == []
    insecure = stored_data()
    insecure["MetadataOptions"]["HttpTokens"] = "optional"
    insecure["NetworkInterfaces"][0]["AssociatePublicIpAddress"] = True
    assert asg.template_differences(insecure, template_data()) == ["MetadataOptions", "NetworkInterfaces"]
    two_hops = stored_data()
    two_hops["MetadataOptions"]["HttpPutResponseHopLimit"] = 2
    assert asg.template_differences(two_hops, template_data()) == ["MetadataOptions"]


def test_ingress_changes():
    current = [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    authorize, revoke = asg.ingress_changes(current, INGRESS)
    assert authorize == INGRESS
    assert revoke == current


def test_check_mode_on_a_fresh_stack_counts_the_planned_subnets():
    planned = dict(vpc_id=None, subnet_ids=[None, None], image_id=None)
    assert asg.validate(params(**planned), check_mode=True) == []
    assert asg.validate(params(**planned)) == ["subnet_ids must list at least one subnet"]
    assert asg.validate(params(subnet_ids=[]), check_mode=True) == ["subnet_ids must list at least one subnet"]
