#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: subnet_route_table
short_description: Move subnets onto a route table in one call each, never through the main table
version_added: 0.1.0
description:
  - Associates each subnet with the route table. A subnet that another route table holds moves
    with one C(ReplaceRouteTableAssociation), so that it is never without its own table; a subnet
    on the VPC's main table is associated with C(AssociateRouteTable).
  - M(amazon.aws.ec2_vpc_route_table) disassociates a subnet that another table holds and
    associates it only on its next run; meanwhile the subnet uses the main table (for a private
    subnet, no way out). Use this module to move a subnet between tables with traffic on it; the
    route table's routes and tags stay M(amazon.aws.ec2_vpc_route_table)'s.
  - Only the listed subnets change; the table keeps any other association. Idempotent.
  - Throttling is retried with jittered backoff.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  route_table_id:
    description: The route table the subnets move to.
    type: str
    required: true
  subnet_ids:
    description: The subnets.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Check mode reads the associations and says which subnets would move.
"""

EXAMPLES = r"""
- name: Move the private subnet of zone a onto its zone's route table
  immersionday.ha_web.subnet_route_table:
    route_table_id: "{{ private_route_a.route_table.id }}"
    subnet_ids: ["{{ private_subnet_a }}"]
"""

RETURN = r"""
moved:
  description: The subnets moved (or that would move in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    subnet_id: {description: The subnet., type: str}
    from_route_table_id: {description: The table it left (null when it was on the main table)., type: str}
    association_id: {description: Its new association (null in check mode)., type: str}
  sample: [{"subnet_id": "subnet-0123", "from_route_table_id": "rtb-0456", "association_id": "rtbassoc-0789"}]
"""

try:
    import botocore  # noqa: F401
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client
from ansible_collections.immersionday.ha_web.plugins.module_utils.subnet_route_table import ensure


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(route_table_id=dict(type="str", required=True), subnet_ids=dict(type="list", elements="str", required=True)),
        supports_check_mode=True,
    )
    table, subnets = module.params["route_table_id"], module.params["subnet_ids"]
    try:
        moved = ensure(aws_client(module, "ec2"), table, subnets, check_mode=module.check_mode)
    except LookupError as e:
        module.fail_json(msg=str(e), moved=[])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to move subnets %s onto route table %s" % (", ".join(subnets), table))
    result = dict(changed=bool(moved), moved=moved)
    if module._diff:
        result["diff"] = dict(before={"route_tables": dict((m["subnet_id"], m["from_route_table_id"] or "main") for m in moved)},
                              after={"route_tables": dict((m["subnet_id"], table) for m in moved)})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
