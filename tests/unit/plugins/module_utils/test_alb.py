"""module_utils/alb.py with botocore Stubber: real-AWS behaviour (provisioning -> active, failed
state, ResourceInUse, DependencyViolation, throttling), exact create arguments, the no-op path."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import time

import boto3
import pytest
from botocore.stub import ANY
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import alb
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator

REGION = "ap-northeast-2"
VPC = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0cccccccccccccccc"]
SG = "sg-0123456789abcdef0"
TG_ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/Web-TG/0123456789abcdef"
LB_ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/Web-ALB/0123456789abcdef"
LS_ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:listener/app/Web-ALB/0123456789abcdef/0123456789abcdef"
LS443_ARN = LS_ARN[:-4] + "4430"
CERT = "arn:aws:acm:ap-northeast-2:123456789012:certificate/00000000-0000-0000-0000-000000000000"
DNS = "Web-ALB-1234567890.ap-northeast-2.elb.amazonaws.com"

PARAMS = dict(
    stack_name="lab", state="present", vpc_id=VPC, subnet_ids=list(SUBNETS), security_group_name="Web-ALB-SG",
    security_group_description="HTTP from anywhere to Web-ALB", security_group_rule_description="HTTP from anywhere",
    ingress_cidrs=["0.0.0.0/0"], target_group_name="Web-TG", health_check_path="/health", health_check_interval=10,
    health_check_timeout=5, healthy_threshold=2, unhealthy_threshold=2, health_check_matcher="200",
    load_balancer_name="Web-ALB", deletion_protection=False, drop_invalid_header_fields=True, certificate_arn=None,
    ssl_policy=alb.DEFAULT_SSL_POLICY, force=False, wait=True, wait_timeout=600, poll_interval=5, tags={},
)

SG_TAGS = [{"Key": "ha_web:stack", "Value": "lab"}, {"Key": "Name", "Value": "Web-ALB-SG"}, {"Key": "ha_web:component", "Value": "alb-sg"}]
TG_TAGS = [{"Key": "Name", "Value": "Web-TG"}, {"Key": "ha_web:component", "Value": "target-group"}, {"Key": "ha_web:stack", "Value": "lab"}]
LB_TAGS = [{"Key": "Name", "Value": "Web-ALB"}, {"Key": "ha_web:component", "Value": "alb"}, {"Key": "ha_web:stack", "Value": "lab"}]
SG_FILTERS = [
    {"Name": "vpc-id", "Values": [VPC]},
    {"Name": "tag:ha_web:stack", "Values": ["lab"]},
    {"Name": "tag:ha_web:component", "Values": ["alb-sg"]},
]


def params(**overrides):
    result = copy.deepcopy(PARAMS)
    result.update(overrides)
    return result


@pytest.fixture
def sleeps(monkeypatch):
    calls = []
    monkeypatch.setattr(time, "sleep", calls.append)
    return calls


@pytest.fixture
def aws():
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    elbv2 = boto3.client("elbv2", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(ec2) as ec2_stub, Stubber(elbv2) as elb_stub:
        yield (
            RetryingBotoClientWrapper(ec2, retry_decorator()), ec2_stub,
            RetryingBotoClientWrapper(elbv2, retry_decorator()), elb_stub,
        )
        ec2_stub.assert_no_pending_responses()
        elb_stub.assert_no_pending_responses()


def sg_description(rules=(("tcp", 80, "0.0.0.0/0"),)):
    return {
        "GroupId": SG, "GroupName": "Web-ALB-SG", "VpcId": VPC, "Description": "HTTP from anywhere to Web-ALB", "Tags": SG_TAGS,
        "IpPermissions": [{"IpProtocol": p, "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": cidr}]} for p, port, cidr in rules],
    }


def tg_description(**overrides):
    group = {
        "TargetGroupArn": TG_ARN, "TargetGroupName": "Web-TG", "Protocol": "HTTP", "Port": 80, "VpcId": VPC, "TargetType": "instance",
        "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port", "HealthCheckEnabled": True, "HealthCheckPath": "/health",
        "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
        "Matcher": {"HttpCode": "200"}, "LoadBalancerArns": [LB_ARN],
    }
    group.update(overrides)
    return group


def lb_description(state="active", **overrides):
    balancer = {
        "LoadBalancerArn": LB_ARN, "LoadBalancerName": "Web-ALB", "DNSName": DNS, "Scheme": "internet-facing", "VpcId": VPC,
        "State": {"Code": state}, "Type": "application", "IpAddressType": "ipv4", "SecurityGroups": [SG],
        "AvailabilityZones": [{"ZoneName": REGION + "a", "SubnetId": SUBNETS[0]}, {"ZoneName": REGION + "c", "SubnetId": SUBNETS[1]}],
    }
    balancer.update(overrides)
    return balancer


def attributes(protection="false", drop="true"):
    return {"Attributes": [
        {"Key": "deletion_protection.enabled", "Value": protection},
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": drop},
        {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
    ]}


def forward_listener():
    return {
        "ListenerArn": LS_ARN, "LoadBalancerArn": LB_ARN, "Port": 80, "Protocol": "HTTP",
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": TG_ARN, "Order": 1,
                            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG_ARN, "Weight": 1}]}}],
    }


def stub_lookup_existing(ec2_stub, elb_stub, tg=None, lb=None, sg=None, listeners=None, attrs=None):
    """The six Describe calls of a run on an existing stack, in the module's order."""
    elb_stub.add_response("describe_target_groups", {"TargetGroups": [tg or tg_description()]}, {"Names": ["Web-TG"]})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb or lb_description()]}, {"Names": ["Web-ALB"]})
    elb_stub.add_response(
        "describe_tags",
        {"TagDescriptions": [{"ResourceArn": TG_ARN, "Tags": TG_TAGS}, {"ResourceArn": LB_ARN, "Tags": LB_TAGS}]},
        {"ResourceArns": [TG_ARN, LB_ARN]},
    )
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [sg or sg_description()]}, {"Filters": SG_FILTERS})
    elb_stub.add_response("describe_load_balancer_attributes", attrs or attributes(), {"LoadBalancerArn": LB_ARN})
    elb_stub.add_response("describe_listeners", {"Listeners": listeners if listeners is not None else [forward_listener()]},
                          {"LoadBalancerArn": LB_ARN})


