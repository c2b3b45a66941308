# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import network as n
from ansible_collections.immersionday.ha_web.plugins.module_utils import network_input as ni
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.tests.unit.lab_values import LAB_SUBNETS

STACK_F = [{"Name": "tag:ha_web:stack", "Values": ["lab"]}]
NAT_F = [{"Name": "vpc-id", "Values": ["vpc-1"]}, {"Name": "state", "Values": ["pending", "available", "failed"]}]
SUBNET_IDS = {"public-subnet-a": "subnet-pa", "private-subnet-a": "subnet-qa", "public-subnet-c": "subnet-pc", "private-subnet-c": "subnet-qc"}


# ------------------------------------------------------------------ validation

def test_lab_input_is_valid():
    assert ni.input_errors("10.0.0.0/16", LAB_SUBNETS) == []


@pytest.mark.parametrize("vpc_cidr, subnets, nat, expected", [
    ("10.0.0/16", LAB_SUBNETS, None, ["vpc_cidr '10.0.0/16' is not a valid IPv4 CIDR block such as 10.0.0.0/16"]),
    ("10.0.0.0/8", LAB_SUBNETS, None, ["vpc_cidr 10.0.0.0/8 must have a prefix length between /16 and /28"]),
    ("10.0.0.0/16", [], None, ["subnets must list at least one subnet"]),
    ("10.0.0.0/16", [LAB_SUBNETS[0], dict(LAB_SUBNETS[1], cidr="10.1.10.0/24")], None,
     ["subnets[1].cidr 10.1.10.0/24 is not inside vpc_cidr 10.0.0.0/16"]),
    ("10.0.0.0/16", [LAB_SUBNETS[0], dict(LAB_SUBNETS[1], cidr="10.0.10.128/25")], None,
     ["subnets[1].cidr 10.0.10.128/25 overlaps subnets[0].cidr 10.0.10.0/24"]),
    ("10.0.0.0/16", [LAB_SUBNETS[0], dict(LAB_SUBNETS[2], az="a")], None,
     ["subnets[1] repeats tier public in AZ a (already subnets[0])"]),
    ("10.0.0.0/16", [dict(LAB_SUBNETS[0], az="ap-northeast-2a")], None,
     ["subnets[0].az 'ap-northeast-2a' must be one availability zone letter such as a"]),
    ("10.0.0.0/16", [dict(LAB_SUBNETS[0], tier="dmz")], None,
     ["subnets[0].tier 'dmz' must be public or private", "subnets has no public subnet to host the NAT gateway"]),
    ("10.0.0.0/16", [LAB_SUBNETS[1]], None, ["subnets has no public subnet to host the NAT gateway"]),
    ("10.0.0.0/16", [{"az": "a", "tier": "public"}], None, ["subnets[0].cidr is required"]),
    ("10.0.0.0/16", LAB_SUBNETS, "Private subnet A",
     ["nat_subnet 'Private subnet A' names no public subnet of subnets (give its name or AZ letter)"]),
])
def test_input_errors(vpc_cidr, subnets, nat, expected):
    assert ni.input_errors(vpc_cidr, subnets, nat) == expected


def test_input_errors_name_role_variables():
    assert ni.input_errors("10.0.0.0/16", [dict(LAB_SUBNETS[0], cidr="10.1.10.0/24")], prefix="network_") == [
        "network_subnets[0].cidr 10.1.10.0/24 is not inside network_vpc_cidr 10.0.0.0/16"]


def test_filter_plugin_uses_role_names():
    from ansible_collections.immersionday.ha_web.plugins.filter.network_input_errors import FilterModule
    f = FilterModule().filters()["network_input_errors"]
    assert f(LAB_SUBNETS, "10.0.0.0/16", "") == []
    assert f([LAB_SUBNETS[1]], "10.0.0.0/16") == ["network_subnets has no public subnet to host the NAT gateway"]


def test_az_errors():
    zones = [{"ZoneName": "us-west-1a", "ZoneType": "availability-zone"}, {"ZoneName": "us-west-1b", "ZoneType": "availability-zone"}]
    assert ni.az_errors(LAB_SUBNETS[:3], "us-west-1", zones) == [
        "subnets[2].az 'c' is not an availability zone of region us-west-1 (it has a, b)"]


def test_pick_nat_subnet():
    assert ni.pick_nat_subnet(list(reversed(LAB_SUBNETS)))["name"] == "Public subnet A"
    assert ni.pick_nat_subnet(LAB_SUBNETS, "c")["name"] == "Public subnet C"
    assert ni.pick_nat_subnet(LAB_SUBNETS, "Public subnet C")["az"] == "c"


