#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: regional_nat_gateway
short_description: A regional NAT gateway for a VPC, with its Elastic IPs zone by zone
version_added: 0.1.0
description:
  - Creates, or brings to the given addresses and tags, one regional NAT gateway of a VPC
    (C(CreateNatGateway) with C(AvailabilityMode=regional)) - a single gateway that serves every
    availability zone of the VPC, needs no subnet, and keeps serving the zones that remain when one
    fails. M(amazon.aws.ec2_vpc_nat_gateway) creates zonal gateways only.
  - The gateway uses the Elastic IPs given per zone (C(AvailabilityZoneAddresses), the gateway's
    manual mode), so that every public address it uses is one the caller allocated, tagged and
    releases. A zone's new address is associated before an old one is disassociated.
  - The gateway is found among the VPC's pending or available regional gateways by O(match_tags);
    tags in O(tags) are added or updated, never removed. Addresses change only on an available
    gateway (a pending one is left for a later run, said in RV(actions)).
  - With O(probe=true), only finds out whether the endpoint creates regional NAT gateways,
    without creating anything (a C(CreateNatGateway) with C(DryRun)); see RV(supported).
  - To delete the gateway, use M(amazon.aws.ec2_vpc_nat_gateway) with O(ignore:state=absent) and
    its id (C(DeleteNatGateway) is the same for both modes).
  - Throttling is retried with jittered backoff; a retried creation carries the same client token,
    so it never makes a second gateway.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  vpc_id:
    description:
      - The VPC. Required unless O(probe=true).
      - With O(probe=true) and no VPC yet, the probe asks about a VPC that cannot exist.
    type: str
  availability_zone_addresses:
    description: The Elastic IPs the gateway uses, per availability zone. Required unless O(probe=true).
    type: list
    elements: dict
    suboptions:
      availability_zone:
        description: The zone name, such as C(ap-northeast-2a).
        type: str
        required: true
      allocation_ids:
        description: Allocation ids of Elastic IPs (domain vpc) for that zone.
        type: list
        elements: str
        required: true
  tags:
    description: Tags of the gateway, given at creation and added or updated later.
    type: dict
    default: {}
  match_tags:
    description:
      - Keys of O(tags) that identify the gateway among the VPC's regional gateways (the others may
        change without making a new gateway).
    type: list
    elements: str
    default: [Name]
  probe:
    description: Only find out whether the endpoint creates regional NAT gateways; changes nothing.
    type: bool
    default: false
  wait:
    description: Wait until the gateway is available.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two reads of the gateway while waiting.
    type: float
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Check mode reads the gateway and says what it would do; with O(probe=true) it probes (a
    C(DryRun) changes nothing).
  - AWS creates a route table for a regional gateway (its C(route_table_id)), with a route to the
    internet gateway; the VPC needs an attached internet gateway.
"""

EXAMPLES = r"""
- name: Find out whether the endpoint creates regional NAT gateways
  immersionday.ha_web.regional_nat_gateway:
    probe: true
    vpc_id: "{{ vpc_id | default(omit) }}"
  register: probed

- name: One regional NAT gateway for the VPC, with one address in each zone
  immersionday.ha_web.regional_nat_gateway:
    vpc_id: "{{ vpc_id }}"
    availability_zone_addresses:
      - availability_zone: ap-northeast-2a
        allocation_ids: ["{{ eip_a.allocation_id }}"]
      - availability_zone: ap-northeast-2c
        allocation_ids: ["{{ eip_c.allocation_id }}"]
    tags:
      Name: VPC-Lab-NAT-Regional
      ha_web:stack: lab
      ha_web:component: nat-regional
    match_tags: [ha_web:stack, ha_web:component]
  register: regional
"""

RETURN = r"""
supported:
  description:
    - Whether the endpoint creates regional NAT gateways. With O(probe=true), from its answer to a
      C(DryRun) (true also when it rejects only the placeholder VPC); otherwise true.
  returned: always
  type: bool
reason:
  description: Why the endpoint does not support it (its error code and message), with O(probe=true).
  returned: when RV(supported) is false
  type: str
  sample: "InvalidSubnetID.NotFound: The subnet ID 'None' does not exist"