def stub_lookup_missing(elb_stub):
    elb_stub.add_client_error("describe_target_groups", "TargetGroupNotFound", http_status_code=400, expected_params={"Names": ["Web-TG"]})
    elb_stub.add_client_error("describe_load_balancers", "LoadBalancerNotFound", http_status_code=400, expected_params={"Names": ["Web-ALB"]})
    elb_stub.add_response("describe_target_groups", {"TargetGroups": []}, {})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": []}, {})


# ---------------------------------------------------------------- validation


def test_defaults_are_valid():
    alb.validate(params())


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"load_balancer_name": "a" * 33}, "load_balancer_name '%s' must be at most 32 characters (got 33)" % ("a" * 33)),
        ({"target_group_name": "Web_TG"}, "target_group_name 'Web_TG' may contain only alphanumerics and hyphens"),
        ({"target_group_name": "-Web-TG"}, "target_group_name '-Web-TG' must not start or end with a hyphen"),
        ({"load_balancer_name": "Web-ALB-"}, "load_balancer_name 'Web-ALB-' must not start or end with a hyphen"),
        ({"load_balancer_name": "internal-web"}, "load_balancer_name 'internal-web' must not start with 'internal-'"),
        ({"subnet_ids": SUBNETS[:1]}, "subnet_ids needs at least 2 distinct subnets in different availability zones (got 1)"),
        ({"subnet_ids": [SUBNETS[0], SUBNETS[0]]}, "subnet_ids needs at least 2 distinct subnets in different availability zones (got 1)"),
        ({"vpc_id": None}, "vpc_id is required with state=present"),
        ({"ingress_cidrs": ["10.0.0.1/8"]}, "ingress_cidrs entry '10.0.0.1/8' is not a valid network CIDR"),
        ({"health_check_timeout": 10}, "health_check_timeout 10 must be less than health_check_interval 10"),
        ({"healthy_threshold": 1}, "healthy_threshold 1 must be between 2 and 10"),
        ({"health_check_path": "health"}, "health_check_path 'health' must start with '/' and be at most 1024 characters"),
        ({"health_check_matcher": "ok"}, "health_check_matcher 'ok' must be HTTP codes such as '200', '200,302' or '200-299'"),
    ],
)
def test_validation_messages(overrides, message):
    with pytest.raises(alb.AlbError) as e:
        alb.validate(params(**overrides))
    assert str(e.value) == message


