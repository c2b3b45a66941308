# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A regional NAT gateway (CreateNatGateway with AvailabilityMode=regional): one gateway for the
whole VPC, no subnet, with the Elastic IPs it uses zone by zone (AvailabilityZoneAddresses: its
manual mode, so that every public address is one the stack allocated, tagged and releases).
amazon.aws 10 creates zonal gateways only (the module regional_nat_gateway).

Small functions taking a boto3 EC2 client wrapped by stack.aws_client (every call aws_retry=True)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import error_code
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import paginate
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import poll
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of

LIVE_STATES = ["pending", "available"]
# Address states that no longer carry traffic (or never will).
GONE_ADDRESS_STATES = ("failed", "disassociating", "unassigning")
# A VPC id that cannot exist, for the probe of an endpoint before the stack has a VPC.
PLACEHOLDER_VPC = "vpc-00000000000000000"
DENIED = ("UnauthorizedOperation", "AccessDenied", "AccessDeniedException")


def probe(ec2, vpc_id=None):
    """(supported, reason): whether the endpoint creates regional NAT gateways, found out without
    creating anything: CreateNatGateway with DryRun=True. AWS answers DryRunOperation when the call
    would succeed; for a VPC that does not exist yet (the stack's first run: the placeholder), an
    InvalidVpcID error, which shows that it read the request as regional (one with no VpcId and no
    SubnetId is rejected otherwise). An endpoint without the mode (moto 5) reads it as zonal and
    answers about the missing subnet, or rejects the parameter. Denied access is raised: the
    answer says nothing about the mode."""
    try:
        answer = ec2.create_nat_gateway(DryRun=True, AvailabilityMode="regional", VpcId=vpc_id or PLACEHOLDER_VPC, aws_retry=True)
    except ClientError as e:
        code = error_code(e)
        if code == "DryRunOperation" or (vpc_id is None and str(code).startswith("InvalidVpcID")):
            return True, None
        if code in DENIED:
            raise
        return False, "%s: %s" % (code, e.response.get("Error", {}).get("Message", ""))
    # An endpoint that ignores DryRun made a gateway: take it back and say so.
    made = (answer.get("NatGateway") or {}).get("NatGatewayId")
    if made:
        ec2.delete_nat_gateway(NatGatewayId=made, aws_retry=True)
    return False, "the endpoint ignored DryRun and made NAT gateway %s (deleted again)" % made