def test_build_spec_scopes_names_for_other_stacks():
    spec = n.build_spec({"stack_name": "blue", "vpc_cidr": "10.0.0.0/16",
                         "subnets": [dict(s, name=None) for s in LAB_SUBNETS]})
    assert [s["name"] for s in spec["subnets"]] == ["blue-Public subnet A", "blue-Private subnet A", "blue-Public subnet C", "blue-Private subnet C"]
    assert spec["names"]["vpc"] == "blue-VPC-Lab"
    assert spec["names"]["public-rt"] == "blue-Public route"
    assert spec["nat_component"] == "public-subnet-a"


def test_association_plan():
    tables = [
        {"RouteTableId": "rtb-main", "Associations": [{"Main": True, "RouteTableAssociationId": "a-main"}]},
        {"RouteTableId": "rtb-pub", "Associations": [{"SubnetId": "subnet-pa", "RouteTableAssociationId": "a1"},
                                                     {"SubnetId": "subnet-qa", "RouteTableAssociationId": "a2"}]},
        {"RouteTableId": "rtb-priv", "Associations": [{"SubnetId": "subnet-xx", "RouteTableAssociationId": "a3"}]},
    ]
    desired = {"rtb-pub": ["subnet-pa", "subnet-pc"], "rtb-priv": ["subnet-qa", "subnet-qc"]}
    assert n.association_plan(tables, desired) == [
        ("replace", "rtb-priv", "subnet-qa", "a2"),
        ("associate", "rtb-priv", "subnet-qc"),
        ("associate", "rtb-pub", "subnet-pc"),
        ("disassociate", "rtb-priv", "subnet-xx", "a3"),
    ]


# ------------------------------------------------------------------ stubbed AWS

def tags(component, name, stack="lab"):
    return [{"Key": "ha_web:stack", "Value": stack}, {"Key": "Name", "Value": name}, {"Key": "ha_web:component", "Value": component}]


@pytest.fixture
def ec2():
    client = boto3.client("ec2", region_name="ap-northeast-2", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, retry_decorator()), stubber
        stubber.assert_no_pending_responses()


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept = []
    monkeypatch.setattr("time.sleep", slept.append)
    return slept


def spec():
    return n.build_spec({"stack_name": "lab", "vpc_cidr": "10.0.0.0/16", "subnets": LAB_SUBNETS})


def eip():
    return {"AllocationId": "eipalloc-1", "PublicIp": "203.0.113.1", "Domain": "vpc", "Tags": tags("eip", "VPC-Lab-NAT-EIP")}


def nat(state="available", **extra):
    item = {"NatGatewayId": "nat-1", "SubnetId": "subnet-pa", "VpcId": "vpc-1", "State": state,
            "NatGatewayAddresses": [{"AllocationId": "eipalloc-1", "NetworkInterfaceId": "eni-nat"}], "Tags": tags("nat", "VPC-Lab-NAT")}
    item.update(extra)
    return item


def subnets():
    out = []
    for s in LAB_SUBNETS:
        comp = ni.subnet_component(s)
        out.append({"SubnetId": SUBNET_IDS[comp], "VpcId": "vpc-1", "CidrBlock": s["cidr"], "AvailabilityZone": "ap-northeast-2" + s["az"],
                    "MapPublicIpOnLaunch": s["tier"] == "public", "Tags": tags(comp, s["name"])})
    return out


def route_tables(private_target=None):
    def assoc(table, subnet):
        return {"RouteTableAssociationId": "rtbassoc-%s" % subnet, "RouteTableId": table, "SubnetId": subnet, "Main": False}
    return [
        {"RouteTableId": "rtb-main", "VpcId": "vpc-1", "Routes": [], "Associations": [{"Main": True, "RouteTableAssociationId": "m"}], "Tags": []},
        {"RouteTableId": "rtb-pub", "VpcId": "vpc-1", "Tags": tags("public-rt", "Public route"),
         "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}, {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}],
         "Associations": [assoc("rtb-pub", "subnet-pa"), assoc("rtb-pub", "subnet-pc")]},
        {"RouteTableId": "rtb-priv", "VpcId": "vpc-1", "Tags": tags("private-rt", "Private route"),
         "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"} if private_target is None else private_target],
         "Associations": [assoc("rtb-priv", "subnet-qa"), assoc("rtb-priv", "subnet-qc")]},
    ]