def test_validation_lists_every_problem_and_absent_checks_names_only():
    with pytest.raises(alb.AlbError) as e:
        alb.validate(params(load_balancer_name="internal-x", subnet_ids=[]))
    assert str(e.value) == (
        "load_balancer_name 'internal-x' must not start with 'internal-'; "
        "subnet_ids needs at least 2 distinct subnets in different availability zones (got 0)"
    )
    alb.validate(params(state="absent", vpc_id=None, subnet_ids=[]))


def test_validation_happens_before_any_call(aws):
    ec2, _ec2_stub, elbv2, _elb_stub = aws  # no response queued: any call would fail the stubber
    with pytest.raises(alb.AlbError):
        alb.present(ec2, elbv2, params(target_group_name="x" * 40), check_mode=False)


# ---------------------------------------------------------------- pure helpers


def test_ip_permissions_and_rules():
    wanted = alb.wanted_ingress(params(certificate_arn=CERT, ingress_cidrs=["0.0.0.0/0", "::/0"]))
    assert wanted == {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "::/0"), ("tcp", 443, 443, "::/0")}
    assert alb.ip_permissions({("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 80, 80, "::/0")}, "HTTP from anywhere") == [
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "HTTP from anywhere"}]},
    ]
    group = {"IpPermissions": [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}], "UserIdGroupPairs": [{"GroupId": "sg-1"}]},
    ]}
    current = alb.current_ingress(group)
    assert current == {("-1", None, None, "10.0.0.0/8"), ("-1", None, None, "sg:sg-1")}
    assert alb.ip_permissions(current) == [
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-1"}]},
    ]


