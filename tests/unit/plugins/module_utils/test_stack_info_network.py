# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""stack_info's network part against an in-process moto: what the network role compares with its
input to decide what to create or repair (and what teardown removes)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from moto import mock_aws

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import describe_stack
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import route_target
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info import Retrying

REGION = "ap-northeast-2"


def spec(resource_type, stack, component, name=None):
    tags = [{"Key": "ha_web:stack", "Value": stack}, {"Key": "ha_web:component", "Value": component}]
    if name:
        tags.append({"Key": "Name", "Value": name})
    return [{"ResourceType": resource_type, "Tags": tags}]


def network_of(ec2, stack="lab"):
    return describe_stack(Retrying(ec2), None, None, stack, ["network"])["network"]


def build(ec2, stack="lab"):
    """The lab's network, as the role builds it."""
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip", stack, "eip", "VPC-Lab-NAT-EIP"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec("vpc", stack, "vpc", "VPC-Lab"))["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnets = {}
    for component, cidr, az in (("public-subnet-a", "10.0.10.0/24", "a"), ("private-subnet-a", "10.0.100.0/24", "a"),
                                ("public-subnet-c", "10.0.20.0/24", "c"), ("private-subnet-c", "10.0.200.0/24", "c")):
        subnets[component] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=REGION + az,
                                               TagSpecifications=spec("subnet", stack, component))["Subnet"]["SubnetId"]
        if component.startswith("public"):
            ec2.modify_subnet_attribute(SubnetId=subnets[component], MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", stack, "igw"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    nat = ec2.create_nat_gateway(SubnetId=subnets["public-subnet-a"], AllocationId=eip["AllocationId"],
                                 TagSpecifications=spec("natgateway", stack, "nat"))["NatGateway"]["NatGatewayId"]
    tables = {}
    for component, target, members in (("public-rt", {"GatewayId": igw}, ("public-subnet-a", "public-subnet-c")),
                                       ("private-rt", {"NatGatewayId": nat}, ("private-subnet-a", "private-subnet-c"))):
        table = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table", stack, component))["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **target)
        for member in members:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[member])
        tables[component] = table
    return {"eip": eip, "vpc": vpc, "subnets": subnets, "igw": igw, "nat": nat, "tables": tables}


@pytest.fixture
def ec2():
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def test_what_the_role_compares(ec2):
    built = build(ec2)
    build(ec2, "blue")  # a neighbour: none of it shows
    network = network_of(ec2)
    assert network["vpc"] == {"id": built["vpc"], "cidr": "10.0.0.0/16", "dns_support": True, "dns_hostnames": True,
                              "tags": {"ha_web:stack": "lab", "ha_web:component": "vpc", "Name": "VPC-Lab"}}
    assert network["eip"]["allocation_id"] == built["eip"]["AllocationId"]
    assert network["eip"]["public_ip"] == built["eip"]["PublicIp"]
    assert network["eip"]["tags"]["Name"] == "VPC-Lab-NAT-EIP"
    public_a = network["subnet_details"]["public-subnet-a"]
    assert public_a == {"id": built["subnets"]["public-subnet-a"], "vpc_id": built["vpc"], "cidr": "10.0.10.0/24",
                        "zone": REGION + "a", "map_public": True,
                        "tags": {"ha_web:stack": "lab", "ha_web:component": "public-subnet-a"}}
    assert network["subnet_details"]["private-subnet-c"]["map_public"] is False
    assert network["igw"] == {"id": built["igw"], "vpc_ids": [built["vpc"]],
                              "tags": {"ha_web:stack": "lab", "ha_web:component": "igw"}}
    [nat] = network["nat_gateways"]
    assert (nat["id"], nat["state"], nat["subnet_id"], nat["allocation_ids"]) == (
        built["nat"], "available", built["subnets"]["public-subnet-a"], [built["eip"]["AllocationId"]])
    assert nat["tags"]["ha_web:component"] == "nat"
    assert network["eip"]["network_interface_id"] in nat["network_interface_ids"]
    public_rt = network["route_tables"]["public-rt"]
    assert public_rt["id"] == built["tables"]["public-rt"]
    assert public_rt["routes"] == {"10.0.0.0/16": "local", "0.0.0.0/0": built["igw"]}
    assert public_rt["subnet_ids"] == sorted([built["subnets"]["public-subnet-a"], built["subnets"]["public-subnet-c"]])
    assert network["route_tables"]["private-rt"]["routes"]["0.0.0.0/0"] == built["nat"]
    # ... and the keys of the ha_web_network fact, as before
    assert network["public_subnet_ids"] == [built["subnets"]["public-subnet-a"], built["subnets"]["public-subnet-c"]]
    assert (network["nat_gateway_id"], network["nat_gateway_state"]) == (built["nat"], "available")
    assert (network["public_route_table_id"], network["private_route_table_id"]) == (built["tables"]["public-rt"], built["tables"]["private-rt"])


