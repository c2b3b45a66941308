# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stack_outputs
short_description: The outputs document of a stack
version_added: 0.1.0
description:
  - Builds the document written to C(outputs/<stack_name>.json) from the facts the roles hand
    on. It keeps what identifies resources (ids, ARNs, names, the URL) and leaves out state that
    moves by itself (instances, capacity, resource states), so that a rerun rewrites nothing.
options:
  _input:
    description: Dict with keys C(network), C(image), C(alb), C(asg) (each a fact or null).
    type: dict
    required: true
  stack_name:
    description: The stack.
    type: str
    required: true
  region:
    description: The AWS region.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Write the outputs file
  ansible.builtin.copy:
    content: "{{ {'network': ha_web_network} | immersionday.ha_web.stack_outputs(stack_name, aws_region) | to_nice_json }}"
    dest: outputs/lab.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description: C(stack_name), C(region), C(url), and the kept keys of C(network), C(image), C(alb), C(asg).
  type: dict
"""

KEPT = {
    "network": ("vpc_id", "vpc_cidr", "public_subnet_ids", "private_subnet_ids", "subnets", "igw_id", "nat_gateway_id",
                "eip_allocation_id", "eip_public_ip", "public_route_table_id", "private_route_table_id"),
    "image": ("image_id", "name", "fingerprint"),
    "alb": ("dns_name", "url", "load_balancer_arn", "target_group_arn", "listener_arn", "security_group_id"),
    "asg": ("group_name", "launch_template_id", "launch_template_version", "security_group_id"),
}


def stack_outputs(parts, stack_name, region):
    document = {"stack_name": stack_name, "region": region, "url": ((parts or {}).get("alb") or {}).get("url")}
    for part, keys in KEPT.items():
        fact = (parts or {}).get(part)
        document[part] = dict((key, fact.get(key)) for key in keys) if fact else None
    return document


class FilterModule(object):
    def filters(self):
        return {"stack_outputs": stack_outputs}