def test_listener_drift_ignores_defaults_aws_fills_in():
    wanted = alb.wanted_listeners(params(certificate_arn=CERT), TG_ARN)
    aws_http = {"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "redirect", "Order": 1, "RedirectConfig": {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}}]}
    aws_https = {"Protocol": "HTTPS", "Port": 443, "SslPolicy": alb.DEFAULT_SSL_POLICY, "Certificates": [{"CertificateArn": CERT}],
                 "DefaultActions": forward_listener()["DefaultActions"]}
    assert not alb.listener_drift(wanted[80], aws_http)
    assert not alb.listener_drift(wanted[443], aws_https)
    assert alb.listener_drift(wanted[443], dict(aws_https, SslPolicy="ELBSecurityPolicy-2016-08"))
    assert alb.listener_drift(wanted[80], forward_listener())
    assert not alb.listener_drift(alb.wanted_listeners(params(), TG_ARN)[80], forward_listener())


def test_health_check_drift():
    assert alb.health_check_drift(params(), tg_description()) == {}
    assert alb.health_check_drift(params(), tg_description(HealthCheckPath="/", Matcher={"HttpCode": "200-399"})) == {
        "HealthCheckPath": "/health", "Matcher": {"HttpCode": "200"}}


# ---------------------------------------------------------------- present


def stub_fresh_creates(ec2_stub, elb_stub, lb_state="provisioning"):
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS})
    ec2_stub.add_response("create_security_group", {"GroupId": SG}, {
        "GroupName": "Web-ALB-SG", "Description": "HTTP from anywhere to Web-ALB", "VpcId": VPC,
        "TagSpecifications": [{"ResourceType": "security-group", "Tags": [
            {"Key": "ha_web:stack", "Value": "lab"}, {"Key": "Name", "Value": "Web-ALB-SG"}, {"Key": "ha_web:component", "Value": "alb-sg"}]}],
    })
    ec2_stub.add_client_error("authorize_security_group_ingress", "InvalidGroup.NotFound", http_status_code=400)  # eventual consistency
    ec2_stub.add_response("authorize_security_group_ingress", {"Return": True}, {"GroupId": SG, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere"}]}]})
    elb_stub.add_response("create_target_group", {"TargetGroups": [tg_description(LoadBalancerArns=[])]}, {
        "Name": "Web-TG", "Protocol": "HTTP", "Port": 80, "VpcId": VPC, "TargetType": "instance",
        "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port", "HealthCheckEnabled": True, "HealthCheckPath": "/health",
        "HealthCheckIntervalSeconds": 10, "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
        "Matcher": {"HttpCode": "200"},
        "Tags": [{"Key": "Name", "Value": "Web-TG"}, {"Key": "ha_web:component", "Value": "target-group"}, {"Key": "ha_web:stack", "Value": "lab"}],
    })
    elb_stub.add_response("create_load_balancer", {"LoadBalancers": [lb_description(state=lb_state)]}, {
        "Name": "Web-ALB", "Subnets": SUBNETS, "SecurityGroups": [SG], "Scheme": "internet-facing", "Type": "application",
        "IpAddressType": "ipv4",
        "Tags": [{"Key": "Name", "Value": "Web-ALB"}, {"Key": "ha_web:component", "Value": "alb"}, {"Key": "ha_web:stack", "Value": "lab"}],
    })
    elb_stub.add_response("modify_load_balancer_attributes", {}, {"LoadBalancerArn": LB_ARN, "Attributes": [
        {"Key": "deletion_protection.enabled", "Value": "false"},
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]})
    elb_stub.add_response("create_listener", {"Listeners": [forward_listener()]}, {
        "LoadBalancerArn": LB_ARN, "Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "forward", "TargetGroupArn": TG_ARN}]})


def test_fresh_stack_exact_create_calls_and_wait_until_active(aws, sleeps):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_lookup_missing(elb_stub)
    stub_fresh_creates(ec2_stub, elb_stub)
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description("provisioning")]}, {"LoadBalancerArns": [LB_ARN]})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description("active")]}, {"LoadBalancerArns": [LB_ARN]})

    plan, fact = alb.present(ec2, elbv2, params(), check_mode=False)

    assert plan.changes == ["create security group Web-ALB-SG", "create target group Web-TG", "create load balancer Web-ALB",
                            "create listener HTTP:80"]
    assert fact == {"dns_name": DNS, "load_balancer_arn": LB_ARN, "target_group_arn": TG_ARN, "listener_arn": LS_ARN,
                    "https_listener_arn": "", "security_group_id": SG, "url": "http://%s/" % DNS, "state": "active"}
    assert sleeps == [5, 5]  # the new SG not yet visible once, then provisioning -> active


def test_fresh_stack_check_mode_mutates_nothing(aws):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_lookup_missing(elb_stub)
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS})
    plan, fact = alb.present(ec2, elbv2, params(), check_mode=True)
    assert plan.changed
    assert plan.changes == ["create security group Web-ALB-SG", "create target group Web-TG", "create load balancer Web-ALB",
                            "create listener HTTP:80"]
    assert fact["load_balancer_arn"] == "" and fact["state"] == "absent"


def test_noop_run_is_six_describe_calls(aws, sleeps):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_lookup_existing(ec2_stub, elb_stub)
    plan, fact = alb.present(ec2, elbv2, params(), check_mode=False)
    assert not plan.changed and plan.changes == []
    assert fact["listener_arn"] == LS_ARN and fact["state"] == "active"
    assert sleeps == []


