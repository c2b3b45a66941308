#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vpc_network
short_description: The network of one lab stack (Elastic IP, VPC, subnets, gateways, route tables)
version_added: 0.1.0
description:
  - Reconciles lab Task 1 for one stack in one call - an Elastic IP, a VPC with DNS support and
    host names on, public and private subnets, an internet gateway, one NAT gateway using the
    Elastic IP in a public subnet, a route table C(Public route) (C(0.0.0.0/0) to the internet
    gateway, associated with the public subnets) and a route table C(Private route) (C(0.0.0.0/0)
    to the NAT gateway, associated with the private subnets).
  - Every resource is tagged C(ha_web:stack=<stack_name>) and C(ha_web:component=<component>) and
    found again by these tags, so reruns allocate nothing new and two stacks live side by side.
    The NAT gateway is found by its VPC, subnet and state (moto hides NAT gateway tags from filters).
    A C(failed) NAT gateway is deleted and replaced.
  - A rerun with nothing to change makes only Describe calls.
  - The input is validated before any mutating call (CIDRs, overlaps, one subnet per tier and AZ,
    AZ letters of the region, a public subnet for the NAT gateway).
  - I(state=absent) deletes the stack's NAT gateways and waits until they are deleted, then releases
    the Elastic IP and deletes the route tables, internet gateway, subnets and VPC.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  stack_name:
    description: The stack; the value of the C(ha_web:stack) tag of every resource.
    type: str
    required: true
  state:
    description: Whether the network should exist.
    type: str
    choices: [present, absent]
    default: present
  vpc_name:
    description:
      - Name tag of the VPC.
      - Defaults to C(VPC-Lab) for the stack C(lab), else C(<stack_name>-VPC-Lab).
    type: str
  vpc_cidr:
    description:
      - IPv4 CIDR block of the VPC (/16 to /28). Required when I(state=present).
      - A VPC's CIDR cannot change; a different value for an existing stack fails.
    type: str
  subnets:
    description:
      - The subnets, at most one per tier and AZ. Required when I(state=present).
      - A subnet's component tag is C(<tier>-subnet-<az>), e.g. C(public-subnet-a).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name tag. Defaults to C(Public subnet A) etc., prefixed C(<stack_name>-) for stacks other than C(lab).
        type: str
      cidr:
        description: IPv4 CIDR block inside I(vpc_cidr), overlapping no other subnet.
        type: str
        required: true
      az:
        description: Availability zone letter, e.g. C(a) for C(ap-northeast-2a).
        type: str
        required: true
      tier:
        description:
          - C(public) subnets map public IPs on launch and route to the internet gateway;
            C(private) ones route to the NAT gateway.
        type: str
        required: true
        choices: [public, private]
  nat_subnet:
    description:
      - The public subnet that hosts the NAT gateway, by its name or its AZ letter.
      - Defaults to the first public subnet in AZ order.
    type: str
  eip_name:
    description: Name tag of the Elastic IP. Defaults to C(VPC-Lab-NAT-EIP) (scoped per stack).
    type: str
  igw_name:
    description: Name tag of the internet gateway. Defaults to C(VPC-Lab-IGW) (scoped per stack).
    type: str
  nat_gateway_name:
    description: Name tag of the NAT gateway. Defaults to C(VPC-Lab-NAT) (scoped per stack).
    type: str
  public_route_table_name:
    description: Name tag of the public route table. Defaults to C(Public route) (scoped per stack).
    type: str
  private_route_table_name:
    description: Name tag of the private route table. Defaults to C(Private route) (scoped per stack).
    type: str
  tags:
    description:
      - Extra tags for every resource. Tags are added or updated, never removed.
    type: dict
  wait:
    description:
      - With I(state=present), wait until the NAT gateway is C(available).
      - I(state=absent) always waits for the NAT gateway's deletion, since the Elastic IP and
        its subnet cannot go before it.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the NAT gateway.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two looks while waiting.
    type: float
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Build the lab's network
  immersionday.ha_web.vpc_network:
    stack_name: lab
    region: ap-northeast-2
    vpc_cidr: 10.0.0.0/16
    subnets:
      - {name: Public subnet A, cidr: 10.0.10.0/24, az: a, tier: public}
      - {name: Private subnet A, cidr: 10.0.100.0/24, az: a, tier: private}
      - {name: Public subnet C, cidr: 10.0.20.0/24, az: c, tier: public}
      - {name: Private subnet C, cidr: 10.0.200.0/24, az: c, tier: private}
  register: network

