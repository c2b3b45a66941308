# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cidr_errors
short_description: What is wrong with a list of CIDR blocks
version_added: 0.2.0
description:
  - Checks that a value is a non-empty list of IPv4 or IPv6 CIDR blocks written as networks
    (C(10.0.0.0/16), not C(10.0.0.1/16)), without calling AWS.
  - Returns an empty list when they are fine, else one message naming the variable and the bad entries.
options:
  _input:
    description: The CIDR blocks.
    type: raw
    required: true
  label:
    description: How the message names the variable.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check the load balancer's ingress CIDRs before calling AWS
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __errors: "{{ alb_ingress_cidrs | immersionday.ha_web.cidr_errors('alb_ingress_cidrs') }}"
"""

RETURN = r"""
_value:
  description: One message when some entries are not CIDR blocks; empty when all are.
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import cidr_errors


class FilterModule(object):
    def filters(self):
        return {"cidr_errors": cidr_errors}