def test_throttled_describe_is_retried(aws, sleeps):
    ec2, ec2_stub, elbv2, elb_stub = aws
    elb_stub.add_client_error("describe_target_groups", "Throttling", http_status_code=400, expected_params={"Names": ["Web-TG"]})
    stub_lookup_existing(ec2_stub, elb_stub)
    plan, _fact = alb.present(ec2, elbv2, params(), check_mode=False)
    assert not plan.changed
    assert len(sleeps) == 1


def test_drift_is_repaired_and_targets_never_touched(aws):
    ec2, ec2_stub, elbv2, elb_stub = aws
    other = "sg-0ffffffffffffffff"
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [sg_description(rules=(("tcp", 80, "0.0.0.0/0"), ("tcp", 22, "10.0.0.0/8")))]},
                          {"Filters": SG_FILTERS})
    ec2_stub.add_response("revoke_security_group_ingress", {"Return": True}, {"GroupId": SG, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]})
    elb_stub.add_response("describe_target_groups", {"TargetGroups": [tg_description(HealthCheckIntervalSeconds=30)]}, {"Names": ["Web-TG"]})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description(SecurityGroups=[SG, other])]}, {"Names": ["Web-ALB"]})
    elb_stub.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": TG_ARN, "Tags": TG_TAGS}, {"ResourceArn": LB_ARN, "Tags": LB_TAGS}]},
                          {"ResourceArns": [TG_ARN, LB_ARN]})
    elb_stub.add_response("modify_target_group", {}, {"TargetGroupArn": TG_ARN, "HealthCheckIntervalSeconds": 10})
    elb_stub.add_response("set_security_groups", {}, {"LoadBalancerArn": LB_ARN, "SecurityGroups": [SG]})
    elb_stub.add_response("describe_load_balancer_attributes", attributes(drop="false"), {"LoadBalancerArn": LB_ARN})
    elb_stub.add_response("modify_load_balancer_attributes", {}, {"LoadBalancerArn": LB_ARN, "Attributes": [
        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}]})
    elb_stub.add_response("describe_listeners", {"Listeners": [dict(forward_listener(), DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}])]}, {"LoadBalancerArn": LB_ARN})
    elb_stub.add_response("modify_listener", {}, {"ListenerArn": LS_ARN, "Protocol": "HTTP",
                                                  "DefaultActions": [{"Type": "forward", "TargetGroupArn": TG_ARN}]})

    plan, _fact = alb.present(ec2, elbv2, params(), check_mode=False)
    assert plan.changes == [
        "revoke 1 unwanted ingress rule(s) from Web-ALB-SG",
        "modify target group Web-TG health check: HealthCheckIntervalSeconds",
        "set security groups of Web-ALB",
        "set attributes of Web-ALB: routing.http.drop_invalid_header_fields.enabled=true",
        "modify listener HTTP:80",
    ]
    # register_targets / deregister_targets / describe_target_health were never stubbed: never called.


def test_https_listener_created_before_http_redirect(aws):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_lookup_existing(ec2_stub, elb_stub)
    ec2_stub.add_response("authorize_security_group_ingress", {"Return": True}, {"GroupId": SG, "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP from anywhere"}]}]})
    elb_stub.add_response("create_listener", {"Listeners": [dict(forward_listener(), ListenerArn=LS443_ARN, Port=443)]}, {
        "LoadBalancerArn": LB_ARN, "Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "Certificates": [{"CertificateArn": CERT}], "DefaultActions": [{"Type": "forward", "TargetGroupArn": TG_ARN}]})
    elb_stub.add_response("modify_listener", {}, {"ListenerArn": LS_ARN, "Protocol": "HTTP", "DefaultActions": [
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]})
    plan, fact = alb.present(ec2, elbv2, params(certificate_arn=CERT), check_mode=False)
    assert plan.changes == ["authorize 1 ingress rule(s) on Web-ALB-SG", "create listener HTTPS:443", "modify listener HTTP:80"]
    assert fact["https_listener_arn"] == LS443_ARN and fact["url"] == "https://%s/" % DNS


def test_failed_load_balancer_reports_its_reason(aws, sleeps):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_lookup_missing(elb_stub)
    stub_fresh_creates(ec2_stub, elb_stub)
    failed = lb_description("failed")
    failed["State"]["Reason"] = "Insufficient capacity in ap-northeast-2c"
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [failed]}, {"LoadBalancerArns": [LB_ARN]})
    with pytest.raises(alb.AlbError) as e:
        alb.present(ec2, elbv2, params(), check_mode=False)
    assert str(e.value) == "load balancer Web-ALB failed: Insufficient capacity in ap-northeast-2c"


