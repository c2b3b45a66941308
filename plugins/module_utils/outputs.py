# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outputs document of a stack (outputs/<stack_name>.json)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# What identifies resources. State that moves by itself (instances, capacity, resource states)
# stays out, so that a rerun rewrites nothing.
KEPT = {
    "network": ("vpc_id", "vpc_cidr", "public_subnet_ids", "private_subnet_ids", "subnets", "igw_id", "nat_gateway_id",
                "eip_allocation_id", "eip_public_ip", "public_route_table_id", "private_route_table_id",
                "nat_mode", "nat_gateway_ids", "eip_allocation_ids", "eip_public_ips", "private_route_table_ids"),
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


def render(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
