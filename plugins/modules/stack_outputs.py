#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: stack_outputs
short_description: Write the outputs file of an HA web stack
version_added: 0.1.0
description:
  - Writes C(<path>/<stack_name>.<region>.json) from the facts the roles hand on, for other tools and the
    load test. It keeps what identifies resources (ids, ARNs, names, the URL, the region), the
    stack's CloudWatch dashboard (name, console URL) and leaves out state that moves by itself
    (instances, capacity, resource states), so that a rerun rewrites nothing and reports no change.
  - It also holds the cost estimate of the stack as deployed (hourly, and monthly at 730 hours), from
    the price table shipped with the collection (C(plugins/module_utils/prices.py), dated, its source
    named). It counts NAT gateways, public IPv4 addresses (the NAT gateways' Elastic IPs and the load
    balancer's one per zone), the load balancer's hour and one LCU assumed, the group's InService
    instances by type, their root volumes (EBS) and the snapshots of the stack's images. Data
    transfer and NAT data processing are not in it. A region the table does not list has no figures,
    and says so. The estimate follows the group's InService count, so the file changes after the
    group scales (and only then).
  - The file is named by stack and region, so that stacks of one name in two regions do not
    overwrite each other's file.
  - Creates the directory when needed. One task instead of a directory, a template and a copy.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  path:
    description:
      - Directory of the outputs files.
      - A relative path is relative to the directory the module runs in; the playbooks give an
        absolute one, made from the directory the run started in.
    type: path
    required: true
  stack_name:
    description: The stack.
    type: str
    required: true
  region:
    description: The AWS region of the stack.
    type: str
    required: true
  parts:
    description:
      - The facts C(network), C(image), C(alb) and C(asg) (each may be null), and C(dashboard) (C(name), C(url); null
        when the stack has none).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write outputs/lab.ap-northeast-2.json
  immersionday.ha_web.stack_outputs:
    path: outputs
    stack_name: lab
    region: ap-northeast-2
    parts:
      network: "{{ ha_web_network }}"
      image: "{{ ha_web_image }}"
      alb: "{{ ha_web_alb }}"
      asg: "{{ ha_web_asg }}"
      dashboard: "{{ ha_web_asg.dashboard }}"
"""

RETURN = r"""
dest:
  description: The file written.
  returned: always
  type: str
  sample: outputs/lab.ap-northeast-2.json
outputs:
  description: The document, as written.
  returned: always
  type: dict
  contains:
    dashboard:
      description: The stack's CloudWatch dashboard, C(name) and console C(url); null when it has none.
      type: dict
      returned: always
    cost:
      description:
        - The cost estimate, in C(currency) (USD) - C(priced) (false for a region without price data, with C(message)),
          C(hourly) and C(monthly) totals (null when not priced), C(items) (each C(item), C(description), C(quantity),
          C(unit), C(unit_price), C(hourly), C(monthly)), C(usage) (what was counted), C(unpriced) (left out for want of a
          price), C(prices_as_of), C(source), C(hours_per_month), C(assumptions) and C(not_included).
      type: dict
      returned: always
      sample:
        priced: true
        region: ap-northeast-2
        currency: USD
        hourly: 0.1358
        monthly: 99.17
        prices_as_of: "2025-06"
        items:
          - {item: nat_gateway, description: NAT gateway, quantity: 1, unit: gateway-hour, unit_price: 0.059, hourly: 0.059, monthly: 43.07}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.outputs import file_name
from ansible_collections.immersionday.ha_web.plugins.module_utils.outputs import render
from ansible_collections.immersionday.ha_web.plugins.module_utils.outputs import stack_outputs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            stack_name=dict(type="str", required=True),
            region=dict(type="str", required=True),
            parts=dict(type="dict", required=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    document = stack_outputs(p["parts"], p["stack_name"], p["region"])
    content = render(document)
    dest = os.path.join(p["path"], file_name(p["stack_name"], p["region"]))
    before = None
    if os.path.exists(dest):
        with open(dest) as current:
            before = current.read()
    changed = before != content
    if changed and not module.check_mode:
        if not os.path.isdir(p["path"]):
            os.makedirs(p["path"])
        tmp = dest + ".tmp"
        with open(tmp, "w") as out:
            out.write(content)
        module.atomic_move(tmp, dest)
    result = dict(changed=changed, dest=dest, outputs=document)
    if module._diff:
        result["diff"] = dict(before=before or "", after=content, before_header=dest, after_header=dest)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
