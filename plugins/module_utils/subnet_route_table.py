# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Subnets onto a route table with no moment in which they fall back to the VPC's main table (the
module subnet_route_table): a subnet another table holds moves with ReplaceRouteTableAssociation,
one call. amazon.aws.ec2_vpc_route_table disassociates such a subnet and associates it only on a
second run: meanwhile the subnet uses the main table, which has no way out.

Small functions taking a boto3 EC2 client wrapped by stack.aws_client (every call aws_retry=True)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import paginate


def current_associations(ec2, subnet_ids):
    """{subnet id: (route table id, association id)} of the subnets' explicit associations (a subnet
    on the main table has none)."""
    filters = [{"Name": "association.subnet-id", "Values": sorted(subnet_ids)}]
    held = {}
    for table in paginate(ec2, "describe_route_tables", Filters=filters).get("RouteTables", []):
        for association in table.get("Associations") or []:
            state = (association.get("AssociationState") or {}).get("State", "associated")
            if association.get("SubnetId") in subnet_ids and not association.get("Main") and state in ("associated", "associating"):
                held[association["SubnetId"]] = (table["RouteTableId"], association["RouteTableAssociationId"])
    return held


def plan(route_table_id, subnet_ids, held):
    """[(subnet id, table it leaves or None, association id or None)] for each subnet not on route_table_id yet."""
    moves = []
    for subnet_id in subnet_ids:
        table_id, association_id = held.get(subnet_id, (None, None))
        if table_id != route_table_id:
            moves.append((subnet_id, table_id, association_id))
    return moves


def ensure(ec2, route_table_id, subnet_ids, check_mode=False):
    """Put every subnet on route_table_id: ReplaceRouteTableAssociation for one held by another
    table, AssociateRouteTable for one on the main table. Returns the moves made (or to make):
    dicts subnet_id, from_route_table_id (null from the main table), association_id (the new one)."""
    if not ec2.describe_route_tables(Filters=[{"Name": "route-table-id", "Values": [route_table_id]}], aws_retry=True)["RouteTables"]:
        raise LookupError("route table %s does not exist" % route_table_id)
    done = []
    for subnet_id, from_table, association_id in plan(route_table_id, subnet_ids, current_associations(ec2, subnet_ids)):
        new_id = None
        if not check_mode:
            if association_id:
                new_id = ec2.replace_route_table_association(AssociationId=association_id, RouteTableId=route_table_id,
                                                             aws_retry=True)["NewAssociationId"]
            else:
                new_id = ec2.associate_route_table(RouteTableId=route_table_id, SubnetId=subnet_id, aws_retry=True)["AssociationId"]
        done.append({"subnet_id": subnet_id, "from_route_table_id": from_table, "association_id": new_id})
    return done
