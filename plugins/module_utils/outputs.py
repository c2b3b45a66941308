# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outputs document of a stack (outputs/<stack_name>.<region>.json)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.immersionday.ha_web.plugins.module_utils.cost import stack_cost

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


def file_name(stack_name, region):
    """'<stack_name>.<region>.json': stacks of one name in two regions keep a file each (neither a
    stack name nor a region has a dot)."""
    return "%s.%s.json" % (stack_name, region)


def stack_outputs(parts, stack_name, region):
    """The document: what identifies the stack's resources, its dashboard (name, console URL) and
    the cost estimate. The estimate counts the group's InService instances: the file changes when
    the group scales, and only then."""
    document = {"stack_name": stack_name, "region": region, "url": ((parts or {}).get("alb") or {}).get("url")}
    for part, keys in KEPT.items():
        fact = (parts or {}).get(part)
        document[part] = dict((key, fact.get(key)) for key in keys) if fact else None
    dashboard = (parts or {}).get("dashboard")
    document["dashboard"] = {"name": dashboard.get("name"), "url": dashboard.get("url")} if dashboard else None
    document["cost"] = stack_cost(parts, region)
    return document


def render(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
