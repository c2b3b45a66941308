# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: network_input_errors
short_description: What is wrong with the network role's input
version_added: 0.1.0
description:
  - Checks the network role's subnets and VPC CIDR without calling AWS and returns one message
    per problem, naming the role variable and the rule (for example
    C(network_subnets[1].cidr 10.1.10.0/24 is not inside network_vpc_cidr 10.0.0.0/16)).
  - Rules - valid IPv4 CIDR blocks of /16 to /28; every subnet inside the VPC CIDR; no overlaps;
    at most one subnet per tier and AZ letter; tier C(public) or C(private); no key but C(name),
    C(cidr), C(az), C(tier); at least one subnet; a public subnet for the NAT gateway (the one
    C(nat_subnet) names, if given); C(nat_mode) one of C(single), C(per_az), C(regional);
    C(nat_subnet) only with C(single); with C(per_az), a public subnet in every AZ that has a
    private subnet.
  - Once those pass, what the lab needs - public subnets in at least two AZs (the load balancer),
    one of them in AZ C(a) (the AMI builder), at least one private subnet (the Auto Scaling group).
  - Given C(zones) and C(region) (the role's look-up reads the region's zones), the AZ letters too,
    once the static rules pass.
  - An empty list means the input is fine.
options:
  _input:
    description: The subnets (dicts with C(name), C(cidr), C(az), C(tier)).
    type: list
    elements: dict
    required: true
  vpc_cidr:
    description: The VPC CIDR block.
    type: str
    required: true
  nat_subnet:
    description: Name or AZ letter of the public subnet hosting the NAT gateway; empty for the first public one.
    type: str
    default: ""
  prefix:
    description: Prefix of the variable names in the messages.
    type: str
    default: network_
  nat_mode:
    description: The NAT mode (C(network_nat_mode)).
    type: str
    default: single
  zones:
    description: The region's availability zone names (M(immersionday.ha_web.stack_info)'s C(availability_zones)).
    type: list
    elements: str
  region:
    description: The region of C(zones).
    type: str
"""

EXAMPLES = r"""
- name: Check the network input before calling AWS
  ansible.builtin.assert:
    that: network__input_errors | length == 0
    fail_msg: "{{ network__input_errors | join('; ') }}"
  vars:
    network__input_errors: "{{ network_subnets | immersionday.ha_web.network_input_errors(network_vpc_cidr, network_nat_subnet) }}"

- name: Check the AZ letters against the region's zones found by the look-up
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __errors: "{{ network_subnets | immersionday.ha_web.network_input_errors(network_vpc_cidr, zones=found.availability_zones, region='ap-northeast-2') }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the input is valid.
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.network_input import az_errors
from ansible_collections.immersionday.ha_web.plugins.module_utils.network_input import input_errors
from ansible_collections.immersionday.ha_web.plugins.module_utils.network_input import layout_errors


def network_input_errors(subnets, vpc_cidr, nat_subnet="", prefix="network_", zones=None, region=None, nat_mode="single"):
    errors = input_errors(vpc_cidr, subnets, nat_subnet or None, prefix, nat_mode)
    if not errors:
        errors = layout_errors(subnets, prefix) + (az_errors(subnets, region, zones, prefix) if zones is not None else [])
    return errors


class FilterModule(object):
    def filters(self):
        return {"network_input_errors": network_input_errors}
