# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/regional_nat_gateway.py against stubbed answers of the real EC2 API (botocore's
Stubber checks every request and answer against the service model shipped with botocore, which
has AvailabilityMode, AvailabilityZoneAddresses and the zone of each address)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY

from ansible_collections.immersionday.ha_web.plugins.module_utils import regional_nat_gateway as rn
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock

REGION = "ap-northeast-2"
VPC = "vpc-0123456789abcdef0"
NAT = "nat-0123456789abcdef0"
TAGS = {"Name": "VPC-Lab-NAT-Regional", "ha_web:stack": "lab", "ha_web:component": "nat-regional"}
MATCH = {"ha_web:stack": "lab", "ha_web:component": "nat-regional"}
WANTED = {REGION + "a": ["eipalloc-a"], REGION + "c": ["eipalloc-c"]}
LIVE = {"Filter": [{"Name": "vpc-id", "Values": [VPC]}, {"Name": "state", "Values": ["pending", "available"]}]}


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def stubbed(stubbed_client):
    return stubbed_client("ec2")


def address(zone, allocation, association=None, status="succeeded"):
    return {"AllocationId": allocation, "PublicIp": "203.0.113.%d" % len(allocation),
            "AssociationId": association or allocation.replace("eipalloc", "eipassoc"),
            "Status": status, "AvailabilityZone": zone, "IsPrimary": zone.endswith("a")}


def gateway(state="available", addresses=None, tags=None, mode="regional", gateway_id=NAT):
    return {"NatGatewayId": gateway_id, "VpcId": VPC, "State": state, "AvailabilityMode": mode, "ConnectivityType": "public",
            "CreateTime": datetime.datetime(2026, 11, 28, 4, 0, 0), "RouteTableId": "rtb-0fedcba9876543210",
            "NatGatewayAddresses": addresses if addresses is not None else [address(REGION + "a", "eipalloc-a"), address(REGION + "c", "eipalloc-c")],
            "Tags": [{"Key": k, "Value": v} for k, v in (TAGS if tags is None else tags).items()]}


DRY_RUN_PLACEHOLDER = {"DryRun": True, "AvailabilityMode": "regional", "VpcId": rn.PLACEHOLDER_VPC}


# ------------------------------------------------------------------------- probe