def find_gateway(ec2, vpc_id, match_tags):
    """The VPC's live regional gateway whose tags include match_tags (the oldest if several), or None."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "state", "Values": LIVE_STATES}]
    gateways = paginate(ec2, "describe_nat_gateways", Filter=filters).get("NatGateways", [])
    matching = [g for g in gateways if g.get("AvailabilityMode") == "regional"
                and all(tags_of(g).get(key) == value for key, value in match_tags.items())]
    return sorted(matching, key=lambda g: (str(g.get("CreateTime") or ""), g["NatGatewayId"]))[0] if matching else None


def zone_addresses(gateway):
    """{zone: sorted allocation ids} of the addresses the gateway uses (or is taking on)."""
    zones = {}
    for address in (gateway or {}).get("NatGatewayAddresses") or []:
        if address.get("AllocationId") and address.get("Status") not in GONE_ADDRESS_STATES:
            zones.setdefault(address.get("AvailabilityZone"), []).append(address["AllocationId"])
    return dict((zone, sorted(ids)) for zone, ids in zones.items())


def address_changes(gateway, wanted):
    """What takes the gateway's addresses to `wanted` ({zone: [allocation ids]}): (associate, a list
    of (zone, [allocation ids]); disassociate, a list of association ids). Addresses are added
    before any is removed: a zone whose address changes keeps one throughout."""
    current = zone_addresses(gateway)
    associate = []
    for zone in sorted(wanted):
        missing = [a for a in sorted(wanted[zone]) if a not in current.get(zone, [])]
        if missing:
            associate.append((zone, missing))
    disassociate = sorted(
        address["AssociationId"] for address in gateway.get("NatGatewayAddresses") or []
        if address.get("AllocationId") and address.get("AssociationId") and address.get("Status") not in GONE_ADDRESS_STATES
        and address["AllocationId"] not in wanted.get(address.get("AvailabilityZone"), []))
    return associate, disassociate


def tag_changes(gateway, tags):
    """The tags to add or update (a tag not asked for stays)."""
    current = tags_of(gateway)
    return dict((key, value) for key, value in tags.items() if current.get(key) != value)


def create_gateway(ec2, vpc_id, wanted, tags, client_token=None):
    """CreateNatGateway, regional, with its addresses and tags. The client token makes a retried
    call (throttling, a lost answer) return the gateway the first attempt made."""
    params = {
        "AvailabilityMode": "regional",
        "VpcId": vpc_id,
        "AvailabilityZoneAddresses": [{"AvailabilityZone": zone, "AllocationIds": sorted(wanted[zone])} for zone in sorted(wanted)],
        "ClientToken": client_token or uuid.uuid4().hex,
    }
    if tags:
        params["TagSpecifications"] = [{"ResourceType": "natgateway", "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}]
    return ec2.create_nat_gateway(aws_retry=True, **params)["NatGateway"]


def get_gateway(ec2, gateway_id):
    found = ec2.describe_nat_gateways(NatGatewayIds=[gateway_id], aws_retry=True)["NatGateways"]
    return found[0] if found else None


def ensure(ec2, vpc_id, wanted, tags, match_tags, check_mode=False, client_token=None):
    """Make the VPC's regional gateway (found by match_tags) use `wanted` addresses and carry `tags`.

    Returns (changed, gateway or None in check mode for a new one, actions: what was, or would be,
    done, as short sentences, before: the addresses found, by zone, None for a new gateway). Addresses change only on an available gateway (AWS refuses on a
    pending one): a pending gateway's differing addresses are left for a later run, said in actions."""
    gateway = find_gateway(ec2, vpc_id, match_tags)
    if gateway is None:
        actions = ["create regional NAT gateway in %s with %s" % (vpc_id, describe_zones(wanted))]
        if check_mode:
            return True, None, actions, None
        return True, create_gateway(ec2, vpc_id, wanted, tags, client_token), actions, None
    gateway_id = gateway["NatGatewayId"]
    before = zone_addresses(gateway)
    actions = []
    associate, disassociate = address_changes(gateway, wanted)
    if (associate or disassociate) and gateway.get("State") != "available":
        actions.append("leave the addresses of %s, which is %s, for a later run" % (gateway_id, gateway.get("State")))
        associate, disassociate = [], []
    for zone, allocation_ids in associate:
        actions.append("associate %s with %s in %s" % (", ".join(allocation_ids), gateway_id, zone))
        if not check_mode:
            ec2.associate_nat_gateway_address(NatGatewayId=gateway_id, AllocationIds=allocation_ids, AvailabilityZone=zone, aws_retry=True)
    if disassociate:
        actions.append("disassociate %s from %s" % (", ".join(disassociate), gateway_id))
        if not check_mode:
            ec2.disassociate_nat_gateway_address(NatGatewayId=gateway_id, AssociationIds=disassociate, aws_retry=True)
    missing_tags = tag_changes(gateway, tags)
    if missing_tags:
        actions.append("tag %s with %s" % (gateway_id, ", ".join(sorted(missing_tags))))
        if not check_mode:
            ec2.create_tags(Resources=[gateway_id], Tags=[{"Key": k, "Value": v} for k, v in sorted(missing_tags.items())], aws_retry=True)
    changed = bool(associate or disassociate or missing_tags)
    if changed and not check_mode:
        gateway = get_gateway(ec2, gateway_id) or gateway
    return changed, gateway, actions, before


def describe_zones(wanted):
    return "; ".join("%s: %s" % (zone, ", ".join(sorted(wanted[zone]))) for zone in sorted(wanted)) or "no address"


def gateway_failure(gateway):
    if gateway and gateway.get("State") in ("failed", "deleting", "deleted"):
        return "NAT gateway %s is %s%s" % (gateway["NatGatewayId"], gateway["State"],
                                           (": " + gateway["FailureMessage"]) if gateway.get("FailureMessage") else "")
    return None


def wait_available(ec2, gateway_id, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Poll until the gateway is available; WaitFailed when it fails or goes, WaitTimeout."""
    try:
        return poll(lambda: get_gateway(ec2, gateway_id), lambda g: g is not None and g.get("State") == "available",
                    timeout, interval, failed=gateway_failure, sleep=sleep, clock=clock)
    except WaitTimeout as e:
        raise WaitTimeout("Timed out after %s s waiting for NAT gateway %s to become available: it is still %s"
                          % (timeout, gateway_id, (e.last or {}).get("State", "not found")), e.last)
