"""Unit tests of the test proxy: record, slow and faults modes, against an in-process moto server.

Run: .venv/bin/python -m pytest tests/proxy
"""

import json
import os
import re
import signal
import subprocess
import sys

import boto3
import botocore
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:  # `python -m tests.proxy.awsproxy` and these imports need the repo root
    sys.path.insert(0, ROOT)

from tests.proxy import awsproxy  # noqa: E402
from tests.proxy.awsproxy import AwsProxy, Call, summarize  # noqa: E402

REGION = "ap-northeast-2"
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = "http://%s:%d" % (host, port)
    ami(url)  # warm-up: moto's first EC2 call loads its built-in images (seconds)
    yield url
    server.stop()


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def client(service, url, config=None):
    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=config)


@pytest.fixture
def network(moto_url):
    ec2 = client("ec2", moto_url)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    return {"vpc": vpc, "subnet": subnet}


_AMI = []


def ami(moto_url):
    """Any registered image id (the first listing is slow on a fresh moto: done once)."""
    if not _AMI:
        _AMI.append(client("ec2", moto_url).describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"])
    return _AMI[0]


# --- identifying calls ------------------------------------------------------------------------

def sigv4(service):
    return "AWS4-HMAC-SHA256 Credential=testing/20261128/%s/%s/aws4_request, SignedHeaders=host, Signature=x" % (REGION, service)


def test_call_query_protocol_from_form_body_and_credential_scope():
    call = Call("POST", "/", {"Authorization": sigv4("ec2"), "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                b"Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3Aha_web%3Astack&Filter.1.Value.1=lab")
    assert (call.service, call.action, call.protocol, call.region) == ("ec2", "DescribeVpcs", "ec2", REGION)
    assert call.ec2_filters() == {"tag:ha_web:stack": ["lab"]}
    assert call.mutating is False


def test_call_query_protocol_from_query_string():
    call = Call("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", {"Authorization": sigv4("sts")}, b"")
    assert (call.service, call.action, call.protocol) == ("sts", "GetCallerIdentity", "query")


def test_call_json_protocol_from_target():
    call = Call("POST", "/", {"Authorization": sigv4("ssm"), "X-Amz-Target": "AmazonSSM.PutParameter",
                              "Content-Type": "application/x-amz-json-1.1"}, b'{"Name": "/x"}')
    assert (call.service, call.action, call.protocol, call.mutating) == ("ssm", "PutParameter", "json", True)


def test_call_rpc_v2_cbor_protocol_from_path_named_by_its_iam_prefix():
    call = Call("POST", "/service/GraniteServiceVersion20100801/operation/PutDashboard",
                {"Authorization": sigv4("monitoring"), "Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}, b"\xa0")
    assert (call.name, call.protocol, call.mutating) == ("cloudwatch:PutDashboard", "rpc-v2-cbor", True)
    read = Call("POST", "/service/GraniteServiceVersion20100801/operation/GetDashboard", {"Authorization": sigv4("monitoring")}, b"")
    assert (read.name, read.mutating) == ("cloudwatch:GetDashboard", False)


def test_same_request_key_ignores_client_token():
    headers = {"Authorization": sigv4("ec2")}
    one = Call("POST", "/", headers, b"Action=RunInstances&ClientToken=a&MinCount=1")
    two = Call("POST", "/", headers, b"Action=RunInstances&ClientToken=b&MinCount=1")
    three = Call("POST", "/", headers, b"Action=RunInstances&ClientToken=b&MinCount=2")
    assert one.key() == two.key() != three.key()


# --- record -----------------------------------------------------------------------------------

def test_record_logs_every_call_with_service_action_status(moto_url, tmp_path):
    path = tmp_path / "calls.jsonl"
    with AwsProxy(moto_url, record_file=str(path)) as proxy:
        ec2 = client("ec2", proxy.url)
        ec2.describe_vpcs()
        ec2.create_vpc(CidrBlock="10.9.0.0/16")
        client("elbv2", proxy.url).describe_load_balancers()
        client("autoscaling", proxy.url).describe_auto_scaling_groups()
        client("sts", proxy.url).get_caller_identity()
        client("iam", proxy.url).list_roles()
        with pytest.raises(botocore.exceptions.ClientError):
            client("ssm", proxy.url).get_parameter(Name="/ha_web/none")
        record = list(proxy.record)
    got = [(r["service"], r["action"], r["status"], r["error_code"], r["mutating"]) for r in record]
    assert got == [
        ("ec2", "DescribeVpcs", 200, None, False),
        ("ec2", "CreateVpc", 200, None, True),
        ("elasticloadbalancing", "DescribeLoadBalancers", 200, None, False),
        ("autoscaling", "DescribeAutoScalingGroups", 200, None, False),
        ("sts", "GetCallerIdentity", 200, None, False),
        ("iam", "ListRoles", 200, None, False),
        ("ssm", "GetParameter", 400, "ParameterNotFound", False),
    ]
    assert [json.loads(line) for line in path.read_text().splitlines()] == record
    assert set(record[0]) == {"t", "service", "action", "status", "error_code", "mutating", "fault", "attempt", "ms", "poll"}
    summary = summarize(record)
    assert (summary["total"], summary["mutating"], summary["read"], summary["errors"]) == (7, 1, 6, 1)
    assert summary["by_action"]["ec2:CreateVpc"] == 1


def test_record_marks_repeated_reads_as_polls(moto_url):
    with AwsProxy(moto_url) as proxy:
        ec2 = client("ec2", proxy.url)
        ec2.describe_vpcs(VpcIds=[])
        ec2.describe_vpcs(VpcIds=[])
        ec2.describe_subnets()
    assert [r["poll"] for r in proxy.record] == [False, True, False]


def test_summary_cli(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"service": "ec2", "action": "CreateVpc", "mutating": true, "status": 200}\n'
                    '{"service": "ec2", "action": "DescribeVpcs", "mutating": false, "status": 200, "fault": "throttle"}\n')
    out = subprocess.run([sys.executable, "-m", "tests.proxy.awsproxy", "--summary", str(path)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    summary = json.loads(out)
    assert (summary["total"], summary["mutating"], summary["faulted"]) == (2, 1, 1)


def test_command_line_proxy_forwards_and_stops_on_sigterm(moto_url, tmp_path):
    path = tmp_path / "r.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.proxy.awsproxy", "--upstream", moto_url, "--port", "0",
                             "--record", str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+) ->", line).group(1)
        client("ec2", url).describe_vpcs()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    assert [json.loads(x)["action"] for x in path.read_text().splitlines()] == ["DescribeVpcs"]


# --- slow -------------------------------------------------------------------------------------

def test_slow_nat_gateway_pending_then_available(moto_url, network):
    clock = FakeClock()
    with AwsProxy(moto_url, slow=10, clock=clock) as proxy:
        ec2 = client("ec2", proxy.url)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        created = ec2.create_nat_gateway(SubnetId=network["subnet"], AllocationId=eip)["NatGateway"]
        assert created["State"] == "pending"
        nat = created["NatGatewayId"]
        assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "pending"
        available = {"Name": "state", "Values": ["available"]}
        assert ec2.describe_nat_gateways(NatGatewayIds=[nat], Filters=[available])["NatGateways"] == []
        clock.now += 9.9  # 100 s / 10
        assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "pending"
        clock.now += 0.2
        assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "available"
        assert [g["NatGatewayId"] for g in ec2.describe_nat_gateways(NatGatewayIds=[nat], Filters=[available])["NatGateways"]] == [nat]
        ec2.delete_nat_gateway(NatGatewayId=nat)
        assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleting"
        clock.now += 6.1  # 60 s / 10
        assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleted"


def test_slow_image_not_found_then_pending_then_available(moto_url, network):
    clock = FakeClock()
    image_id = ami(moto_url)
    with AwsProxy(moto_url, slow=10, clock=clock) as proxy:
        ec2 = client("ec2", proxy.url, NO_RETRIES)
        instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, SubnetId=network["subnet"])["Instances"][0]["InstanceId"]
        new = ec2.create_image(InstanceId=instance, Name="ha-web-slow-test")["ImageId"]
        with pytest.raises(botocore.exceptions.ClientError) as err:
            ec2.describe_images(ImageIds=[new])
        assert err.value.response["Error"] == {"Code": "InvalidAMIID.NotFound", "Message": "The image id '[%s]' does not exist" % new}
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert ec2.describe_images(Owners=["self"])["Images"] == []
        clock.now += 0.5  # 5 s / 10
        assert ec2.describe_images(ImageIds=[new])["Images"][0]["State"] == "pending"
        assert ec2.describe_images(Owners=["self"], Filters=[{"Name": "state", "Values": ["available"]}])["Images"] == []
        clock.now += 29.4  # 300 s / 10
        assert ec2.describe_images(ImageIds=[new])["Images"][0]["State"] == "pending"
        clock.now += 0.2
        assert ec2.describe_images(ImageIds=[new])["Images"][0]["State"] == "available"
        ec2.deregister_image(ImageId=new)


def test_slow_instance_pending_then_running(moto_url, network):
    clock = FakeClock()
    image_id = ami(moto_url)
    with AwsProxy(moto_url, slow=10, clock=clock) as proxy:
        ec2 = client("ec2", proxy.url)
        instance = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, SubnetId=network["subnet"])["Instances"][0]["InstanceId"]
        state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]
        assert state == {"Code": 0, "Name": "pending"}
        running = [{"Name": "instance-state-name", "Values": ["running"]}]
        assert ec2.describe_instances(InstanceIds=[instance], Filters=running)["Reservations"] == []
        clock.now += 4.1  # 40 s / 10
        state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]
        assert state == {"Code": 16, "Name": "running"}
        ec2.terminate_instances(InstanceIds=[instance])
        state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]
        assert state == {"Code": 32, "Name": "shutting-down"}
        clock.now += 3.1  # 30 s / 10
        state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]
        assert state == {"Code": 48, "Name": "terminated"}


