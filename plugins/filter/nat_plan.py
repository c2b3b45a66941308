# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: nat_plan
short_description: The network role's NAT egress for a mode, and the way to it from what exists
version_added: 0.1.0
description:
  - Given the network part of M(immersionday.ha_web.stack_info) and the role's subnet layout,
    returns the Elastic IPs, NAT gateways and private route tables of C(network_nat_mode)
    (C(single), C(per_az) or C(regional)), each with what was found and what the build has to do,
    and what waits until the new gateways are available (routes to replace, subnet associations to
    move, then the gateways, addresses and tables of another mode to delete), so that no private
    subnet is ever left without a way out.
  - Components only; the role maps them to the ids found or made during its run. No AWS call.
options:
  _input:
    description: The network part of M(immersionday.ha_web.stack_info) (C({}) when nothing exists).
    type: dict
    required: true
  layout:
    description: The subnets in AZ order, each with C(component), C(name), C(az), C(zone), C(public), C(found).
    type: list
    elements: dict
    required: true
  mode:
    description: C(single), C(per_az) or C(regional).
    type: str
    required: true
  nat_subnet:
    description: The layout entry of the public subnet of mode C(single)'s gateway.
    type: dict
    required: true
  names:
    description: Name tags of mode C(single) (C(eip), C(nat), C(private_rt)); the other modes derive theirs.
    type: dict
    required: true
  stack_tags:
    description: The tags every resource carries (the stack tag and the user's extra tags).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan the NAT egress of the mode
  ansible.builtin.set_fact:
    network__nat: >-
      {{ network__net | immersionday.ha_web.nat_plan(layout, network_nat_mode, nat_subnet,
                                                      {'eip': network_eip_name, 'nat': network_nat_gateway_name,
                                                       'private_rt': network_private_route_table_name},
                                                      network__stack_tags) }}
"""

RETURN = r"""
_value:
  description:
    - C(eips), C(gateways), C(tables) of the mode (each with C(component), C(name), C(tags), C(found),
      C(todo)); C(switch) (C(routes), C(moves), C(leftovers), C(todo)); C(errors).
  type: dict
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.network_nat import nat_plan


class FilterModule(object):
    def filters(self):
        return {"nat_plan": nat_plan}