def test_wait_timeout_message(aws, sleeps):
    _ec2, _ec2_stub, elbv2, elb_stub = aws
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description("provisioning")]}, {"LoadBalancerArns": [LB_ARN]})
    with pytest.raises(alb.AlbError) as e:
        alb.wait_active(elbv2, LB_ARN, 0, 5)
    assert str(e.value) == "load balancer %s not active after 0s (state provisioning); raise wait_timeout or set wait=false" % LB_ARN


def test_name_taken_by_another_stack(aws):
    ec2, _ec2_stub, elbv2, elb_stub = aws
    elb_stub.add_response("describe_target_groups", {"TargetGroups": [tg_description()]}, {"Names": ["Web-TG"]})
    elb_stub.add_client_error("describe_load_balancers", "LoadBalancerNotFound", http_status_code=400)
    elb_stub.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": TG_ARN, "Tags": [{"Key": "ha_web:stack", "Value": "blue"}]}]},
                          {"ResourceArns": [TG_ARN]})
    with pytest.raises(alb.AlbError) as e:
        alb.present(ec2, elbv2, params(), check_mode=False)
    assert str(e.value) == (
        "a target group named Web-TG already exists and does not belong to stack lab (its ha_web:stack tag is blue): "
        "choose another target_group_name or remove it"
    )


# ---------------------------------------------------------------- absent


def stub_absent_lookup(ec2_stub, elb_stub, protection="false"):
    elb_stub.add_response("describe_target_groups", {"TargetGroups": [tg_description()]}, {"Names": ["Web-TG"]})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description()]}, {"Names": ["Web-ALB"]})
    elb_stub.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": TG_ARN, "Tags": TG_TAGS}, {"ResourceArn": LB_ARN, "Tags": LB_TAGS}]},
                          {"ResourceArns": [TG_ARN, LB_ARN]})
    elb_stub.add_response("describe_load_balancer_attributes", attributes(protection=protection), {"LoadBalancerArn": LB_ARN})


def test_absent_in_dependency_order_with_real_aws_delays(aws, sleeps):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_absent_lookup(ec2_stub, elb_stub)
    elb_stub.add_response("describe_listeners", {"Listeners": [forward_listener()]}, {"LoadBalancerArn": LB_ARN})
    elb_stub.add_response("delete_listener", {}, {"ListenerArn": LS_ARN})
    elb_stub.add_response("delete_load_balancer", {}, {"LoadBalancerArn": LB_ARN})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": [lb_description()]}, {"LoadBalancerArns": [LB_ARN]})
    elb_stub.add_client_error("describe_load_balancers", "LoadBalancerNotFound", http_status_code=400,
                              expected_params={"LoadBalancerArns": [LB_ARN]})
    elb_stub.add_client_error("delete_target_group", "ResourceInUse", http_status_code=400, expected_params={"TargetGroupArn": TG_ARN})
    elb_stub.add_response("delete_target_group", {}, {"TargetGroupArn": TG_ARN})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": [sg_description()]}, {"Filters": SG_FILTERS[1:]})
    ec2_stub.add_client_error("delete_security_group", "DependencyViolation", http_status_code=400, expected_params={"GroupId": SG})
    ec2_stub.add_client_error("delete_security_group", "DependencyViolation", http_status_code=400, expected_params={"GroupId": SG})
    ec2_stub.add_response("delete_security_group", {}, {"GroupId": SG})

    plan = alb.absent(ec2, elbv2, params(state="absent"), check_mode=False)
    assert plan.changes == ["delete listener HTTP:80 of Web-ALB", "delete load balancer Web-ALB", "delete target group Web-TG",
                            "delete security group Web-ALB-SG (%s)" % SG]
    assert sleeps == [5, 5, 5, 5]  # one for the balancer, one for the target group, two for the security group