nat_gateway_id:
  description: The gateway (null in check mode for one that would be created, and with O(probe=true)).
  returned: always
  type: str
  sample: nat-0123456789abcdef0
state:
  description: Its state (C(pending) right after creation, C(available) once usable).
  returned: always
  type: str
route_table_id:
  description: The route table AWS made for the gateway.
  returned: when AWS gives it
  type: str
zone_addresses:
  description: The allocation ids the gateway uses, by zone.
  returned: always
  type: dict
  sample: {"ap-northeast-2a": ["eipalloc-0123"], "ap-northeast-2c": ["eipalloc-4567"]}
actions:
  description: What the module did (or would do in check mode), one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["associate eipalloc-4567 with nat-0123456789abcdef0 in ap-northeast-2c"]
nat_gateway:
  description: The gateway as DescribeNatGateways answers it, keys in snake_case, tags as a dict.
  returned: when a gateway exists
  type: dict
"""

import time

try:
    import botocore  # noqa: F401
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.immersionday.ha_web.plugins.module_utils.regional_nat_gateway import ensure
from ansible_collections.immersionday.ha_web.plugins.module_utils.regional_nat_gateway import probe
from ansible_collections.immersionday.ha_web.plugins.module_utils.regional_nat_gateway import wait_available
from ansible_collections.immersionday.ha_web.plugins.module_utils.regional_nat_gateway import zone_addresses
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client


def outcome(gateway, actions, wanted):
    result = dict(supported=True, actions=actions, nat_gateway_id=None, state=None, zone_addresses=wanted)
    if gateway:
        result.update(nat_gateway_id=gateway["NatGatewayId"], state=gateway.get("State"), zone_addresses=zone_addresses(gateway),
                      nat_gateway=boto3_resource_to_ansible_dict(gateway))
        if gateway.get("RouteTableId"):
            result["route_table_id"] = gateway["RouteTableId"]
    return result


def main(sleep=time.sleep, clock=time.monotonic):
    argument_spec = dict(
        vpc_id=dict(type="str"),
        availability_zone_addresses=dict(type="list", elements="dict", options=dict(
            availability_zone=dict(type="str", required=True),
            allocation_ids=dict(type="list", elements="str", required=True),
        )),
        tags=dict(type="dict", default={}),
        match_tags=dict(type="list", elements="str", default=["Name"]),
        probe=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="float", default=15.0),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[["probe", False, ["vpc_id", "availability_zone_addresses"]]],
        supports_check_mode=True,
    )
    p = module.params
    ec2 = aws_client(module, "ec2")
    if p["probe"]:
        try:
            supported, reason = probe(ec2, p["vpc_id"])
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            module.fail_json_aws(e, msg="Could not ask the endpoint whether it creates regional NAT gateways"
                                 " (the probe is a CreateNatGateway with DryRun)")
        result = dict(changed=False, supported=supported, actions=[], nat_gateway_id=None, state=None, zone_addresses={})
        if not supported:
            result["reason"] = reason
        module.exit_json(**result)

    wanted = {}
    for entry in p["availability_zone_addresses"]:
        wanted.setdefault(entry["availability_zone"], []).extend(entry["allocation_ids"])
    missing = [key for key in p["match_tags"] if key not in p["tags"]]
    if missing:
        module.fail_json(msg="match_tags names tags that tags does not give: %s" % ", ".join(missing))
    match = dict((key, p["tags"][key]) for key in p["match_tags"])
    changed = False
    try:
        changed, gateway, actions, before = ensure(ec2, p["vpc_id"], wanted, p["tags"], match, check_mode=module.check_mode)
        if gateway and p["wait"] and not module.check_mode and gateway.get("State") != "available":
            gateway = wait_available(ec2, gateway["NatGatewayId"], p["wait_timeout"], p["poll_interval"], sleep=sleep, clock=clock)
    except (WaitFailed, WaitTimeout) as e:
        module.fail_json(msg=str(e), changed=changed, **outcome(e.last, [], wanted))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to create or update the regional NAT gateway of %s" % p["vpc_id"])
    result = dict(changed=changed, **outcome(gateway, actions, wanted))
    if module._diff:
        result["diff"] = dict(before={"zone_addresses": before} if before is not None else {},
                              after={"zone_addresses": dict((zone, sorted(ids)) for zone, ids in wanted.items())})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