def stub_existing(stubber, nats=None, tables=None):
    stubber.add_response("describe_addresses", {"Addresses": [eip()]}, {"Filters": STACK_F})
    stubber.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "State": "available",
                                                     "Tags": tags("vpc", "VPC-Lab")}]}, {"Filters": STACK_F})
    stubber.add_response("describe_vpc_attribute", {"VpcId": "vpc-1", "EnableDnsSupport": {"Value": True}},
                         {"VpcId": "vpc-1", "Attribute": "enableDnsSupport"})
    stubber.add_response("describe_vpc_attribute", {"VpcId": "vpc-1", "EnableDnsHostnames": {"Value": True}},
                         {"VpcId": "vpc-1", "Attribute": "enableDnsHostnames"})
    stubber.add_response("describe_subnets", {"Subnets": subnets()}, {"Filters": STACK_F})
    stubber.add_response("describe_internet_gateways", {"InternetGateways": [
        {"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}], "Tags": tags("igw", "VPC-Lab-IGW")}]},
        {"Filters": STACK_F})
    stubber.add_response("describe_nat_gateways", {"NatGateways": nats if nats is not None else [nat()]}, {"Filter": NAT_F})


EXPECTED_NETWORK = {
    "vpc_id": "vpc-1", "vpc_cidr": "10.0.0.0/16",
    "public_subnet_ids": ["subnet-pa", "subnet-pc"], "private_subnet_ids": ["subnet-qa", "subnet-qc"],
    "subnets": SUBNET_IDS, "igw_id": "igw-1", "nat_gateway_id": "nat-1", "nat_gateway_state": "available",
    "eip_allocation_id": "eipalloc-1", "eip_public_ip": "203.0.113.1",
    "public_route_table_id": "rtb-pub", "private_route_table_id": "rtb-priv",
}


def test_noop_rerun_only_describes(ec2):
    client, stubber = ec2
    stub_existing(stubber)
    stubber.add_response("describe_route_tables", {"RouteTables": route_tables()}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})
    net = n.Network(client)
    assert net.present(spec()) == EXPECTED_NETWORK
    assert net.changes == []


def test_throttled_describe_is_retried(ec2, no_sleep):
    client, stubber = ec2
    stubber.add_client_error("describe_addresses", service_error_code="Throttling", http_status_code=400)
    stub_existing(stubber)
    stubber.add_response("describe_route_tables", {"RouteTables": route_tables()}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})
    net = n.Network(client)
    assert net.present(spec()) == EXPECTED_NETWORK
    assert len(no_sleep) == 1


def test_wrong_private_route_is_replaced_and_check_mode_mutates_nothing(ec2):
    client, stubber = ec2
    wrong = {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}
    stub_existing(stubber)
    stubber.add_response("describe_route_tables", {"RouteTables": route_tables(wrong)}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})
    net = n.Network(client, check_mode=True)
    net.present(spec())
    assert net.changes == ["replace route 0.0.0.0/0 -> nat-1 of rtb-priv (was igw-1)"]

    stub_existing(stubber)
    stubber.add_response("describe_route_tables", {"RouteTables": route_tables(wrong)}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})
    stubber.add_response("replace_route", {}, {"RouteTableId": "rtb-priv", "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"})
    net = n.Network(client)
    net.present(spec())
    assert net.changes == ["replace route 0.0.0.0/0 -> nat-1 of rtb-priv (was igw-1)"]


def test_failed_nat_is_replaced_then_waited_for(ec2, no_sleep):
    client, stubber = ec2
    stub_existing(stubber, nats=[nat("failed", FailureMessage="Subnet has insufficient free addresses")])
    stubber.add_response("delete_nat_gateway", {"NatGatewayId": "nat-1"}, {"NatGatewayId": "nat-1"})
    stubber.add_response("create_nat_gateway", {"NatGateway": dict(nat("pending"), NatGatewayId="nat-2")},
                         {"SubnetId": "subnet-pa", "AllocationId": "eipalloc-1",
                          "TagSpecifications": [{"ResourceType": "natgateway", "Tags": [
                              {"Key": "ha_web:stack", "Value": "lab"}, {"Key": "Name", "Value": "VPC-Lab-NAT"},
                              {"Key": "ha_web:component", "Value": "nat"}]}]})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [dict(nat("pending"), NatGatewayId="nat-2")]}, {"NatGatewayIds": ["nat-2"]})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [dict(nat("available"), NatGatewayId="nat-2")]}, {"NatGatewayIds": ["nat-2"]})
    tables = route_tables()
    stubber.add_response("describe_route_tables", {"RouteTables": tables}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})
    stubber.add_response("replace_route", {}, {"RouteTableId": "rtb-priv", "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-2"})
    net = n.Network(client, poll_interval=5)
    assert net.present(spec())["nat_gateway_id"] == "nat-2"
    assert net.warnings == ["NAT gateway nat-1 failed (Subnet has insufficient free addresses); replacing it"]
    assert net.changes == ["delete failed NAT gateway nat-1", "create NAT gateway VPC-Lab-NAT in subnet-pa",
                           "replace route 0.0.0.0/0 -> nat-2 of rtb-priv (was nat-1)"]
    assert no_sleep == [5]


