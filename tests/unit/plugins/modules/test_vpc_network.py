# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.plugins.modules import vpc_network
from ansible_collections.immersionday.ha_web.tests.unit.lab_values import LAB_SUBNETS


class Failed(Exception):
    pass


class FakeModule(object):
    def __init__(self, check_mode=False, **params):
        self.params = dict((k, None) for k in vpc_network.argument_spec())
        self.params.update(state="present", wait=True, wait_timeout=60, poll_interval=1, vpc_cidr="10.0.0.0/16", subnets=LAB_SUBNETS)
        self.params.update(params)
        self.check_mode = check_mode
        self.warnings = []

    def fail_json(self, **kwargs):
        raise Failed(kwargs)

    def warn(self, message):
        self.warnings.append(message)


@pytest.fixture
def ec2(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    with mock_aws():
        raw = boto3.client("ec2", region_name="ap-northeast-2", aws_access_key_id="k", aws_secret_access_key="s")
        yield RetryingBotoClientWrapper(raw, retry_decorator()), raw


def count(raw, stack):
    f = [{"Name": "tag:ha_web:stack", "Values": [stack]}]
    return (len(raw.describe_addresses(Filters=f)["Addresses"]), len(raw.describe_vpcs(Filters=f)["Vpcs"]),
            len(raw.describe_subnets(Filters=f)["Subnets"]), len(raw.describe_internet_gateways(Filters=f)["InternetGateways"]),
            len(raw.describe_route_tables(Filters=f)["RouteTables"]))


def test_present_twice_then_absent_twice(ec2):
    client, raw = ec2
    check = vpc_network.run(FakeModule(check_mode=True, stack_name="lab"), client)
    assert check["changed"] is True and check["network"]["vpc_id"] is None
    assert count(raw, "lab") == (0, 0, 0, 0, 0)

    first = vpc_network.run(FakeModule(stack_name="lab"), client)
    assert first["changed"] is True
    assert first["changes"] == [line.replace("(new)", "") for line in first["changes"]]  # real ids, no placeholders
    net = first["network"]
    assert sorted(net) == sorted(["vpc_id", "vpc_cidr", "public_subnet_ids", "private_subnet_ids", "subnets", "igw_id", "nat_gateway_id", "nat_gateway_state",
                                  "eip_allocation_id", "eip_public_ip", "public_route_table_id", "private_route_table_id"])
    assert count(raw, "lab") == (1, 1, 4, 1, 2)
    second = vpc_network.run(FakeModule(stack_name="lab"), client)
    assert (second["changed"], second["changes"], second["network"]) == (False, [], net)
    assert vpc_network.run(FakeModule(check_mode=True, stack_name="lab"), client)["changed"] is False

    nats = raw.describe_nat_gateways()["NatGateways"]
    assert [(x["SubnetId"], x["NatGatewayAddresses"][0]["AllocationId"]) for x in nats] == [(net["subnets"]["public-subnet-a"], net["eip_allocation_id"])]
    tables = dict((t["RouteTableId"], t) for t in raw.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [net["vpc_id"]]}])["RouteTables"])
    private = tables[net["private_route_table_id"]]
    assert [r.get("NatGatewayId") for r in private["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0"] == [net["nat_gateway_id"]]
    assert sorted(a["SubnetId"] for a in private["Associations"]) == sorted(net["private_subnet_ids"])
    public = tables[net["public_route_table_id"]]
    assert [r.get("GatewayId") for r in public["Routes"] if r["DestinationCidrBlock"] == "0.0.0.0/0"] == [net["igw_id"]]

    other = vpc_network.run(FakeModule(stack_name="blue"), client)
    assert other["network"]["vpc_id"] != net["vpc_id"]
    gone = vpc_network.run(FakeModule(stack_name="blue", state="absent"), client)
    assert gone["changed"] is True and gone["network"] == {}
    assert count(raw, "blue") == (0, 0, 0, 0, 0)
    assert count(raw, "lab") == (1, 1, 4, 1, 2)
    again = vpc_network.run(FakeModule(stack_name="blue", state="absent"), client)
    assert (again["changed"], again["changes"]) == (False, [])


def test_bad_input_fails_before_any_call(ec2):
    client, raw = ec2
    subnets = [LAB_SUBNETS[0], dict(LAB_SUBNETS[1], cidr="10.1.10.0/24")]
    with pytest.raises(Failed) as e:
        vpc_network.run(FakeModule(stack_name="lab", subnets=subnets), client)
    assert e.value.args[0]["msg"] == "subnets[1].cidr 10.1.10.0/24 is not inside vpc_cidr 10.0.0.0/16"
    assert count(raw, "lab") == (0, 0, 0, 0, 0)


def test_az_letter_the_region_lacks(ec2):
    client, raw = ec2
    with pytest.raises(Failed) as e:
        vpc_network.run(FakeModule(stack_name="lab", subnets=[dict(LAB_SUBNETS[0], az="e")]), client)
    assert e.value.args[0]["msg"] == "subnets[0].az 'e' is not an availability zone of region ap-northeast-2 (it has a, b, c, d)"
    assert count(raw, "lab") == (0, 0, 0, 0, 0)
