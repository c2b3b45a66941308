"""stack_info's asg part: what the asg role compares with what it wants (the security group's
rules, the launch template's versions, the group's settings, the scaling policies), read by tags,
against an in-process moto; error paths with botocore's Stubber."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_info
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import describe_stack
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info import Retrying

REGION = "ap-northeast-2"
METRICS = ["GroupMinSize", "GroupMaxSize"]


def tags(stack, component, name=None, **extra):
    result = [{"Key": "ha_web:stack", "Value": stack}, {"Key": "ha_web:component", "Value": component}]
    if name:
        result.append({"Key": "Name", "Value": name})
    result.extend({"Key": k, "Value": v} for k, v in extra.items())
    return result


def template_data(image_id, sg_id, size=8, **extra_tags):
    instance_tags = [{"Key": "Name", "Value": "ASG-Web-Instance"}, {"Key": "ha_web:stack", "Value": "lab"}]
    instance_tags.extend({"Key": k, "Value": v} for k, v in extra_tags.items())
    return {
        "ImageId": image_id,
        "InstanceType": "t2.micro",
        "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False, "DeleteOnTermination": True, "Groups": [sg_id]}],
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
        "Monitoring": {"Enabled": True},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda",
                                 "Ebs": {"Encrypted": True, "DeleteOnTermination": True, "VolumeType": "gp3", "VolumeSize": size}}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": instance_tags}, {"ResourceType": "volume", "Tags": instance_tags}],
    }


def build_web_tier(ec2, autoscaling, stack="lab", versions=1, group_version="1"):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % n, AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
               for n, az in ((100, "a"), (200, "c"))]
    alb_sg = ec2.create_security_group(GroupName="Web-ALB-SG", Description="alb", VpcId=vpc)["GroupId"]
    sg = ec2.create_security_group(GroupName="ASG-Web-Inst-SG", Description="HTTP Allow", VpcId=vpc, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": tags(stack, "instance-sg", "ASG-Web-Inst-SG")}])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
    image = "ami-0123456789abcdef0"  # moto launches from an unknown image id (describing its images costs ~2 s)
    lt = ec2.create_launch_template(
        LaunchTemplateName="Web", VersionDescription="v1", LaunchTemplateData=template_data(image, sg),
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags(stack, "launch-template", "Web")}],
    )["LaunchTemplate"]["LaunchTemplateId"]
    for n in range(2, versions + 1):
        ec2.create_launch_template_version(LaunchTemplateId=lt, VersionDescription="v%d" % n,
                                           LaunchTemplateData=template_data(image, sg, size=8 + n))
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="Web-ASG", LaunchTemplate={"LaunchTemplateId": lt, "Version": group_version},
        MinSize=2, MaxSize=4, DesiredCapacity=2, VPCZoneIdentifier=",".join(subnets), HealthCheckType="ELB",
        HealthCheckGracePeriod=120, Tags=[
            {"ResourceId": "Web-ASG", "ResourceType": "auto-scaling-group", "Key": t["Key"], "Value": t["Value"],
             "PropagateAtLaunch": t["Key"] != "ha_web:component"} for t in tags(stack, "asg", "ASG-Web-Instance")])
    autoscaling.enable_metrics_collection(AutoScalingGroupName="Web-ASG", Metrics=METRICS, Granularity="1Minute")
    autoscaling.put_scaling_policy(
        AutoScalingGroupName="Web-ASG", PolicyName="Target Tracking Policy", PolicyType="TargetTrackingScaling",
        EstimatedInstanceWarmup=120, TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 30.0})
    return {"vpc": vpc, "subnets": subnets, "alb_sg": alb_sg, "sg": sg, "image": image, "lt": lt}


@pytest.fixture
def clients():
    with mock_aws():
        yield (boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION),
               boto3.client("autoscaling", region_name=REGION))


def read(clients, stack="lab"):
    ec2, elbv2, autoscaling = clients
    return describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), stack, ["asg"])["asg"]


def test_the_keys_of_ha_web_asg_stay(clients):
    ec2, dummy, autoscaling = clients
    built = build_web_tier(ec2, autoscaling)
    asg = read(clients)
    assert asg["group_name"] == "Web-ASG"
    assert (asg["launch_template_id"], asg["launch_template_version"], asg["security_group_id"]) == (built["lt"], "1", built["sg"])
    assert (asg["min_size"], asg["max_size"], asg["desired_capacity"]) == (2, 4, 2)
    assert len(asg["instances"]) == 2
    assert set(asg["instances"][0]) == {"instance_id", "availability_zone", "lifecycle_state", "health_status"}


def test_the_security_group_view_holds_its_rules_and_tags(clients):
    ec2, dummy, autoscaling = clients
    built = build_web_tier(ec2, autoscaling)
    sg = read(clients)["security_group"]
    assert sg == {"id": built["sg"], "name": "ASG-Web-Inst-SG", "description": "HTTP Allow", "vpc_id": built["vpc"],
                  "tags": {"ha_web:stack": "lab", "ha_web:component": "instance-sg", "Name": "ASG-Web-Inst-SG"},
                  "ingress": ["tcp 80-80 from " + built["alb_sg"]]}


def test_ingress_rules_of_every_kind_flatten_to_sorted_strings():
    permissions = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
         "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "PrefixListIds": [{"PrefixListId": "pl-1"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": "sg-1"}]},
    ]
    assert stack_info._ingress_rules(permissions) == [
        "tcp 443-443 from 10.0.0.0/8", "tcp 443-443 from ::/0", "tcp 443-443 from pl-1", "tcp 80-80 from sg-1"]


def test_the_launch_template_view_has_the_group_version_and_the_latest(clients):
    ec2, dummy, autoscaling = clients
    built = build_web_tier(ec2, autoscaling, versions=3, group_version="2")
    ec2.create_tags(Resources=[built["lt"]], Tags=[{"Key": "owner", "Value": "me"}])  # added after creation
    lt = read(clients)["launch_template"]
    assert (lt["id"], lt["name"], lt["latest_version"], lt["default_version"]) == (built["lt"], "Web", "3", "1")
    assert sorted(lt["versions"]) == ["2", "3"]
    assert lt["tags"] == {"ha_web:stack": "lab", "ha_web:component": "launch-template", "Name": "Web", "owner": "me"}
    assert lt["versions"]["2"] == {
        "description": "v2", "image_id": built["image"], "instance_type": "t2.micro", "security_group_ids": [built["sg"]],
        "associate_public_ip_address": False, "http_tokens": "required", "http_endpoint": "enabled",
        "http_put_response_hop_limit": 1, "monitoring": True, "root_device_name": "/dev/xvda", "root_volume_size": 10,
        "root_volume_type": "gp3", "root_encrypted": True, "root_kms_key_id": None,
        "instance_tags": {"Name": "ASG-Web-Instance", "ha_web:stack": "lab"},
        "volume_tags": {"Name": "ASG-Web-Instance", "ha_web:stack": "lab"},
    }
    assert lt["versions"]["3"]["root_volume_size"] == 11
    # What the group launches, for the cost estimate: its own version's, not the latest.
    asg = read(clients)
    assert (asg["instance_type"], asg["root_volume_size"], asg["root_volume_type"]) == ("t2.micro", 10, "gp3")


def test_a_group_on_latest_reads_the_latest_version_only(clients):
    ec2, dummy, autoscaling = clients
    build_web_tier(ec2, autoscaling, versions=2, group_version="$Latest")
    asg = read(clients)
    assert asg["group"]["launch_template_version"] == "$Latest"
    assert sorted(asg["launch_template"]["versions"]) == ["2"]
    assert asg["root_volume_size"] == 10  # the latest's


def test_the_group_view_holds_what_the_role_manages(clients):
    ec2, dummy, autoscaling = clients
    built = build_web_tier(ec2, autoscaling)
    group = read(clients)["group"]
    assert group == {
        "name": "Web-ASG", "status": None, "launch_template_id": built["lt"], "launch_template_version": "1",
        "min_size": 2, "max_size": 4, "desired_capacity": 2, "subnet_ids": sorted(built["subnets"]), "target_group_arns": [],
        "health_check_type": "ELB", "health_check_grace_period": 120,
        "metrics": {"GroupMinSize": "1Minute", "GroupMaxSize": "1Minute"},
        "tags": {"Name": {"value": "ASG-Web-Instance", "propagate_at_launch": True},
                 "ha_web:stack": {"value": "lab", "propagate_at_launch": True},
                 "ha_web:component": {"value": "asg", "propagate_at_launch": False}},
        "outdated_instance_ids": [],
    }


def test_instances_on_another_version_than_the_group_are_outdated():
    group = {"AutoScalingGroupName": "Web-ASG", "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2,
             "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "3"},
             "Instances": [{"InstanceId": "i-new", "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "3"}},
                           {"InstanceId": "i-old", "LaunchTemplate": {"LaunchTemplateId": "lt-1", "Version": "2"}},
                           {"InstanceId": "i-none"}]}
    assert stack_info.group_view(group)["outdated_instance_ids"] == ["i-old"]


def test_the_policies_of_the_group(clients):
    ec2, dummy, autoscaling = clients
    build_web_tier(ec2, autoscaling)
    assert read(clients)["policies"] == [{
        "name": "Target Tracking Policy", "type": "TargetTrackingScaling", "metric": "ASGAverageCPUUtilization",
        "target_value": 30.0, "disable_scale_in": False, "estimated_instance_warmup": 120}]


def test_another_stacks_web_tier_is_not_seen(clients):
    ec2, dummy, autoscaling = clients
    build_web_tier(ec2, autoscaling, stack="blue")
    assert read(clients) is None


def test_a_web_tier_with_only_its_security_group_left(clients):
    ec2, dummy, autoscaling = clients
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="ASG-Web-Inst-SG", Description="HTTP Allow", VpcId=vpc, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": tags("lab", "instance-sg", "ASG-Web-Inst-SG")}])["GroupId"]
    asg = read(clients)
    assert asg["security_group"]["id"] == sg and asg["security_group"]["ingress"] == []
    assert (asg["group"], asg["launch_template"], asg["policies"], asg["group_name"]) == (None, None, [], None)


def test_deleted_resources_whose_tags_moto_still_lists_are_not_taken(clients):
    """moto's DescribeTags keeps the tags of deleted resources: a teardown then a deploy on the same
    cloud must read the new security group and launch template, not the deleted ones."""
    ec2, dummy, autoscaling = clients
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    live = {}
    for attempt in ("old", "new"):
        sg = ec2.create_security_group(GroupName="ASG-Web-Inst-SG", Description="HTTP Allow", VpcId=vpc, TagSpecifications=[
            {"ResourceType": "security-group", "Tags": tags("lab", "instance-sg", "ASG-Web-Inst-SG")}])["GroupId"]
        lt = ec2.create_launch_template(LaunchTemplateName="Web", LaunchTemplateData={"InstanceType": "t2.micro"}, TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": tags("lab", "launch-template", "Web")}])["LaunchTemplate"]["LaunchTemplateId"]
        if attempt == "old":
            ec2.delete_security_group(GroupId=sg)
            ec2.delete_launch_template(LaunchTemplateId=lt)
        live = {"sg": sg, "lt": lt}
    asg = read(clients)
    assert (asg["security_group_id"], asg["security_group"]["id"]) == (live["sg"], live["sg"])
    assert (asg["launch_template_id"], asg["launch_template"]["id"]) == (live["lt"], live["lt"])


def test_a_stack_whose_web_tier_is_gone_reads_none(clients):
    ec2, dummy, autoscaling = clients
    built = build_web_tier(ec2, autoscaling)
    autoscaling.delete_auto_scaling_group(AutoScalingGroupName="Web-ASG", ForceDelete=True)
    ec2.delete_launch_template(LaunchTemplateId=built["lt"])
    ec2.delete_security_group(GroupId=built["sg"])
    assert read(clients) is None


def test_errors_are_raised():
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    autoscaling = boto3.client("autoscaling", region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(ec2) as ec2_stub, Stubber(autoscaling) as asg_stub:
        asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []})
        ec2_stub.add_client_error("describe_security_groups", service_error_code="UnauthorizedOperation", http_status_code=403)
        with pytest.raises(Exception) as raised:
            stack_info.asg_facts(Retrying(ec2), Retrying(autoscaling), "lab")
        assert "UnauthorizedOperation" in str(raised.value)