def test_probe_aws_would_succeed(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("create_nat_gateway", "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412,
                             expected_params={"DryRun": True, "AvailabilityMode": "regional", "VpcId": VPC})
    assert rn.probe(ec2, VPC) == (True, None)


def test_probe_before_the_vpc_exists_reads_a_vpc_error_as_support(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("create_nat_gateway", "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist" % rn.PLACEHOLDER_VPC, 400,
                             expected_params=DRY_RUN_PLACEHOLDER)
    assert rn.probe(ec2) == (True, None)


def test_probe_of_an_endpoint_that_reads_the_request_as_zonal(stubbed):
    # moto 5.2.5's answer: it ignores AvailabilityMode and looks for the subnet
    ec2, stubber = stubbed
    stubber.add_client_error("create_nat_gateway", "InvalidSubnetID.NotFound", "The subnet ID 'None' does not exist", 400,
                             expected_params=DRY_RUN_PLACEHOLDER)
    assert rn.probe(ec2) == (False, "InvalidSubnetID.NotFound: The subnet ID 'None' does not exist")


def test_probe_with_the_stacks_vpc_takes_a_vpc_error_as_no_support(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("create_nat_gateway", "InvalidParameterValue", "Value (regional) for parameter AvailabilityMode is invalid", 400,
                             expected_params={"DryRun": True, "AvailabilityMode": "regional", "VpcId": VPC})
    assert rn.probe(ec2, VPC)[0] is False


def test_probe_retries_throttling(stubbed, no_backoff_sleep):
    ec2, stubber = stubbed
    stubber.add_client_error("create_nat_gateway", "RequestLimitExceeded", "Request limit exceeded.", 503, expected_params=DRY_RUN_PLACEHOLDER)
    stubber.add_client_error("create_nat_gateway", "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412,
                             expected_params=DRY_RUN_PLACEHOLDER)
    assert rn.probe(ec2) == (True, None)
    assert len(no_backoff_sleep) == 1


def test_probe_denied_says_nothing_about_the_mode(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("create_nat_gateway", "UnauthorizedOperation", "You are not authorized to perform this operation.", 403,
                             expected_params=DRY_RUN_PLACEHOLDER)
    with pytest.raises(ClientError):
        rn.probe(ec2)


def test_probe_of_an_endpoint_that_ignores_dry_run_takes_its_gateway_back(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("create_nat_gateway", {"NatGateway": gateway("pending", addresses=[])}, DRY_RUN_PLACEHOLDER)
    stubber.add_response("delete_nat_gateway", {"NatGatewayId": NAT}, {"NatGatewayId": NAT})
    assert rn.probe(ec2) == (False, "the endpoint ignored DryRun and made NAT gateway %s (deleted again)" % NAT)


# ------------------------------------------------------------------------- ensure

def test_create_sends_the_regional_request_with_addresses_tags_and_a_client_token(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_nat_gateways", {"NatGateways": [gateway(mode="zonal", gateway_id="nat-zonal")]}, LIVE)
    stubber.add_response("create_nat_gateway", {"NatGateway": gateway("pending")}, {
        "AvailabilityMode": "regional", "VpcId": VPC, "ClientToken": "token-1",
        "AvailabilityZoneAddresses": [{"AvailabilityZone": REGION + "a", "AllocationIds": ["eipalloc-a"]},
                                      {"AvailabilityZone": REGION + "c", "AllocationIds": ["eipalloc-c"]}],
        "TagSpecifications": [{"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "VPC-Lab-NAT-Regional"},
                                                                      {"Key": "ha_web:component", "Value": "nat-regional"},
                                                                      {"Key": "ha_web:stack", "Value": "lab"}]}]})
    changed, made, actions, before = rn.ensure(ec2, VPC, WANTED, TAGS, MATCH, client_token="token-1")
    assert (changed, made["NatGatewayId"], made["State"], before) == (True, NAT, "pending", None)
    assert actions == ["create regional NAT gateway in %s with %sa: eipalloc-a; %sc: eipalloc-c" % (VPC, REGION, REGION)]


def test_a_throttled_creation_is_retried_with_the_same_token(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_nat_gateways", {"NatGateways": []}, LIVE)
    expected = {"AvailabilityMode": "regional", "VpcId": VPC, "ClientToken": ANY, "AvailabilityZoneAddresses": ANY, "TagSpecifications": ANY}
    stubber.add_client_error("create_nat_gateway", "RequestLimitExceeded", "Request limit exceeded.", 503, expected_params=expected)
    stubber.add_response("create_nat_gateway", {"NatGateway": gateway("pending")}, expected)
    tokens = []
    ec2.client.meta.events.register("provide-client-params.ec2.CreateNatGateway", lambda params, **kw: tokens.append(params["ClientToken"]))
    assert rn.ensure(ec2, VPC, WANTED, TAGS, MATCH)[0] is True
    assert len(tokens) == 2 and tokens[0] == tokens[1]


def test_check_mode_plans_a_creation_and_calls_nothing_else(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_nat_gateways", {"NatGateways": []}, LIVE)
    changed, made, actions, before = rn.ensure(ec2, VPC, WANTED, TAGS, MATCH, check_mode=True)
    assert (changed, made, before) == (True, None, None) and actions[0].startswith("create regional NAT gateway")


def test_a_converged_gateway_is_left_alone(stubbed):
    ec2, stubber = stubbed
    other = gateway(tags={"Name": "theirs", "ha_web:stack": "blue", "ha_web:component": "nat-regional"}, gateway_id="nat-blue")
    stubber.add_response("describe_nat_gateways", {"NatGateways": [other, gateway()]}, LIVE)
    changed, found, actions, before = rn.ensure(ec2, VPC, WANTED, TAGS, MATCH)
    assert (changed, found["NatGatewayId"], actions) == (False, NAT, [])
    assert before == {REGION + "a": ["eipalloc-a"], REGION + "c": ["eipalloc-c"]}


def test_addresses_are_added_before_the_old_ones_go_and_tags_are_repaired(stubbed):
    ec2, stubber = stubbed
    current = gateway(addresses=[address(REGION + "a", "eipalloc-old", "eipassoc-old"), address(REGION + "c", "eipalloc-c")],
                      tags=MATCH)
    stubber.add_response("describe_nat_gateways", {"NatGateways": [current]}, LIVE)
    stubber.add_response("associate_nat_gateway_address",
                         {"NatGatewayId": NAT, "NatGatewayAddresses": [address(REGION + "a", "eipalloc-a", status="associating")]},
                         {"NatGatewayId": NAT, "AllocationIds": ["eipalloc-a"], "AvailabilityZone": REGION + "a"})
    stubber.add_response("disassociate_nat_gateway_address", {"NatGatewayId": NAT, "NatGatewayAddresses": []},
                         {"NatGatewayId": NAT, "AssociationIds": ["eipassoc-old"]})
    stubber.add_response("create_tags", {}, {"Resources": [NAT], "Tags": [{"Key": "Name", "Value": "VPC-Lab-NAT-Regional"}]})
    stubber.add_response("describe_nat_gateways", {"NatGateways": [gateway()]}, {"NatGatewayIds": [NAT]})
    changed, found, actions, before = rn.ensure(ec2, VPC, WANTED, TAGS, MATCH)
    assert changed is True
    assert before == {REGION + "a": ["eipalloc-old"], REGION + "c": ["eipalloc-c"]}
    assert actions == ["associate eipalloc-a with %s in %sa" % (NAT, REGION), "disassociate eipassoc-old from %s" % NAT,
                       "tag %s with Name" % NAT]
    assert rn.zone_addresses(found) == {REGION + "a": ["eipalloc-a"], REGION + "c": ["eipalloc-c"]}


def test_a_pending_gateway_keeps_its_addresses_for_a_later_run(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_nat_gateways", {"NatGateways": [gateway("pending", addresses=[address(REGION + "a", "eipalloc-a")])]}, LIVE)
    changed, found, actions, before = rn.ensure(ec2, VPC, WANTED, TAGS, MATCH)
    assert changed is False
    assert actions == ["leave the addresses of %s, which is pending, for a later run" % NAT]


def test_an_address_on_its_way_out_does_not_count():
    going = gateway(addresses=[address(REGION + "a", "eipalloc-a"), address(REGION + "c", "eipalloc-c", status="disassociating")])
    assert rn.zone_addresses(going) == {REGION + "a": ["eipalloc-a"]}
    assert rn.address_changes(going, WANTED) == ([(REGION + "c", ["eipalloc-c"])], [])


# ------------------------------------------------------------------------- wait

def test_wait_pending_then_available(stubbed):
    ec2, stubber = stubbed
    for state in ("pending", "pending", "available"):
        stubber.add_response("describe_nat_gateways", {"NatGateways": [gateway(state)]}, {"NatGatewayIds": [NAT]})
    clock = FakeClock()
    assert rn.wait_available(ec2, NAT, 600, 15, sleep=clock.sleep, clock=clock.clock)["State"] == "available"


def test_wait_stops_on_a_failed_gateway_with_its_reason(stubbed):
    ec2, stubber = stubbed
    failed = dict(gateway("failed"), FailureCode="Gateway.NotAttached", FailureMessage="Network vpc-0123 has no Internet gateway attached")
    stubber.add_response("describe_nat_gateways", {"NatGateways": [failed]}, {"NatGatewayIds": [NAT]})
    clock = FakeClock()
    with pytest.raises(WaitFailed, match="is failed: Network vpc-0123 has no Internet gateway attached"):
        rn.wait_available(ec2, NAT, 600, 15, sleep=clock.sleep, clock=clock.clock)