def test_a_partial_network_shows_what_exists(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec("vpc", "lab", "vpc"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.10.0/24", AvailabilityZone=REGION + "a",
                               TagSpecifications=spec("subnet", "lab", "public-subnet-a"))["Subnet"]["SubnetId"]
    network = network_of(ec2)
    assert list(network["subnet_details"]) == ["public-subnet-a"]
    assert network["subnets"] == {"public-subnet-a": subnet, "public-subnet-c": None, "private-subnet-a": None, "private-subnet-c": None}
    assert (network["igw"], network["eip"], network["nat_gateways"], network["route_tables"]) == (None, None, [], {})
    assert network["vpc"]["dns_hostnames"] is False  # a VPC made without the role's attributes


def test_an_elastic_ip_left_without_its_vpc_is_found(ec2):
    # an interrupted first run: the address is allocated first; a rerun must reuse it, a teardown release it
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip", "lab", "eip"))
    network = network_of(ec2)
    assert network["vpc_id"] is None and network["vpc"] is None
    assert network["eip_allocation_id"] == eip["AllocationId"]


def test_a_subnet_of_another_az_letter_is_found_too(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=spec("vpc", "lab", "vpc"))["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.30.0/24", AvailabilityZone=REGION + "b",
                               TagSpecifications=spec("subnet", "lab", "public-subnet-b"))["Subnet"]["SubnetId"]
    network = network_of(ec2)
    assert network["subnet_details"]["public-subnet-b"]["id"] == subnet
    assert network["subnets"]["public-subnet-b"] == subnet


def test_a_torn_down_network_is_none_though_moto_keeps_its_tags(ec2):
    built = build(ec2)
    ec2.delete_nat_gateway(NatGatewayId=built["nat"])
    ec2.release_address(AllocationId=built["eip"]["AllocationId"])
    for table in built["tables"].values():
        for association in ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Associations"]:
            ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=table)
    ec2.detach_internet_gateway(InternetGatewayId=built["igw"], VpcId=built["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=built["igw"])
    for subnet in built["subnets"].values():
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=built["vpc"])
    result = describe_stack(Retrying(ec2), None, None, "lab", ["network"])
    assert result["network"] is None
    assert {REGION + "a", REGION + "c"} <= set(result["availability_zones"])


def test_a_deleted_nat_gateway_is_listed_with_its_interface(ec2):
    # moto keeps the address associated with a deleted NAT gateway's interface: the role frees it
    built = build(ec2)
    ec2.delete_nat_gateway(NatGatewayId=built["nat"])
    network = network_of(ec2)
    assert (network["nat_gateway_id"], network["nat_gateway_state"]) == (None, None)
    [nat] = network["nat_gateways"]
    assert nat["state"] == "deleted"
    assert network["eip"]["network_interface_id"] in nat["network_interface_ids"]


@pytest.mark.parametrize("route, target", [
    ({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}, "igw-1"),
    ({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active"}, "nat-1"),
    ({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "blackhole"}, None),
    ({"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}, "local"),
])
def test_route_target(route, target):
    assert route_target(route) == target


# ---- instance types offered in the chosen zones (checked with the network look-up, before anything is built)

def checks(asg_type="t2.micro", builder_type="t2.micro", asg_zones=("a", "c")):
    return [{"variable": "web_ami_instance_type", "instance_type": builder_type, "zones": [REGION + "a"]},
            {"variable": "asg_instance_type", "instance_type": asg_type, "zones": [REGION + z for z in asg_zones]}]


def offering_errors(ec2, instance_types):
    return describe_stack(Retrying(ec2), None, None, "lab", ["network"], instance_types=instance_types)["instance_type_errors"]


def test_the_lab_instance_type_is_offered_in_its_zones(ec2):
    assert offering_errors(ec2, checks()) == []


def test_a_type_not_offered_in_a_chosen_zone_is_named_with_where_it_is(ec2):
    # moto's offerings, as AWS's: t2.micro is offered in ap-northeast-2a and 2c, not in 2b
    assert offering_errors(ec2, checks(asg_zones=("a", "b"))) == [
        "asg_instance_type t2.micro is not offered in ap-northeast-2b (this region offers it in ap-northeast-2a, ap-northeast-2c)"]


def test_an_unknown_type_is_named_for_each_variable(ec2):
    assert offering_errors(ec2, checks(asg_type="t2.nonsense", builder_type="x9.tiny")) == [
        "web_ami_instance_type x9.tiny is not offered in ap-northeast-2a (this region offers it in no zone: is the type right?)",
        "asg_instance_type t2.nonsense is not offered in ap-northeast-2a, ap-northeast-2c (this region offers it in no zone: is the type right?)"]


def test_a_zone_the_region_lacks_is_left_to_the_az_letter_check(ec2):
    assert offering_errors(ec2, checks(asg_zones=("a", "z"))) == []


def test_one_read_only_call_and_none_without_types():
    calls = []

    class Recording(object):
        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            attr = getattr(self._client, name)
            if name == "get_paginator":
                def paginator(operation):
                    calls.append(operation)
                    return attr(operation)
                return paginator
            if not callable(attr):
                return attr

            def call(*args, **kwargs):
                calls.append(name)
                kwargs.pop("aws_retry", None)
                return attr(*args, **kwargs)
            return call

    with mock_aws():
        client = Recording(boto3.client("ec2", region_name=REGION))
        describe_stack(client, None, None, "lab", ["network"], instance_types=checks())
        assert calls.count("describe_instance_type_offerings") == 1
        del calls[:]
        describe_stack(client, None, None, "lab", ["network"])
        assert "describe_instance_type_offerings" not in calls


def test_a_per_az_network_shows_every_address_gateway_and_table(ec2):
    built = build(ec2)
    ids = {}
    for az in "ac":
        eip = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip", "lab", "eip-" + az, "VPC-Lab-NAT-EIP-" + az.upper()))
        nat = ec2.create_nat_gateway(SubnetId=built["subnets"]["public-subnet-" + az], AllocationId=eip["AllocationId"],
                                     TagSpecifications=spec("natgateway", "lab", "nat-" + az))["NatGateway"]["NatGatewayId"]
        table = ec2.create_route_table(VpcId=built["vpc"], TagSpecifications=spec("route-table", "lab", "private-rt-" + az))["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        ids[az] = (eip, nat, table)
    network = network_of(ec2)
    # mid-switch from single: the lab's gateway and table are there too
    assert sorted(network["eips"]) == ["eip", "eip-a", "eip-c"]
    assert network["eips"]["eip-c"]["allocation_id"] == ids["c"][0]["AllocationId"]
    assert sorted(network["route_tables"]) == ["private-rt", "private-rt-a", "private-rt-c", "public-rt"]
    assert network["nat_gateway_ids"] == [built["nat"], ids["a"][1], ids["c"][1]]
    assert network["private_route_table_ids"] == [built["tables"]["private-rt"], ids["a"][2], ids["c"][2]]
    assert network["eip_allocation_ids"] == [built["eip"]["AllocationId"], ids["a"][0]["AllocationId"], ids["c"][0]["AllocationId"]]
    assert network["nat_mode"] == "mixed"
    assert [n["availability_mode"] for n in network["nat_gateways"]] == ["zonal"] * 3
    # the switch done: the lab's gateway, address and table gone
    ec2.delete_nat_gateway(NatGatewayId=built["nat"])
    ec2.release_address(AllocationId=built["eip"]["AllocationId"])
    for association in ec2.describe_route_tables(RouteTableIds=[built["tables"]["private-rt"]])["RouteTables"][0]["Associations"]:
        ec2.replace_route_table_association(AssociationId=association["RouteTableAssociationId"],
                                            RouteTableId=ids[association["SubnetId"] == built["subnets"]["private-subnet-a"] and "a" or "c"][2])
    ec2.delete_route_table(RouteTableId=built["tables"]["private-rt"])
    network = network_of(ec2)
    assert network["nat_mode"] == "per_az"
    assert (network["nat_gateway_id"], network["eip_allocation_id"], network["private_route_table_id"]) == (
        ids["a"][1], ids["a"][0]["AllocationId"], ids["a"][2])
    assert network["route_tables"]["private-rt-c"]["subnet_ids"] == [built["subnets"]["private-subnet-c"]]


def test_the_nat_mode_of_a_regional_gateway():
    from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import _nat_mode
    tables = {"private-rt": {"routes": {"0.0.0.0/0": "nat-r"}}, "public-rt": {"routes": {"0.0.0.0/0": "igw-1"}}}
    assert _nat_mode(tables, [{"id": "nat-r", "availability_mode": "regional"}]) == "regional"
    assert _nat_mode(tables, [{"id": "nat-r", "availability_mode": "zonal"}]) == "single"
    assert _nat_mode(tables, []) is None