def test_nat_failing_during_wait_is_an_error(ec2):
    client, stubber = ec2
    stubber.add_response("describe_nat_gateways", {"NatGateways": [nat("pending")]}, {"NatGatewayIds": ["nat-1"]})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [nat("failed", FailureMessage="Elastic IP address is in use")]},
                         {"NatGatewayIds": ["nat-1"]})
    with pytest.raises(n.NetworkError) as e:
        n.Network(client, poll_interval=1).wait_nat_available("nat-1")
    assert str(e.value) == "NAT gateway nat-1 is failed: Elastic IP address is in use"


def test_nat_wait_times_out(ec2, no_sleep):
    client, stubber = ec2
    stubber.add_response("describe_nat_gateways", {"NatGateways": [nat("pending")]}, {"NatGatewayIds": ["nat-1"]})
    with pytest.raises(n.NetworkError) as e:
        n.Network(client, wait_timeout=0, poll_interval=2).wait_nat_available("nat-1")
    assert str(e.value) == "timed out after 0s waiting for NAT gateway nat-1 to be available"
    assert no_sleep == []


def test_fresh_create_calls(ec2):
    client, stubber = ec2

    def tag_spec(rt, comp, name):
        return [{"ResourceType": rt, "Tags": tags(comp, name)}]

    stubber.add_response("describe_addresses", {"Addresses": []}, {"Filters": STACK_F})
    stubber.add_response("allocate_address", {"AllocationId": "eipalloc-1", "PublicIp": "203.0.113.1"},
                         {"Domain": "vpc", "TagSpecifications": tag_spec("elastic-ip", "eip", "VPC-Lab-NAT-EIP")})
    stubber.add_response("describe_vpcs", {"Vpcs": []}, {"Filters": STACK_F})
    stubber.add_response("create_vpc", {"Vpc": {"VpcId": "vpc-1", "State": "available"}},
                         {"CidrBlock": "10.0.0.0/16", "TagSpecifications": tag_spec("vpc", "vpc", "VPC-Lab")})
    stubber.add_response("modify_vpc_attribute", {}, {"VpcId": "vpc-1", "EnableDnsSupport": {"Value": True}})
    stubber.add_response("modify_vpc_attribute", {}, {"VpcId": "vpc-1", "EnableDnsHostnames": {"Value": True}})
    stubber.add_response("describe_subnets", {"Subnets": []}, {"Filters": STACK_F})
    for s in LAB_SUBNETS:
        comp = ni.subnet_component(s)
        stubber.add_response("create_subnet", {"Subnet": {"SubnetId": SUBNET_IDS[comp]}},
                             {"VpcId": "vpc-1", "CidrBlock": s["cidr"], "AvailabilityZone": "ap-northeast-2" + s["az"],
                              "TagSpecifications": tag_spec("subnet", comp, s["name"])})
        if s["tier"] == "public":
            stubber.add_response("modify_subnet_attribute", {}, {"SubnetId": SUBNET_IDS[comp], "MapPublicIpOnLaunch": {"Value": True}})
    stubber.add_response("describe_internet_gateways", {"InternetGateways": []}, {"Filters": STACK_F})
    stubber.add_response("create_internet_gateway", {"InternetGateway": {"InternetGatewayId": "igw-1", "Attachments": []}},
                         {"TagSpecifications": tag_spec("internet-gateway", "igw", "VPC-Lab-IGW")})
    stubber.add_response("attach_internet_gateway", {}, {"InternetGatewayId": "igw-1", "VpcId": "vpc-1"})
    stubber.add_response("describe_nat_gateways", {"NatGateways": []}, {"Filter": NAT_F})
    stubber.add_response("create_nat_gateway", {"NatGateway": nat("available")},
                         {"SubnetId": "subnet-pa", "AllocationId": "eipalloc-1", "TagSpecifications": tag_spec("natgateway", "nat", "VPC-Lab-NAT")})
    stubber.add_response("describe_route_tables", {"RouteTables": []}, {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]})
    for table, comp, name, target in (("rtb-pub", "public-rt", "Public route", {"GatewayId": "igw-1"}),
                                      ("rtb-priv", "private-rt", "Private route", {"NatGatewayId": "nat-1"})):
        stubber.add_response("create_route_table", {"RouteTable": {"RouteTableId": table, "Routes": [], "Associations": []}},
                             {"VpcId": "vpc-1", "TagSpecifications": tag_spec("route-table", comp, name)})
        stubber.add_response("create_route", {"Return": True}, dict({"RouteTableId": table, "DestinationCidrBlock": "0.0.0.0/0"}, **target))
    for table, subnet in (("rtb-priv", "subnet-qa"), ("rtb-priv", "subnet-qc"), ("rtb-pub", "subnet-pa"), ("rtb-pub", "subnet-pc")):
        stubber.add_response("associate_route_table", {"AssociationId": "a"}, {"RouteTableId": table, "SubnetId": subnet})
    net = n.Network(client)
    assert net.present(spec()) == EXPECTED_NETWORK
    assert len(net.changes) == 17


