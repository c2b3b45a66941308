"""stack_info's alb part against an in-process moto: what the alb role compares with what it wants
(security group rules, target group health check, load balancer subnets, attributes, listeners
in elb_application_lb's shape, tags), and the keys the ha_web_alb fact had before."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from moto import mock_aws

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import describe_stack
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import ingress_rules
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import listener_spec

from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info import REGION, Retrying, build_network, tags

FACT_KEYS = {"dns_name", "url", "load_balancer_arn", "target_group_arn", "listener_arn", "security_group_id", "state"}
TG_ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/Web-TG/0123456789abcdef"


@pytest.fixture
def clients():
    with mock_aws():
        yield (boto3.client("ec2", region_name=REGION), boto3.client("elbv2", region_name=REGION),
               boto3.client("autoscaling", region_name=REGION))


def build_alb(ec2, elbv2, stack, vpc, subnets, certificate=None):
    sg = ec2.create_security_group(GroupName="Web-ALB-SG", Description="HTTP from anywhere to Web-ALB", VpcId=vpc,
                                   TagSpecifications=[{"ResourceType": "security-group", "Tags": tags(stack, "alb-sg", "Web-ALB-SG")}])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    tg = elbv2.create_target_group(Name="Web-TG", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance", HealthCheckPath="/health",
                                   HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5, HealthyThresholdCount=2,
                                   UnhealthyThresholdCount=2, Matcher={"HttpCode": "200"},
                                   Tags=tags(stack, "target-group", "Web-TG"))["TargetGroups"][0]["TargetGroupArn"]
    lb = elbv2.create_load_balancer(Name="Web-ALB", Subnets=[subnets["public-subnet-c"], subnets["public-subnet-a"]], SecurityGroups=[sg],
                                    Scheme="internet-facing", Tags=tags(stack, "alb", "Web-ALB"))["LoadBalancers"][0]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=lb["LoadBalancerArn"], Attributes=[
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}])
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    if certificate:
        redirect = {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                              Certificates=[{"CertificateArn": certificate}], DefaultActions=forward)
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "redirect", "RedirectConfig": redirect}])
    else:
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=forward)
    return sg, tg, lb


def alb_of(clients, stack="lab"):
    ec2, elbv2, autoscaling = clients
    return describe_stack(Retrying(ec2), Retrying(elbv2), Retrying(autoscaling), stack, ["alb"])["alb"]


def test_what_the_role_compares(clients):
    ec2, elbv2, _autoscaling = clients
    vpc, subnets, _nat, _eip = build_network(ec2, "lab")
    sg, tg, lb = build_alb(ec2, elbv2, "lab", vpc, subnets)
    alb = alb_of(clients)
    assert FACT_KEYS <= set(alb)
    assert alb["url"] == "http://%s/" % lb["DNSName"] and alb["https_listener_arn"] is None
    group = alb["security_group"]
    assert (group["group_id"], group["name"], group["vpc_id"]) == (sg, "Web-ALB-SG", vpc)
    assert group["ingress"] == ["tcp 80 0.0.0.0/0", "tcp 80 ::/0"]
    assert group["tags"] == {"ha_web:stack": "lab", "ha_web:component": "alb-sg", "Name": "Web-ALB-SG"}
    target = alb["target_group"]
    assert (target["arn"], target["name"], target["protocol"], target["port"], target["vpc_id"], target["target_type"]) == (
        tg, "Web-TG", "HTTP", 80, vpc, "instance")
    assert target["health_check"] == {"protocol": "HTTP", "port": "traffic-port", "path": "/health", "interval": 10, "timeout": 5,
                                      "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200"}
    balancer = alb["load_balancer"]
    assert (balancer["arn"], balancer["name"], balancer["scheme"], balancer["type"], balancer["vpc_id"]) == (
        lb["LoadBalancerArn"], "Web-ALB", "internet-facing", "application", vpc)
    assert balancer["subnet_ids"] == [subnets["public-subnet-a"], subnets["public-subnet-c"]]  # AZ order
    assert balancer["security_group_ids"] == [sg]
    assert balancer["deletion_protection"] is False and balancer["drop_invalid_header_fields"] is True
    # The HTTP listener as elb_application_lb's `listeners` option takes it: no SslPolicy (moto answers one).
    assert balancer["listeners"] == [{"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "forward", "TargetGroupName": "Web-TG"}]}]
    assert balancer["tags"]["ha_web:component"] == "alb"


def test_https_listener_and_redirect(clients):
    ec2, elbv2, _autoscaling = clients
    vpc, subnets, _nat, _eip = build_network(ec2, "lab")
    certificate = boto3.client("acm", region_name=REGION).request_certificate(DomainName="lab.example.com")["CertificateArn"]
    _sg, _tg, lb = build_alb(ec2, elbv2, "lab", vpc, subnets, certificate=certificate)
    alb = alb_of(clients)
    assert alb["url"] == "https://%s/" % lb["DNSName"]
    assert alb["https_listener_arn"] and alb["listener_arn"] and alb["https_listener_arn"] != alb["listener_arn"]
    assert alb["load_balancer"]["listeners"] == [
        {"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "redirect", "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}]},
        {"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "Certificates": [{"CertificateArn": certificate}],
         "DefaultActions": [{"Type": "forward", "TargetGroupName": "Web-TG"}]},
    ]


def test_a_deleted_security_group_whose_tags_moto_keeps_is_not_found(clients):
    ec2, elbv2, _autoscaling = clients
    vpc, _subnets, _nat, _eip = build_network(ec2, "lab")
    sg = ec2.create_security_group(GroupName="Web-ALB-SG", Description="x", VpcId=vpc,
                                   TagSpecifications=[{"ResourceType": "security-group", "Tags": tags("lab", "alb-sg")}])["GroupId"]
    ec2.delete_security_group(GroupId=sg)
    assert alb_of(clients) is None


def test_only_the_stacks_own_resources(clients):
    ec2, elbv2, _autoscaling = clients
    vpc, subnets, _nat, _eip = build_network(ec2, "blue")
    build_alb(ec2, elbv2, "blue", vpc, subnets)
    assert alb_of(clients, "lab") is None
    assert alb_of(clients, "blue")["load_balancer"]["name"] == "Web-ALB"


def test_ingress_rules_of_every_source_kind():
    group = {"IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "x"}]},
        {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-1"}]},
        {"IpProtocol": "-1", "PrefixListIds": [{"PrefixListId": "pl-1"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ]}
    assert ingress_rules(group) == ["-1 all ::/0", "-1 all pl-1", "icmp all 0.0.0.0/0", "tcp 80 10.0.0.0/8", "tcp 8000-8080 sg-1"]


def test_listener_spec_as_aws_answers_it():
    # AWS answers a simple forward with both TargetGroupArn and ForwardConfig, and an Order.
    listener = {"Port": 80, "Protocol": "HTTP", "DefaultActions": [{
        "Type": "forward", "Order": 1, "TargetGroupArn": TG_ARN,
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG_ARN, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}]}
    assert listener_spec(listener, {TG_ARN: "Web-TG"}) == {
        "Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "forward", "TargetGroupName": "Web-TG"}]}
    # A target group the stack does not know keeps its ARN; a weighted forward stays as it is.
    assert listener_spec(listener, {})["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": TG_ARN}]
    weighted = {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG_ARN}, {"TargetGroupArn": TG_ARN + "2"}]}}
    assert listener_spec({"Port": 80, "Protocol": "HTTP", "DefaultActions": [weighted]}, {TG_ARN: "Web-TG"})["DefaultActions"] == [weighted]


def test_an_untagged_target_group_in_the_stacks_vpc(clients):
    # community.aws.elb_target_group creates a group, then tags it: a killed run leaves it untagged.
    ec2, elbv2, _autoscaling = clients
    vpc, _subnets, _nat, _eip = build_network(ec2, "lab")
    other_vpc, _s, _n, _e = build_network(ec2, "blue")
    tg = elbv2.create_target_group(Name="Web-TG", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_target_group(Name="Other-TG", Protocol="HTTP", Port=80, VpcId=other_vpc)
    elbv2.create_target_group(Name="Blue-TG", Protocol="HTTP", Port=80, VpcId=vpc, Tags=tags("blue", "target-group"))
    alb = alb_of(clients)
    assert alb["target_group"] is None and alb["target_group_arn"] is None
    assert [(g["arn"], g["name"], g["tags"]) for g in alb["untagged_target_groups"]] == [(tg, "Web-TG", {})]
    # Once tagged, it is the stack's target group and no longer listed.
    elbv2.add_tags(ResourceArns=[tg], Tags=tags("lab", "target-group"))
    alb = alb_of(clients)
    assert alb["target_group"]["arn"] == tg and alb["untagged_target_groups"] == []
