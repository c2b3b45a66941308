"""stack_info against an in-process moto: it finds exactly the stack's resources by their tags."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_dashboard import dashboard_body
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import describe_stack

REGION = "ap-northeast-2"


def tags(stack, component, name=None):
    result = [{"Key": "ha_web:stack", "Value": stack}, {"Key": "ha_web:component", "Value": component}]
    if name:
        result.append({"Key": "Name", "Value": name})
    return result


class Retrying(object):
    """Accepts the aws_retry keyword our clients take."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if name in ("get_paginator",) or not callable(attr):
            return attr

        def call(*args, **kwargs):
            kwargs.pop("aws_retry", None)
            return attr(*args, **kwargs)
        return call


def build_network(ec2, stack):
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": tags(stack, "eip")}])
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(stack, "vpc")}])["Vpc"]["VpcId"]
    subnets = {}
    for component, cidr, az in (("public-subnet-a", "10.0.10.0/24", "a"), ("public-subnet-c", "10.0.20.0/24", "c"),
                                ("private-subnet-a", "10.0.100.0/24", "a"), ("private-subnet-c", "10.0.200.0/24", "c")):
        subnets[component] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=REGION + az,
                                               TagSpecifications=[{"ResourceType": "subnet", "Tags": tags(stack, component)}])["Subnet"]["SubnetId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets["public-subnet-a"], AllocationId=eip["AllocationId"])["NatGateway"]["NatGatewayId"]
    return vpc, subnets, nat, eip


@pytest.fixture
def clients():
    with mock_aws():
        yield (boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION),
               boto3.client("autoscaling", region_name=REGION))


def test_network_of_the_stack_and_not_of_its_neighbour(clients):
    ec2, elbv2, autoscaling = clients
    vpc, subnets, nat, eip = build_network(ec2, "lab")
    build_network(ec2, "blue")
    result = describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", ["network", "image", "alb", "asg"])
    network = result["network"]
    assert result["exists"] is True
    assert network["vpc_id"] == vpc
    assert network["vpc_cidr"] == "10.0.0.0/16"
    assert network["public_subnet_ids"] == [subnets["public-subnet-a"], subnets["public-subnet-c"]]
    assert network["private_subnet_ids"] == [subnets["private-subnet-a"], subnets["private-subnet-c"]]
    assert network["nat_gateway_id"] == nat
    assert network["eip_allocation_id"] == eip["AllocationId"]
    assert network["eip_public_ip"] == eip["PublicIp"]
    assert result["image"] is None and result["alb"] is None and result["asg"] is None


def test_a_stack_that_never_existed(clients):
    ec2, elbv2, autoscaling = clients
    build_network(ec2, "blue")
    result = describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", ["network", "image", "alb", "asg", "builder"])
    assert {REGION + "a", REGION + "c"} <= set(result.pop("availability_zones"))  # asked with the network part
    assert result == {"network": None, "image": None, "alb": None, "asg": None,
                      "builder": {"instance_ids": [], "security_group_ids": [], "instances": [], "images": [], "snapshot_ids": [],
                                  "name_clashes": []},
                      "exists": False}


def test_load_balancer_found_by_tags(clients):
    ec2, elbv2, autoscaling = clients
    vpc, subnets, _nat, _eip = build_network(ec2, "lab")
    sg = ec2.create_security_group(GroupName="Web-ALB-SG", Description="x", VpcId=vpc,
                                   TagSpecifications=[{"ResourceType": "security-group", "Tags": tags("lab", "alb-sg")}])["GroupId"]
    tg = elbv2.create_target_group(Name="Web-TG", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance",
                                   Tags=tags("lab", "target-group"))["TargetGroups"][0]["TargetGroupArn"]
    lb = elbv2.create_load_balancer(Name="Web-ALB", Subnets=[subnets["public-subnet-a"], subnets["public-subnet-c"]], SecurityGroups=[sg],
                                    Tags=tags("lab", "alb"))["LoadBalancers"][0]
    listener = elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    alb = describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), "lab", ["alb"])["alb"]
    assert alb["load_balancer_arn"] == lb["LoadBalancerArn"]
    assert alb["target_group_arn"] == tg
    assert alb["listener_arn"] == listener
    assert alb["security_group_id"] == sg
    assert alb["url"] == "http://%s/" % lb["DNSName"]


def test_the_dashboard_part_reads_the_stacks_dashboard_by_name_and_its_marker():
    cloudwatch = boto3.client("cloudwatch", region_name="ap-northeast-2", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(cloudwatch)
    body = dashboard_body("blue", "ap-northeast-2", "blue-Web-ASG", "arn:aws:e:r:1:loadbalancer/app/blue-Web-ALB/1",
                          "arn:aws:e:r:1:targetgroup/blue-Web-TG/1", ["ap-northeast-2a"], 30)
    stub.add_response("get_dashboard", {"DashboardName": "blue-ha-web", "DashboardArn": "arn:d", "DashboardBody": json.dumps(body)},
                      {"DashboardName": "blue-ha-web"})
    stub.add_client_error("get_dashboard", service_error_code="ResourceNotFound", http_status_code=404,
                          expected_params={"DashboardName": "green-ha-web"})
    with stub:
        found = describe_stack(None, None, None, "blue", ["dashboard"], cloudwatch=Retrying(cloudwatch))["dashboard"]
        missing = describe_stack(None, None, None, "green", ["dashboard"], cloudwatch=Retrying(cloudwatch))["dashboard"]
    stub.assert_no_pending_responses()
    assert (found["name"], found["exists"], found["ours"], found["arn"], found["body"]) == ("blue-ha-web", True, True, "arn:d", body)
    assert found["url"].endswith("?region=ap-northeast-2#dashboards:name=blue-ha-web")
    assert (missing["name"], missing["exists"], missing["ours"]) == ("green-ha-web", False, False)