def test_absent_waits_for_nat_deletion_then_deletes_in_order(ec2, no_sleep):
    client, stubber = ec2
    stubber.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1", "Tags": tags("vpc", "VPC-Lab")}]}, {"Filters": STACK_F})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [nat()]},
                         {"Filter": [{"Name": "vpc-id", "Values": ["vpc-1"]},
                                     {"Name": "state", "Values": ["pending", "available", "failed", "deleting"]}]})
    stubber.add_response("delete_nat_gateway", {"NatGatewayId": "nat-1"}, {"NatGatewayId": "nat-1"})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [nat("deleting")]}, {"NatGatewayIds": ["nat-1"]})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [nat("deleted")]}, {"NatGatewayIds": ["nat-1"]})
    stubber.add_response("describe_addresses", {"Addresses": [dict(eip(), AssociationId="eipassoc-1", NetworkInterfaceId="eni-nat")]},
                         {"Filters": STACK_F})
    stubber.add_client_error("release_address", service_error_code="InvalidIPAddress.InUse", expected_params={"AllocationId": "eipalloc-1"})
    stubber.add_response("release_address", {}, {"AllocationId": "eipalloc-1"})
    stubber.add_response("describe_route_tables", {"RouteTables": route_tables()[1:2]}, {"Filters": STACK_F})
    stubber.add_response("disassociate_route_table", {}, {"AssociationId": "rtbassoc-subnet-pa"})
    stubber.add_response("disassociate_route_table", {}, {"AssociationId": "rtbassoc-subnet-pc"})
    stubber.add_response("delete_route_table", {}, {"RouteTableId": "rtb-pub"})
    stubber.add_response("describe_internet_gateways", {"InternetGateways": [
        {"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}]}, {"Filters": STACK_F})
    stubber.add_response("detach_internet_gateway", {}, {"InternetGatewayId": "igw-1", "VpcId": "vpc-1"})
    stubber.add_response("delete_internet_gateway", {}, {"InternetGatewayId": "igw-1"})
    stubber.add_response("describe_subnets", {"Subnets": subnets()[:1]}, {"Filters": STACK_F})
    stubber.add_response("delete_subnet", {}, {"SubnetId": "subnet-pa"})
    stubber.add_response("delete_vpc", {}, {"VpcId": "vpc-1"})
    net = n.Network(client, poll_interval=5)
    net.absent("lab")
    assert net.changes[:2] == ["delete NAT gateway nat-1", "release Elastic IP eipalloc-1 (203.0.113.1)"]
    assert net.changes[-1] == "delete VPC vpc-1"
    assert no_sleep == [5, 5]


def test_absent_of_nothing_changes_nothing(ec2):
    client, stubber = ec2
    for op, key in (("describe_vpcs", "Vpcs"), ("describe_addresses", "Addresses"), ("describe_route_tables", "RouteTables"),
                    ("describe_internet_gateways", "InternetGateways"), ("describe_subnets", "Subnets")):
        stubber.add_response(op, {key: []}, {"Filters": STACK_F})
    net = n.Network(client)
    net.absent("lab")
    assert net.changes == []


def test_vpc_cidr_change_is_refused(ec2):
    client, stubber = ec2
    stubber.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.9.0.0/16", "Tags": tags("vpc", "VPC-Lab")}]},
                         {"Filters": STACK_F})
    with pytest.raises(n.NetworkError) as e:
        n.Network(client).ensure_vpc(spec())
    assert str(e.value) == ("vpc_cidr 10.0.0.0/16 differs from the CIDR 10.9.0.0/16 of VPC vpc-1 of stack lab; "
                            "a VPC's CIDR cannot change: remove the stack first")