- name: Start the NAT gateway and go on with other work
  immersionday.ha_web.vpc_network:
    stack_name: test
    vpc_cidr: 10.1.0.0/16
    subnets:
      - {cidr: 10.1.10.0/24, az: a, tier: public}
      - {cidr: 10.1.100.0/24, az: a, tier: private}
    wait: false

- name: Remove the network of stack test
  immersionday.ha_web.vpc_network:
    stack_name: test
    state: absent
"""

RETURN = r"""
network:
  description:
    - The stack's network, as the C(ha_web_network) fact. With I(state=absent), empty.
    - In check mode, ids of resources that would be created are null.
  returned: always
  type: dict
  contains:
    vpc_id:
      description: The VPC.
      type: str
      sample: vpc-0123456789abcdef0
    vpc_cidr:
      description: The VPC's CIDR block.
      type: str
      sample: 10.0.0.0/16
    public_subnet_ids:
      description: Public subnets in AZ order.
      type: list
      elements: str
    private_subnet_ids:
      description: Private subnets in AZ order.
      type: list
      elements: str
    subnets:
      description: Subnet id by component (C(public-subnet-a), ...).
      type: dict
    igw_id:
      description: The internet gateway.
      type: str
    nat_gateway_id:
      description: The NAT gateway.
      type: str
    nat_gateway_state:
      description: Its state, C(pending) until AWS makes it C(available) (with O(wait=false)).
      type: str
    eip_allocation_id:
      description: The Elastic IP of the NAT gateway.
      type: str
    eip_public_ip:
      description: Its public address.
      type: str
    public_route_table_id:
      description: The route table C(Public route).
      type: str
    private_route_table_id:
      description: The route table C(Private route).
      type: str
changes:
  description: What was changed (or would be, in check mode), one line per action.
  returned: always
  type: list
  elements: str
  sample: ["allocate Elastic IP VPC-Lab-NAT-EIP", "create VPC VPC-Lab 10.0.0.0/16"]
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import network
from ansible_collections.immersionday.ha_web.plugins.module_utils import network_input
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client


def argument_spec():
    subnet = dict(
        name=dict(type="str"),
        cidr=dict(type="str", required=True),
        az=dict(type="str", required=True),
        tier=dict(type="str", required=True, choices=["public", "private"]),
    )
    return dict(
        stack_name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        vpc_name=dict(type="str"),
        vpc_cidr=dict(type="str"),
        subnets=dict(type="list", elements="dict", options=subnet),
        nat_subnet=dict(type="str"),
        eip_name=dict(type="str"),
        igw_name=dict(type="str"),
        nat_gateway_name=dict(type="str"),
        public_route_table_name=dict(type="str"),
        private_route_table_name=dict(type="str"),
        tags=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="float", default=5.0),
    )


def run(module, client):
    params = module.params
    net = network.Network(client, check_mode=module.check_mode, wait=params["wait"],
                          wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"])
    result = {}
    if params["state"] == "absent":
        net.absent(params["stack_name"])
    else:
        errors = network_input.input_errors(params["vpc_cidr"], params["subnets"], params["nat_subnet"])
        if not errors:
            errors = network_input.az_errors(params["subnets"], client.meta.region_name, network.describe_zones(client))
        if errors:
            module.fail_json(msg="; ".join(errors), errors=errors)
        result = net.present(network.build_spec(params))
    for warning in net.warnings:
        module.warn(warning)
    diff = {"prepared": "".join(line + "\n" for line in net.changes)}
    return dict(changed=bool(net.changes), network=result, changes=net.changes, diff=diff)


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ["vpc_cidr", "subnets"])],
        supports_check_mode=True,
    )
    client = aws_client(module, "ec2")
    try:
        module.exit_json(**run(module, client))
    except network.NetworkError as e:
        module.fail_json(msg=str(e))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="vpc_network of stack %s" % module.params["stack_name"])


if __name__ == "__main__":
    main()