def test_absent_refuses_deletion_protection_unless_forced(aws, sleeps):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_absent_lookup(ec2_stub, elb_stub, protection="true")
    with pytest.raises(alb.AlbError) as e:
        alb.absent(ec2, elbv2, params(state="absent"), check_mode=False)
    assert str(e.value) == (
        "load balancer Web-ALB has deletion protection on: set deletion_protection=false with state=present first, "
        "or force=true to turn it off and delete"
    )
    stub_absent_lookup(ec2_stub, elb_stub, protection="true")
    elb_stub.add_response("modify_load_balancer_attributes", {}, {"LoadBalancerArn": LB_ARN, "Attributes": [
        {"Key": "deletion_protection.enabled", "Value": "false"}]})
    elb_stub.add_response("describe_listeners", {"Listeners": []}, {"LoadBalancerArn": LB_ARN})
    elb_stub.add_response("delete_load_balancer", {}, {"LoadBalancerArn": LB_ARN})
    elb_stub.add_client_error("describe_load_balancers", "LoadBalancerNotFound", http_status_code=400)
    elb_stub.add_response("delete_target_group", {}, {"TargetGroupArn": TG_ARN})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS[1:]})
    plan = alb.absent(ec2, elbv2, params(state="absent", force=True), check_mode=False)
    assert plan.changes[0] == "turn off deletion protection of Web-ALB"


def test_absent_when_nothing_is_left_mutates_nothing(aws):
    ec2, ec2_stub, elbv2, elb_stub = aws
    stub_lookup_missing(elb_stub)
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": SG_FILTERS[1:]})
    plan = alb.absent(ec2, elbv2, params(state="absent"), check_mode=False)
    assert not plan.changed


def test_absent_finds_renamed_resources_by_tags(aws):
    ec2, ec2_stub, elbv2, elb_stub = aws
    elb_stub.add_client_error("describe_target_groups", "TargetGroupNotFound", http_status_code=400)
    elb_stub.add_client_error("describe_load_balancers", "LoadBalancerNotFound", http_status_code=400)
    elb_stub.add_response("describe_target_groups", {"TargetGroups": [tg_description(TargetGroupName="old-TG"),
                                                                      tg_description(TargetGroupArn=TG_ARN + "x", TargetGroupName="other")]}, {})
    elb_stub.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": TG_ARN, "Tags": TG_TAGS},
                                                                {"ResourceArn": TG_ARN + "x", "Tags": [{"Key": "ha_web:stack", "Value": "blue"}]}]},
                          {"ResourceArns": [TG_ARN, TG_ARN + "x"]})
    elb_stub.add_response("describe_load_balancers", {"LoadBalancers": []}, {})
    elb_stub.add_response("delete_target_group", {}, {"TargetGroupArn": TG_ARN})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": ANY})
    plan = alb.absent(ec2, elbv2, params(state="absent"), check_mode=False)
    assert plan.changes == ["delete target group old-TG"]


def test_check_mode_on_a_fresh_stack_accepts_the_network_that_is_only_planned():
    planned = dict(vpc_id=None, subnet_ids=[None, None])
    alb.validate(params(**planned), check_mode=True)
    with pytest.raises(alb.AlbError, match="vpc_id is required with state=present; subnet_ids needs at least 2"):
        alb.validate(params(**planned))
    with pytest.raises(alb.AlbError, match=r"subnet_ids needs at least 2 distinct subnets .* \(got 1\)"):
        alb.validate(params(vpc_id=None, subnet_ids=[None]), check_mode=True)
