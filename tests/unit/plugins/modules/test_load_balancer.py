"""The load_balancer module end to end against an in-process moto: fresh, rerun (no change, no
mutating call), check mode, validation message, two stacks, drift repair, absent twice."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from moto import mock_aws

from ansible.module_utils.testing import patch_module_args

from ansible_collections.immersionday.ha_web.plugins.modules import load_balancer

REGION = "ap-northeast-2"


@pytest.fixture
def cloud(monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        networks = {}
        for stack in ("lab", "blue"):
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=REGION + az)["Subnet"]["SubnetId"]
                       for cidr, az in (("10.0.10.0/24", "a"), ("10.0.20.0/24", "c"))]
            networks[stack] = (vpc, subnets)
        yield ec2, boto3.client("elbv2", region_name=REGION), networks


def run(capsys, **args):
    args.setdefault("region", REGION)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            load_balancer.main()
    return json.loads(capsys.readouterr().out)


def present_args(networks, stack="lab", **extra):
    vpc, subnets = networks[stack]
    prefix = "" if stack == "lab" else stack + "-"
    args = dict(stack_name=stack, vpc_id=vpc, subnet_ids=subnets, load_balancer_name=prefix + "Web-ALB",
                target_group_name=prefix + "Web-TG", security_group_name=prefix + "Web-ALB-SG")
    args.update(extra)
    return args


def test_fresh_rerun_check_and_absent_twice(cloud, capsys):
    ec2, elbv2, networks = cloud
    check = run(capsys, _ansible_check_mode=True, _ansible_diff=True, **present_args(networks))
    assert check["changed"] and check["alb"]["load_balancer_arn"] == ""
    assert check["diff"]["prepared"].startswith("~ create security group Web-ALB-SG\n")
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []

    first = run(capsys, **present_args(networks))
    assert first["changed"] and first["alb"]["state"] == "active"
    assert first["alb"]["url"] == "http://%s/" % first["alb"]["dns_name"]
    balancer = elbv2.describe_load_balancers(Names=["Web-ALB"])["LoadBalancers"][0]
    assert (balancer["Scheme"], balancer["Type"], balancer["SecurityGroups"]) == ("internet-facing", "application", [first["alb"]["security_group_id"]])
    assert sorted(az["SubnetId"] for az in balancer["AvailabilityZones"]) == sorted(networks["lab"][1])
    listener = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"][0]
    assert (listener["Port"], listener["Protocol"], listener["DefaultActions"][0]["TargetGroupArn"]) == (80, "HTTP", first["alb"]["target_group_arn"])

    second = run(capsys, **present_args(networks))
    assert not second["changed"] and second["alb"] == first["alb"]

    blue = run(capsys, **present_args(networks, "blue"))
    assert blue["changed"] and blue["alb"]["load_balancer_arn"] != first["alb"]["load_balancer_arn"]

    gone = run(capsys, stack_name="lab", state="absent")
    assert gone["changed"] and gone["alb"]["state"] == "absent"
    again = run(capsys, stack_name="lab", state="absent")
    assert not again["changed"]
    assert [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]] == ["blue-Web-ALB"]
    assert [tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]] == ["blue-Web-TG"]
    names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert "Web-ALB-SG" not in names and "blue-Web-ALB-SG" in names


def test_hand_made_rule_is_revoked(cloud, capsys):
    ec2, _elbv2, networks = cloud
    first = run(capsys, **present_args(networks))
    sg = first["alb"]["security_group_id"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                                     "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    repaired = run(capsys, **present_args(networks))
    assert repaired["changes"] == ["revoke 1 unwanted ingress rule(s) from Web-ALB-SG"]
    perms = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    assert [(p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in perms] == [(80, ["0.0.0.0/0"])]


def test_validation_fails_before_any_call(cloud, capsys):
    _ec2, elbv2, networks = cloud
    result = run(capsys, **present_args(networks, load_balancer_name="internal-Web-ALB", subnet_ids=networks["lab"][1][:1]))
    assert result["failed"]
    assert result["msg"] == (
        "load_balancer_name 'internal-Web-ALB' must not start with 'internal-'; "
        "subnet_ids needs at least 2 distinct subnets in different availability zones (got 1)"
    )
    assert elbv2.describe_target_groups()["TargetGroups"] == []
