"""stack_info keeps only what carries exactly the stack's tag. EC2 tag filters take * and ? as
wildcards (moto does too), so a look-up of stack 'bl*' was answered stack blue's resources; and
security group names are looked up in the stack's VPC only.

In-process moto for a whole stack blue read under look-alike names; botocore's Stubber for answers
that a filter would give on AWS, whatever moto does."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_info as si
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info import REGION, Retrying, build_network, tags
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info_alb import build_alb
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info_asg import build_web_tier
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info_image import bake

ALL_PARTS = ["network", "image", "alb", "asg", "builder"]
# Names that a tag filter matches to blue (wildcards) and names that only look like it.
LOOK_ALIKES = ["bl*", "blu?", "*", "b*e", "?lue", "BLUE", "Blue", "blue ", " blue", "blue\n", "blue*", "blu", "blue-2"]


def offline(service):
    return boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture(scope="module")
def blue():
    """A whole stack blue (network, image with a leftover builder, load balancer, web tier) and the
    names its resources hold."""
    with mock_aws():
        ec2, elbv2, autoscaling = (boto3.client(service, region_name=REGION) for service in ("ec2", "elbv2", "autoscaling"))
        vpc, subnets, _nat, _eip = build_network(ec2, "blue")
        build_alb(ec2, elbv2, "blue", vpc, subnets)
        build_web_tier(ec2, autoscaling, stack="blue")
        ssm = boto3.client("ssm", region_name=REGION)
        base = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        cloud = {"ec2": ec2, "base": base, "subnet": subnets["public-subnet-a"]}
        bake(cloud, "blue-Web Server v1", 1, "f1", stack="blue")
        yield ec2, elbv2, autoscaling


def read(clients, stack_name):
    ec2, elbv2, autoscaling = clients
    return si.describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), stack_name, ALL_PARTS, image_name_base="blue-Web Server")


def test_the_stack_itself_is_found(blue):
    found = read(blue, "blue")
    assert found["exists"] and found["network"]["vpc_id"] and found["image"]["image_id"]
    assert found["alb"]["load_balancer_arn"] and found["asg"]["group_name"] == "Web-ASG"


@pytest.mark.parametrize("name", LOOK_ALIKES, ids=[repr(n) for n in LOOK_ALIKES])
def test_a_look_alike_name_finds_nothing_of_blue(blue, name):
    found = read(blue, name)
    assert found["exists"] is False
    assert (found["network"], found["image"], found["alb"], found["asg"]) == (None, None, None, None)
    assert found["builder"] == {"instance_ids": [], "security_group_ids": [], "instances": [], "images": [], "snapshot_ids": [],
                                "name_clashes": found["builder"]["name_clashes"]}
    # blue's image is named like the images of `name` would be: someone else's, a clash, never the stack's
    assert [clash["name"] for clash in found["builder"]["name_clashes"]] == ["blue-Web Server v1"]


# --- what AWS answers for a filter with wildcards, whatever moto does


def test_describe_tags_answers_for_a_wildcard_are_not_the_stacks():
    ec2 = offline("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_tags", {"Tags": [
            {"Key": "ha_web:stack", "Value": "blue", "ResourceId": "vpc-1", "ResourceType": "vpc"},
            {"Key": "ha_web:stack", "Value": "bl*x", "ResourceId": "vpc-2", "ResourceType": "vpc"},
        ]}, {"Filters": [{"Name": "key", "Values": ["ha_web:stack"]}, {"Name": "value", "Values": ["bl*"]}]})
        assert si.ec2_components(Retrying(ec2), "bl*") == {}  # and no second call for their components
        stub.assert_no_pending_responses()


def test_describe_tags_answers_keep_the_exact_value_only():
    ec2 = offline("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_tags", {"Tags": [
            {"Key": "ha_web:stack", "Value": "blue", "ResourceId": "vpc-1", "ResourceType": "vpc"},
            {"Key": "ha_web:stack", "Value": "blu?", "ResourceId": "vpc-2", "ResourceType": "vpc"},
        ]}, {"Filters": ANY})
        stub.add_response("describe_tags", {"Tags": [
            {"Key": "ha_web:component", "Value": "vpc", "ResourceId": "vpc-2", "ResourceType": "vpc"},
        ]}, {"Filters": [{"Name": "key", "Values": ["ha_web:component"]}, {"Name": "resource-id", "Values": ["vpc-2"]}]})
        assert si.ec2_components(Retrying(ec2), "blu?") == {"vpc": ["vpc-2"]}


def test_images_of_another_stack_answered_by_the_filter_are_dropped():
    ec2 = offline("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_images", {"Images": [
            {"ImageId": "ami-1", "Name": "blue-Web Server v1", "State": "available", "Tags": tags("blue", "image")},
        ]}, {"Owners": ["self"], "Filters": ANY})
        assert si.image_facts(Retrying(ec2), "bl*") is None


def test_web_tier_of_another_stack_answered_by_the_filters_is_dropped():
    ec2, autoscaling = offline("ec2"), offline("autoscaling")
    group = {"AutoScalingGroupName": "Web-ASG", "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2, "DefaultCooldown": 300,
             "AvailabilityZones": [REGION + "a"], "HealthCheckType": "EC2", "CreatedTime": "2026-01-01T00:00:00Z",
             "Tags": [dict(t, ResourceId="Web-ASG", ResourceType="auto-scaling-group", PropagateAtLaunch=False) for t in tags("blue", "asg")]}
    with Stubber(ec2) as ec2_stub, Stubber(autoscaling) as asg_stub:
        asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group]}, {"Filters": ANY})
        ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [
            {"GroupId": "sg-1", "GroupName": "ASG-Web-Inst-SG", "VpcId": "vpc-1", "Tags": tags("blue", "instance-sg")}]}, {"Filters": ANY})
        ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": [
            {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "Web", "LatestVersionNumber": 1, "DefaultVersionNumber": 1,
             "Tags": tags("blue", "launch-template")}]}, {"Filters": ANY})
        assert si.asg_facts(Retrying(ec2), Retrying(autoscaling), "blu?") is None  # and no further call
        ec2_stub.assert_no_pending_responses()


def test_a_resource_of_the_stack_with_another_component_tag_is_not_that_component():
    ec2 = offline("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_images", {"Images": [
            {"ImageId": "ami-1", "Name": "Web Server v1", "State": "available", "Tags": tags("lab", "builder")},
        ]}, {"Owners": ["self"], "Filters": ANY})
        assert si.image_facts(Retrying(ec2), "lab") is None


def test_load_balancing_resources_keep_the_exact_stack_and_component():
    elbv2 = offline("elbv2")
    arns = ["arn:aws:elasticloadbalancing:%s:123456789012:loadbalancer/app/%s/1" % (REGION, n) for n in ("a", "b", "c")]
    with Stubber(elbv2) as stub:
        stub.add_response("describe_tags", {"TagDescriptions": [
            {"ResourceArn": arns[0], "Tags": tags("blue", "alb")},
            {"ResourceArn": arns[1], "Tags": tags("bl*", "target-group")},
            {"ResourceArn": arns[2], "Tags": tags("bl*", "alb")},
        ]}, {"ResourceArns": arns})
        arn, found = si._elbv2_tagged(Retrying(elbv2), arns, "bl*", "alb")
    assert arn == arns[2] and found["ha_web:stack"] == "bl*"


# --- security group names, unique per VPC


@pytest.fixture
def clients():
    with mock_aws():
        yield tuple(boto3.client(service, region_name=REGION) for service in ("ec2", "elbv2", "autoscaling"))


def security_group(ec2, vpc, name, stack=None, component="alb-sg"):
    spec = [{"ResourceType": "security-group", "Tags": tags(stack, component, name)}] if stack else []
    return ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc, TagSpecifications=spec)["GroupId"]


SG_NAMES = ["Web-ALB-SG", "ASG-Web-Inst-SG", "Web-AMI-Builder-SG"]


def holders(clients, stack="lab", parts=("network",), **kwargs):
    ec2, elbv2, autoscaling = clients
    return si.describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), stack, list(parts),
                             names={"security_groups": SG_NAMES}, **kwargs)["name_holders"]["security_groups"]


def test_security_group_names_held_in_the_stacks_vpc(clients):
    ec2 = clients[0]
    vpc, _subnets, _nat, _eip = build_network(ec2, "lab")
    own = security_group(ec2, vpc, "Web-ALB-SG", "lab")
    foreign = security_group(ec2, vpc, "ASG-Web-Inst-SG")
    security_group(ec2, vpc, "Someone-else-SG", "blue")
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    security_group(ec2, other_vpc, "Web-AMI-Builder-SG")  # another VPC: the name is free in ours
    assert holders(clients) == {"Web-ALB-SG": "lab", "ASG-Web-Inst-SG": "untagged", "Web-AMI-Builder-SG": None}
    network = si.describe_stack(Retrying(ec2), None, None, "lab", ["network"])["network"]
    assert network["security_groups"] == [
        {"id": foreign, "name": "ASG-Web-Inst-SG", "stack": "untagged"},
        {"id": network["security_groups"][1]["id"], "name": "Someone-else-SG", "stack": "blue"},
        {"id": own, "name": "Web-ALB-SG", "stack": "lab"},
    ]


def test_security_group_names_in_a_vpc_given_without_the_network_part(clients):
    ec2 = clients[0]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    security_group(ec2, vpc, "Web-AMI-Builder-SG", "other", "builder-sg")
    assert holders(clients, parts=["asg"], vpc_id=vpc) == {"Web-ALB-SG": None, "ASG-Web-Inst-SG": None, "Web-AMI-Builder-SG": "other"}


def test_a_stack_without_a_vpc_holds_no_security_group_name_and_asks_nothing():
    ec2 = offline("ec2")
    with Stubber(ec2):  # any call would fail
        assert si.security_group_holders(Retrying(ec2), "lab", SG_NAMES, None, {}) == dict((name, None) for name in SG_NAMES)


def test_the_stacks_own_groups_read_in_the_parts_answer_their_names_without_a_call():
    ec2 = offline("ec2")
    read = {"alb": {"security_group": {"name": "Web-ALB-SG"}}, "asg": {"security_group": {"name": "ASG-Web-Inst-SG"}}}
    with Stubber(ec2):
        assert si.security_group_holders(Retrying(ec2), "lab", SG_NAMES[:2], "vpc-1", read) == {"Web-ALB-SG": "lab", "ASG-Web-Inst-SG": "lab"}
    with Stubber(ec2) as stub:
        stub.add_response("describe_security_groups", {"SecurityGroups": [
            {"GroupId": "sg-9", "GroupName": "Web-AMI-Builder-SG", "VpcId": "vpc-1", "Tags": tags("bl*", "builder-sg")},
            {"GroupId": "sg-8", "GroupName": "Web-AMI-Builder-SG-2", "VpcId": "vpc-1"},
        ]}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}, {"Name": "group-name", "Values": ["Web-AMI-Builder-SG"]}]})
        assert si.security_group_holders(Retrying(ec2), "blue", SG_NAMES, "vpc-1", read) == \
            {"Web-ALB-SG": "blue", "ASG-Web-Inst-SG": "blue", "Web-AMI-Builder-SG": "bl*"}


# --- name holders: a name is compared as text too


def test_a_launch_template_name_with_wildcards_is_held_by_no_one_but_a_template_of_exactly_that_name():
    ec2 = offline("ec2")
    with Stubber(ec2) as stub:
        stub.add_response("describe_launch_templates", {"LaunchTemplates": [
            {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "blue-Web", "Tags": tags("blue", "launch-template")}]},
            {"Filters": [{"Name": "launch-template-name", "Values": ["bl*-Web"]}]})
        assert si.name_holders(Retrying(ec2), None, None, "bl*", {"launch_template": "bl*-Web"}, {}) == {"launch_template": None}


def test_a_name_aws_refuses_as_invalid_is_held_by_no_one():
    elbv2 = offline("elbv2")
    with Stubber(elbv2) as stub:
        stub.add_client_error("describe_load_balancers", service_error_code="ValidationError", http_status_code=400)
        stub.add_client_error("describe_target_groups", service_error_code="ValidationError", http_status_code=400)
        assert si.name_holders(None, Retrying(elbv2), None, "bl*", {"load_balancer": "bl*-Web-ALB", "target_group": "bl*-Web-TG"}, {}) == \
            {"load_balancer": None, "target_group": None}


def test_a_group_answered_for_another_name_is_not_the_holder():
    autoscaling = offline("autoscaling")
    group = {"AutoScalingGroupName": "blue-Web-ASG", "MinSize": 0, "MaxSize": 1, "DesiredCapacity": 0, "DefaultCooldown": 300,
             "AvailabilityZones": [REGION + "a"], "HealthCheckType": "EC2", "CreatedTime": "2026-01-01T00:00:00Z"}
    with Stubber(autoscaling) as stub:
        stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [group]}, {"AutoScalingGroupNames": ["bl*-Web-ASG"]})
        assert si.name_holders(None, None, Retrying(autoscaling), "bl*", {"auto_scaling_group": "bl*-Web-ASG"}, {}) == \
            {"auto_scaling_group": None}
