# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/subnet_route_table.py with stubbed answers of the real EC2 API: a subnet another
table holds moves in one ReplaceRouteTableAssociation, never through the main table."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import subnet_route_table as srt

TABLE = "rtb-0000000000000000a"
OLD = "rtb-0000000000000000b"


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def stubbed(stubbed_client):
    return stubbed_client("ec2")


def route_table(table_id, *subnets):
    return {"RouteTableId": table_id, "VpcId": "vpc-1", "Routes": [], "Tags": [],
            "Associations": [{"Main": False, "RouteTableId": table_id, "SubnetId": subnet,
                              "RouteTableAssociationId": "rtbassoc-%s-%s" % (table_id[-1], subnet[-1]),
                              "AssociationState": {"State": "associated"}} for subnet in subnets]}


def expect_tables(stubber, held, subnets):
    stubber.add_response("describe_route_tables", {"RouteTables": [route_table(TABLE)]},
                         {"Filters": [{"Name": "route-table-id", "Values": [TABLE]}]})
    stubber.add_response("describe_route_tables", {"RouteTables": held},
                         {"Filters": [{"Name": "association.subnet-id", "Values": sorted(subnets)}]})


def test_a_subnet_held_by_another_table_moves_in_one_call(stubbed):
    ec2, stubber = stubbed
    expect_tables(stubber, [route_table(OLD, "subnet-1", "subnet-9")], ["subnet-1"])
    stubber.add_response("replace_route_table_association", {"NewAssociationId": "rtbassoc-new"},
                         {"AssociationId": "rtbassoc-b-1", "RouteTableId": TABLE})
    assert srt.ensure(ec2, TABLE, ["subnet-1"]) == [{"subnet_id": "subnet-1", "from_route_table_id": OLD, "association_id": "rtbassoc-new"}]


def test_a_subnet_on_the_main_table_is_associated(stubbed):
    ec2, stubber = stubbed
    expect_tables(stubber, [], ["subnet-2"])
    stubber.add_response("associate_route_table", {"AssociationId": "rtbassoc-2"}, {"RouteTableId": TABLE, "SubnetId": "subnet-2"})
    assert srt.ensure(ec2, TABLE, ["subnet-2"]) == [{"subnet_id": "subnet-2", "from_route_table_id": None, "association_id": "rtbassoc-2"}]


def test_subnets_already_on_the_table_make_no_call(stubbed):
    ec2, stubber = stubbed
    expect_tables(stubber, [route_table(TABLE, "subnet-1", "subnet-2")], ["subnet-1", "subnet-2"])
    assert srt.ensure(ec2, TABLE, ["subnet-1", "subnet-2"]) == []


def test_check_mode_says_what_would_move_and_moves_nothing(stubbed):
    ec2, stubber = stubbed
    expect_tables(stubber, [route_table(OLD, "subnet-1")], ["subnet-1", "subnet-2"])
    assert srt.ensure(ec2, TABLE, ["subnet-1", "subnet-2"], check_mode=True) == [
        {"subnet_id": "subnet-1", "from_route_table_id": OLD, "association_id": None},
        {"subnet_id": "subnet-2", "from_route_table_id": None, "association_id": None}]


def test_a_missing_table_fails_before_any_move(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_route_tables", {"RouteTables": []}, {"Filters": [{"Name": "route-table-id", "Values": [TABLE]}]})
    with pytest.raises(LookupError, match="route table %s does not exist" % TABLE):
        srt.ensure(ec2, TABLE, ["subnet-1"])


def test_a_disassociating_association_does_not_hold_the_subnet(stubbed):
    ec2, stubber = stubbed
    going = route_table(OLD, "subnet-1")
    going["Associations"][0]["AssociationState"]["State"] = "disassociating"
    stubber.add_response("describe_route_tables", {"RouteTables": [going]},
                         {"Filters": [{"Name": "association.subnet-id", "Values": ["subnet-1"]}]})
    assert srt.current_associations(ec2, ["subnet-1"]) == {}