def test_slow_security_group_held_while_its_instance_shuts_down(moto_url, network):
    clock = FakeClock()
    with AwsProxy(moto_url, slow=10, clock=clock) as proxy:
        ec2 = client("ec2", proxy.url, NO_RETRIES)
        group = ec2.create_security_group(GroupName="held", Description="held", VpcId=network["vpc"])["GroupId"]
        other = ec2.create_security_group(GroupName="free", Description="free", VpcId=network["vpc"])["GroupId"]
        instance = ec2.run_instances(ImageId=ami(moto_url), MinCount=1, MaxCount=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "SubnetId": network["subnet"], "Groups": [group]}])["Instances"][0]["InstanceId"]
        ec2.terminate_instances(InstanceIds=[instance])
        with pytest.raises(botocore.exceptions.ClientError) as held:
            ec2.delete_security_group(GroupId=group)
        assert held.value.response["Error"]["Code"] == "DependencyViolation"
        ec2.delete_security_group(GroupId=other)  # a group no shutting-down instance holds
        clock.now += 3.1  # 30 s / 10: terminated, its interface gone
        ec2.delete_security_group(GroupId=group)


def test_slow_load_balancer_group_and_targets(moto_url, network):
    clock = FakeClock()
    image_id = ami(moto_url)
    setup = client("ec2", moto_url)
    other = setup.create_subnet(VpcId=network["vpc"], CidrBlock="10.0.2.0/24", AvailabilityZone=REGION + "c")["Subnet"]["SubnetId"]
    with AwsProxy(moto_url, slow=10, clock=clock) as proxy:
        elb = client("elbv2", proxy.url)
        lb = elb.create_load_balancer(Name="slow-alb", Subnets=[network["subnet"], other])["LoadBalancers"][0]["LoadBalancerArn"]
        assert elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]["Code"] == "provisioning"
        tg = elb.create_target_group(Name="slow-tg", Protocol="HTTP", Port=80, VpcId=network["vpc"])["TargetGroups"][0]["TargetGroupArn"]
        ec2 = client("ec2", proxy.url)
        template = ec2.create_launch_template(LaunchTemplateName="slow-lt", LaunchTemplateData={"ImageId": image_id, "InstanceType": "t3.micro"})
        asg = client("autoscaling", proxy.url)
        asg.create_auto_scaling_group(AutoScalingGroupName="slow-asg", MinSize=1, MaxSize=1, DesiredCapacity=1,
                                      LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"]},
                                      VPCZoneIdentifier=network["subnet"], TargetGroupARNs=[tg])
        members = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["slow-asg"])["AutoScalingGroups"][0]["Instances"]
        assert [m["LifecycleState"] for m in members] == ["Pending"]
        health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        assert [h["TargetHealth"] for h in health] == [
            {"State": "initial", "Reason": "Elb.RegistrationInProgress", "Description": "Target registration is in progress"}]
        clock.now += 4.1  # instance 40 s / 10: InService, target still initial (60 s / 10 more)
        members = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["slow-asg"])["AutoScalingGroups"][0]["Instances"]
        assert [m["LifecycleState"] for m in members] == ["InService"]
        assert elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "initial"
        clock.now += 6.0
        assert elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy"
        assert elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]["Code"] == "provisioning"
        clock.now += 6.0  # load balancer 160 s / 10
        assert elb.describe_load_balancers(LoadBalancerArns=[lb])["LoadBalancers"][0]["State"]["Code"] == "active"
        asg.delete_auto_scaling_group(AutoScalingGroupName="slow-asg", ForceDelete=True)


