"""stack_info's name_holders (who holds the alb and asg roles' account-unique names, for their
create-path check) and image_root (the asg role's image root device), against an in-process moto;
error answers with botocore's Stubber."""
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
NAMES = {"load_balancer": "Web-ALB", "target_group": "Web-TG", "auto_scaling_group": "Web-ASG", "launch_template": "Web"}


def tag_list(stack, component, name):
    result = [{"Key": "Name", "Value": name}, {"Key": "ha_web:component", "Value": component}]
    if stack:
        result.append({"Key": "ha_web:stack", "Value": stack})
    return result


@pytest.fixture
def clients():
    with mock_aws():
        yield (boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION),
               boto3.client("autoscaling", region_name=REGION))


def build(clients, stack):
    """Every account-unique resource of the alb and asg roles, tagged with stack (untagged when None)."""
    ec2, elbv2, autoscaling = clients
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % n, AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
               for n, az in ((1, "a"), (2, "c"))]
    extra = {"Tags": tag_list(stack, "alb", "Web-ALB")} if stack else {}
    elbv2.create_load_balancer(Name="Web-ALB", Subnets=subnets, **extra)
    extra = {"Tags": tag_list(stack, "target-group", "Web-TG")} if stack else {}
    elbv2.create_target_group(Name="Web-TG", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance", **extra)
    extra = {"TagSpecifications": [{"ResourceType": "launch-template", "Tags": tag_list(stack, "launch-template", "Web")}]} if stack else {}
    lt = ec2.create_launch_template(LaunchTemplateName="Web", LaunchTemplateData={"ImageId": "ami-0123456789abcdef0"},
                                    **extra)["LaunchTemplate"]["LaunchTemplateId"]
    group_tags = [dict(t, ResourceId="Web-ASG", ResourceType="auto-scaling-group", PropagateAtLaunch=False)
                  for t in tag_list(stack, "asg", "Web-ASG")] if stack else []
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="Web-ASG", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
                                          MinSize=0, MaxSize=1, DesiredCapacity=0, VPCZoneIdentifier=subnets[0], Tags=group_tags)


def holders(clients, stack="lab", parts=("alb", "asg"), names=None):
    ec2, elbv2, autoscaling = clients
    return describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), stack, list(parts), names=names or NAMES)["name_holders"]


def test_no_resource_holds_the_names(clients):
    assert holders(clients) == {"load_balancer": None, "target_group": None, "auto_scaling_group": None, "launch_template": None}


def test_another_stack_holds_the_names(clients):
    build(clients, "other")
    assert holders(clients) == {"load_balancer": "other", "target_group": "other", "auto_scaling_group": "other", "launch_template": "other"}


def test_untagged_resources_hold_the_names(clients):
    build(clients, None)
    assert holders(clients) == dict((key, "untagged") for key in NAMES)


def test_the_stacks_own_resources_hold_the_names_without_another_call(clients):
    build(clients, "lab")
    ec2, elbv2, autoscaling = clients
    read = describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", ["alb", "asg"])
    # Each name is already answered by the look-up of the parts: no call of the name look-up.
    with Stubber(ec2), Stubber(elbv2), Stubber(autoscaling):
        assert stack_info.name_holders(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", NAMES, read) == \
            dict((key, "lab") for key in NAMES)


def test_without_the_parts_the_stack_holds_them_by_its_tag(clients):
    build(clients, "lab")
    assert holders(clients, parts=["network"]) == dict((key, "lab") for key in NAMES)


def test_only_the_names_given_are_looked_up(clients):
    assert holders(clients, parts=["alb"], names={"load_balancer": "Web-ALB"}) == {"load_balancer": None}


def test_an_error_other_than_not_found_is_raised():
    elbv2 = boto3.client("elbv2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(elbv2) as stub:
        stub.add_client_error("describe_load_balancers", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(Exception) as error:
            stack_info.name_holders(None, Retrying(elbv2), None, "lab", {"load_balancer": "Web-ALB"}, {})
    assert "AccessDenied" in str(error.value)


def test_a_name_not_found_answer_means_nobody():
    elbv2 = boto3.client("elbv2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(elbv2) as stub:
        stub.add_client_error("describe_load_balancers", service_error_code="LoadBalancerNotFound", http_status_code=400)
        stub.add_client_error("describe_target_groups", service_error_code="TargetGroupNotFound", http_status_code=400)
        assert stack_info.name_holders(None, Retrying(elbv2), None, "lab", {"load_balancer": "A", "target_group": "B"}, {}) == \
            {"load_balancer": None, "target_group": None}


# --- image_root

def image(ec2):
    """An image with a root device: one of moto's built-in AMIs."""
    found = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "root-device-type", "Values": ["ebs"]}])["Images"]
    return [i for i in found if i.get("BlockDeviceMappings")][0]


def test_image_root_reads_the_images_root_device(clients):
    ec2 = clients[0]
    ami = image(ec2)
    root = stack_info.image_root(Retrying(ec2), ami["ImageId"], None)
    mapping = [m for m in ami["BlockDeviceMappings"] if m["DeviceName"] == ami["RootDeviceName"]][0]
    assert root == {"image_id": ami["ImageId"], "root_device_name": ami["RootDeviceName"], "root_volume_size": mapping["Ebs"]["VolumeSize"]}


def test_image_root_reads_nothing_when_the_template_records_it():
    template = {"versions": {"1": {"image_id": "ami-1", "root_device_name": "/dev/xvda"}}}
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ec2):  # any call would fail: none is made
        assert stack_info.image_root(Retrying(ec2), "ami-1", template) is None


def test_image_root_reads_the_image_when_a_version_uses_another():
    template = {"versions": {"1": {"image_id": "ami-0", "root_device_name": "/dev/xvda"},
                             "2": {"image_id": "ami-1", "root_device_name": "/dev/xvda"}}}
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ec2) as stub:
        stub.add_response("describe_images", {"Images": [{"ImageId": "ami-1", "RootDeviceName": "/dev/sda1", "BlockDeviceMappings": [
            {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 12}}]}]}, {"ImageIds": ["ami-1"]})
        assert stack_info.image_root(Retrying(ec2), "ami-1", template) == \
            {"image_id": "ami-1", "root_device_name": "/dev/sda1", "root_volume_size": 12}


def test_image_root_of_a_missing_image_is_null():
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ec2) as stub:
        stub.add_client_error("describe_images", service_error_code="InvalidAMIID.NotFound", http_status_code=400)
        assert stack_info.image_root(Retrying(ec2), "ami-1", None) == {"image_id": "ami-1", "root_device_name": None, "root_volume_size": None}


def test_the_asg_part_reads_the_stacks_image_root_when_no_image_is_given(clients):
    ec2, elbv2, autoscaling = clients
    result = describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", ["asg"])
    assert "image_root" not in result  # no image known
    ami = image(ec2)
    result = describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", ["asg"], image_id=ami["ImageId"])
    assert result["image_root"]["root_device_name"] == ami["RootDeviceName"]
