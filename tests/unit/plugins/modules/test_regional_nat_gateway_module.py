# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The regional_nat_gateway module with stubbed answers of the real EC2 API: probe, create, rerun,
check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from botocore.stub import ANY

from ansible.module_utils.testing import patch_module_args
from ansible_collections.immersionday.ha_web.plugins.modules import regional_nat_gateway
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_regional_nat_gateway import LIVE
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_regional_nat_gateway import NAT
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_regional_nat_gateway import REGION
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_regional_nat_gateway import TAGS
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_regional_nat_gateway import VPC
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_regional_nat_gateway import gateway

ARGS = {"region": REGION, "vpc_id": VPC, "tags": TAGS, "match_tags": ["ha_web:stack", "ha_web:component"],
        "availability_zone_addresses": [{"availability_zone": REGION + "a", "allocation_ids": ["eipalloc-a"]},
                                        {"availability_zone": REGION + "c", "allocation_ids": ["eipalloc-c"]}]}


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def ec2(monkeypatch, stubbed_client):
    client, stubber = stubbed_client("ec2", region=REGION)
    monkeypatch.setattr(regional_nat_gateway, "aws_client", lambda module, service: client)
    return stubber


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            regional_nat_gateway.main()
    return json.loads(capsys.readouterr().out)


def test_probe_on_an_endpoint_without_the_mode(ec2, capsys):
    ec2.add_client_error("create_nat_gateway", "InvalidSubnetID.NotFound", "The subnet ID 'None' does not exist", 400,
                         expected_params={"DryRun": True, "AvailabilityMode": "regional", "VpcId": "vpc-00000000000000000"})
    result = run(capsys, {"region": REGION, "probe": True})
    assert (result["changed"], result["supported"], result["reason"]) == (False, False, "InvalidSubnetID.NotFound: The subnet ID 'None' does not exist")


def test_probe_denied_fails_naming_the_call(ec2, capsys):
    ec2.add_client_error("create_nat_gateway", "UnauthorizedOperation", "You are not authorized to perform this operation.", 403,
                         expected_params={"DryRun": True, "AvailabilityMode": "regional", "VpcId": VPC})
    result = run(capsys, {"region": REGION, "probe": True, "vpc_id": VPC})
    assert result["failed"] is True
    assert result["msg"].startswith("Could not ask the endpoint whether it creates regional NAT gateways (the probe is a CreateNatGateway with DryRun)")


def test_create_then_rerun(ec2, capsys):
    ec2.add_response("describe_nat_gateways", {"NatGateways": []}, LIVE)
    ec2.add_response("create_nat_gateway", {"NatGateway": gateway("pending")},
                     {"AvailabilityMode": "regional", "VpcId": VPC, "ClientToken": ANY, "AvailabilityZoneAddresses": ANY, "TagSpecifications": ANY})
    made = run(capsys, dict(ARGS, _ansible_diff=True))
    assert (made["changed"], made["nat_gateway_id"], made["state"], made["route_table_id"]) == (True, NAT, "pending", "rtb-0fedcba9876543210")
    assert made["diff"] == {"before": {}, "after": {"zone_addresses": {REGION + "a": ["eipalloc-a"], REGION + "c": ["eipalloc-c"]}}}
    assert made["nat_gateway"]["availability_mode"] == "regional" and made["nat_gateway"]["tags"] == TAGS
    ec2.add_response("describe_nat_gateways", {"NatGateways": [gateway()]}, LIVE)
    again = run(capsys, ARGS)
    assert (again["changed"], again["actions"], again["state"]) == (False, [], "available")
    assert again["zone_addresses"] == {REGION + "a": ["eipalloc-a"], REGION + "c": ["eipalloc-c"]}


def test_check_mode_on_a_fresh_vpc_creates_nothing(ec2, capsys):
    ec2.add_response("describe_nat_gateways", {"NatGateways": []}, LIVE)
    result = run(capsys, dict(ARGS, _ansible_check_mode=True))
    assert (result["changed"], result["nat_gateway_id"]) == (True, None)
    assert result["actions"][0].startswith("create regional NAT gateway in %s" % VPC)


def test_match_tags_must_be_given_tags(ec2, capsys):
    result = run(capsys, dict(ARGS, match_tags=["Owner"]))
    assert result["failed"] is True and result["msg"] == "match_tags names tags that tags does not give: Owner"