def test_critical_path_seconds():
    assert awsproxy.critical_path_seconds(10) == pytest.approx(54.0)


# --- faults -----------------------------------------------------------------------------------

def fault_error(proxy, service, call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as err:
        getattr(client(service, proxy.url, NO_RETRIES), call)(**kwargs)
    return err.value.response["Error"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("service, call, code, message, status", [
    ("ec2", "describe_vpcs", "RequestLimitExceeded", "Request limit exceeded.", 503),
    ("elbv2", "describe_load_balancers", "Throttling", "Rate exceeded", 400),
    ("autoscaling", "describe_auto_scaling_groups", "Throttling", "Rate exceeded", 400),
    ("iam", "list_roles", "Throttling", "Rate exceeded", 400),
    ("sts", "get_caller_identity", "Throttling", "Rate exceeded", 400),
    ("ssm", "describe_parameters", "ThrottlingException", "Rate exceeded", 400),
])
def test_fault_throttling_in_each_protocol_format(moto_url, service, call, code, message, status):
    with AwsProxy(moto_url, faults=1.0, fault_kinds=("throttle",)) as proxy:
        error, got_status = fault_error(proxy, service, call)
    assert error["Code"] == code
    assert error["Message"] == message
    if service != "ssm":
        assert error["Type"] == "Sender" if service != "ec2" else "Type" not in error
    assert got_status == status
    assert [(r["action"], r["fault"], r["error_code"]) for r in proxy.record] == [(proxy.record[0]["action"], "throttle", code)]


@pytest.mark.parametrize("service, call", [("ec2", "describe_vpcs"), ("elbv2", "describe_load_balancers"), ("ssm", "describe_parameters")])
def test_fault_bare_503(moto_url, service, call):
    with AwsProxy(moto_url, faults=1.0, fault_kinds=("unavailable",)) as proxy:
        error, status = fault_error(proxy, service, call)
    assert status == 503
    assert error["Code"] == "503"


def test_fault_cap_lets_retries_progress(moto_url, monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)
    with AwsProxy(moto_url, faults=1.0, fault_cap=2, fault_kinds=("throttle",)) as proxy:
        ec2 = client("ec2", proxy.url, Config(retries={"total_max_attempts": 3, "mode": "standard"}))
        assert ec2.describe_vpcs()["Vpcs"] is not None
    assert [(r["fault"], r["attempt"]) for r in proxy.record] == [("throttle", 1), ("throttle", 2), (None, 3)]


def call_sequence(proxy):
    ec2 = client("ec2", proxy.url, NO_RETRIES)
    seen = []
    for i in range(120):
        try:
            ec2.describe_vpcs(Filters=[{"Name": "tag:n", "Values": [str(i)]}])
            seen.append(None)
        except botocore.exceptions.ClientError as exc:
            seen.append(exc.response["Error"]["Code"])
    return seen


def test_faults_are_reproducible_by_seed_and_near_the_share(moto_url):
    with AwsProxy(moto_url, faults=0.3, seed=7) as proxy:
        first = call_sequence(proxy)
    with AwsProxy(moto_url, faults=0.3, seed=7) as proxy:
        again = call_sequence(proxy)
    with AwsProxy(moto_url, faults=0.3, seed=8) as proxy:
        other = call_sequence(proxy)
    assert first == again
    assert first != other
    faulted = [c for c in first if c]
    assert 0.18 <= len(faulted) / 120.0 <= 0.42
    assert set(faulted) == {"RequestLimitExceeded", "503"}
    assert [r["fault"] is not None for r in proxy.record] == [c is not None for c in other]


def test_fault_actions_regex_limits_faults(moto_url):
    with AwsProxy(moto_url, faults=1.0, fault_actions=r"^ec2:Create", fault_kinds=("throttle",)) as proxy:
        ec2 = client("ec2", proxy.url, NO_RETRIES)
        ec2.describe_vpcs()
        with pytest.raises(botocore.exceptions.ClientError):
            ec2.create_vpc(CidrBlock="10.8.0.0/16")
    assert [(r["action"], r["fault"], r["mutating"]) for r in proxy.record] == [
        ("DescribeVpcs", None, False), ("CreateVpc", "throttle", True)]
    assert summarize(proxy.record)["faulted_mutating"] == 1
