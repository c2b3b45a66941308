# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/network_nat.py: the egress of each NAT mode, and the switch between modes that
never leaves a private subnet without a way out (what waits for the new gateways, what goes last)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import network_nat as nn
from ansible_collections.immersionday.ha_web.plugins.filter.nat_plan import FilterModule

REGION = "ap-northeast-2"
STACK_TAGS = {"ha_web:stack": "lab"}
NAMES = {"eip": "VPC-Lab-NAT-EIP", "nat": "VPC-Lab-NAT", "private_rt": "Private route"}
SUBNET_IDS = {"public-subnet-a": "subnet-pa", "private-subnet-a": "subnet-qa", "public-subnet-c": "subnet-pc", "private-subnet-c": "subnet-qc"}


def layout(found=True):
    entries = []
    for tier, az in (("public", "a"), ("private", "a"), ("public", "c"), ("private", "c")):
        component = "%s-subnet-%s" % (tier, az)
        entries.append({"component": component, "name": "%s subnet %s" % (tier.capitalize(), az.upper()), "az": az,
                        "zone": REGION + az, "public": tier == "public", "found": {"id": SUBNET_IDS[component]} if found else None})
    return entries


def plan(net, mode, found=True):
    subnets = layout(found)
    return nn.nat_plan(net, subnets, mode, subnets[0], NAMES, STACK_TAGS)


def tags(component, name=None, stack="lab"):
    result = {"ha_web:stack": stack, "ha_web:component": component}
    if name:
        result["Name"] = name
    return result


def eip(component, name):
    return {"allocation_id": "eipalloc-" + component, "public_ip": "198.51.100.%d" % len(component), "association_id": "eipassoc-" + component,
            "network_interface_id": "eni-" + component, "tags": tags(component, name)}


def nat(component, name, subnet, eips, state="available", mode="zonal", stack="lab", zone_addresses=None):
    return {"id": "nat-" + component, "state": state, "subnet_id": subnet, "tags": tags(component, name, stack), "component": component,
            "availability_mode": mode, "allocation_ids": ["eipalloc-" + e for e in eips], "network_interface_ids": ["eni-" + e for e in eips],
            "zone_addresses": zone_addresses or [], "failure_message": None}


def table(component, name, target, subnets):
    return {"id": "rtb-" + component, "vpc_id": "vpc-1", "tags": tags(component, name),
            "routes": {"10.0.0.0/16": "local", "0.0.0.0/0": target}, "subnet_ids": sorted(subnets)}


def single_stack():
    return {"eips": {"eip": eip("eip", "VPC-Lab-NAT-EIP")},
            "nat_gateways": [nat("nat", "VPC-Lab-NAT", "subnet-pa", ["eip"])],
            "route_tables": {"public-rt": table("public-rt", "Public route", "igw-1", ["subnet-pa", "subnet-pc"]),
                             "private-rt": table("private-rt", "Private route", "nat-nat", ["subnet-qa", "subnet-qc"])}}


def per_az_stack():
    return {"eips": {"eip-a": eip("eip-a", "VPC-Lab-NAT-EIP-A"), "eip-c": eip("eip-c", "VPC-Lab-NAT-EIP-C")},
            "nat_gateways": [nat("nat-a", "VPC-Lab-NAT-A", "subnet-pa", ["eip-a"]), nat("nat-c", "VPC-Lab-NAT-C", "subnet-pc", ["eip-c"])],
            "route_tables": {"public-rt": table("public-rt", "Public route", "igw-1", ["subnet-pa", "subnet-pc"]),
                             "private-rt-a": table("private-rt-a", "Private route A", "nat-nat-a", ["subnet-qa"]),
                             "private-rt-c": table("private-rt-c", "Private route C", "nat-nat-c", ["subnet-qc"])}}


def regional_stack():
    zones = [[REGION + "a", "eipalloc-eip-regional-a"], [REGION + "c", "eipalloc-eip-regional-c"]]
    return {"eips": {"eip-regional-a": eip("eip-regional-a", "VPC-Lab-NAT-EIP-Regional-A"),
                     "eip-regional-c": eip("eip-regional-c", "VPC-Lab-NAT-EIP-Regional-C")},
            "nat_gateways": [nat("nat-regional", "VPC-Lab-NAT-Regional", None, ["eip-regional-a", "eip-regional-c"], mode="regional",
                                 zone_addresses=zones)],
            "route_tables": {"public-rt": table("public-rt", "Public route", "igw-1", ["subnet-pa", "subnet-pc"]),
                             "private-rt": table("private-rt", "Private route", "nat-nat-regional", ["subnet-qa", "subnet-qc"])}}


def summary(result):
    """What each resource of the plan does at build time, and the switch, in a few words."""
    return {
        "eips": [(e["component"], e["name"], e["todo"]) for e in result["eips"]],
        "gateways": [(g["component"], g["name"], g["mode"], g["subnet"], g["todo"]) for g in result["gateways"]],
        "tables": [(t["component"], t["name"], t["gateway"], t["route"], t["subnets"], t["todo"]) for t in result["tables"]],
        "routes": result["switch"]["routes"],
        "moves": [(m["table"], m["subnet"], m["from"]) for m in result["switch"]["moves"]],
        "leftovers": dict((kind, [r.get("id") or r.get("allocation_id") for r in found]) for kind, found in result["switch"]["leftovers"].items()),
        "switch": result["switch"]["todo"],
        "errors": result["errors"],
    }


NO_LEFTOVERS = {"gateways": [], "eips": [], "tables": []}


# ------------------------------------------------------------------------- a fresh stack, each mode

def test_fresh_single_is_the_lab():
    result = plan({}, "single", found=False)
    assert summary(result) == {
        "eips": [("eip", "VPC-Lab-NAT-EIP", True)],
        "gateways": [("nat", "VPC-Lab-NAT", "zonal", "public-subnet-a", True)],
        "tables": [("private-rt", "Private route", "nat", "gateway", ["private-subnet-a", "private-subnet-c"], True)],
        "routes": [], "moves": [], "leftovers": NO_LEFTOVERS, "switch": False, "errors": []}
    assert result["tables"][0]["tags"] == {"ha_web:stack": "lab", "ha_web:component": "private-rt", "Name": "Private route"}


def test_fresh_per_az_has_a_gateway_and_a_table_per_zone():
    result = plan({}, "per_az", found=False)
    assert summary(result) == {
        "eips": [("eip-a", "VPC-Lab-NAT-EIP-A", True), ("eip-c", "VPC-Lab-NAT-EIP-C", True)],
        "gateways": [("nat-a", "VPC-Lab-NAT-A", "zonal", "public-subnet-a", True), ("nat-c", "VPC-Lab-NAT-C", "zonal", "public-subnet-c", True)],
        "tables": [("private-rt-a", "Private route A", "nat-a", "gateway", ["private-subnet-a"], True),
                   ("private-rt-c", "Private route C", "nat-c", "gateway", ["private-subnet-c"], True)],
        "routes": [], "moves": [], "leftovers": NO_LEFTOVERS, "switch": False, "errors": []}
    assert result["gateways"][1]["tags"]["ha_web:component"] == "nat-c"


def test_fresh_regional_has_one_gateway_with_an_address_per_zone():
    result = plan({}, "regional", found=False)
    assert summary(result)["gateways"] == [("nat-regional", "VPC-Lab-NAT-Regional", "regional", None, True)]
    assert result["gateways"][0]["zones"] == [[REGION + "a", "eip-regional-a"], [REGION + "c", "eip-regional-c"]]
    assert [e["name"] for e in result["eips"]] == ["VPC-Lab-NAT-EIP-Regional-A", "VPC-Lab-NAT-EIP-Regional-C"]
    assert summary(result)["tables"] == [("private-rt", "Private route", "nat-regional", "gateway",
                                          ["private-subnet-a", "private-subnet-c"], True)]


def test_the_filter_is_the_plan():
    assert FilterModule().filters()["nat_plan"] is nn.nat_plan


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="network_nat_mode 'dual' must be one of single, per_az, regional"):
        plan({}, "dual")


# ------------------------------------------------------------------------- converged: nothing to do

@pytest.mark.parametrize("mode, stack", [("single", single_stack), ("per_az", per_az_stack), ("regional", regional_stack)])
def test_a_converged_stack_has_nothing_to_do(mode, stack):
    result = summary(plan(stack(), mode))
    assert [e[-1] for e in result["eips"]] == [False] * len(result["eips"])
    assert [g[-1] for g in result["gateways"]] == [False] * len(result["gateways"])
    assert [t[-1] for t in result["tables"]] == [False] * len(result["tables"])
    assert (result["routes"], result["moves"], result["leftovers"], result["switch"], result["errors"]) == ([], [], NO_LEFTOVERS, False, [])


# ------------------------------------------------------------------------- switches

def test_single_to_per_az_builds_beside_then_moves_the_subnets_then_removes_the_lab_gateway():
    result = summary(plan(single_stack(), "per_az"))
    # the new tables route to the new gateways from the start but take no subnet yet
    assert result["tables"] == [("private-rt-a", "Private route A", "nat-a", "gateway", [], True),
                                ("private-rt-c", "Private route C", "nat-c", "gateway", [], True)]
    # once the new gateways are available: each private subnet moves (one call), then the lab's gateway,
    # address and table go
    assert result["moves"] == [("private-rt-a", "private-subnet-a", "private-rt"), ("private-rt-c", "private-subnet-c", "private-rt")]
    assert result["leftovers"] == {"gateways": ["nat-nat"], "eips": ["eipalloc-eip"], "tables": ["rtb-private-rt"]}
    assert result["switch"] is True and result["errors"] == []


def test_per_az_to_single_builds_the_lab_table_empty_then_moves_both_subnets_onto_it():
    result = summary(plan(per_az_stack(), "single"))
    assert result["gateways"] == [("nat", "VPC-Lab-NAT", "zonal", "public-subnet-a", True)]
    assert result["tables"] == [("private-rt", "Private route", "nat", "gateway", [], True)]
    assert result["moves"] == [("private-rt", "private-subnet-a", "private-rt-a"), ("private-rt", "private-subnet-c", "private-rt-c")]
    assert result["leftovers"] == {"gateways": ["nat-nat-a", "nat-nat-c"], "eips": ["eipalloc-eip-a", "eipalloc-eip-c"],
                                   "tables": ["rtb-private-rt-a", "rtb-private-rt-c"]}


def test_single_to_regional_keeps_the_route_through_the_lab_gateway_until_the_regional_one_is_available():
    result = plan(single_stack(), "regional")
    assert summary(result)["tables"] == [("private-rt", "Private route", "nat-regional", "keep",
                                          ["private-subnet-a", "private-subnet-c"], False)]
    assert result["switch"]["routes"] == [{"table": "private-rt", "gateway": "nat-regional"}]
    assert summary(result)["leftovers"] == {"gateways": ["nat-nat"], "eips": ["eipalloc-eip"], "tables": []}


def test_a_route_moves_at_build_time_when_the_new_gateway_is_already_available():
    # an interrupted switch: the regional gateway is up, the table still routes through the lab's
    net = single_stack()
    net["eips"].update(regional_stack()["eips"])
    net["nat_gateways"] += regional_stack()["nat_gateways"]
    result = plan(net, "regional")
    assert summary(result)["tables"][0][3:] == ("gateway", ["private-subnet-a", "private-subnet-c"], True)
    assert result["switch"]["routes"] == []
    assert summary(result)["leftovers"]["gateways"] == ["nat-nat"]


def test_a_pending_new_gateway_keeps_the_old_route():
    net = single_stack()
    net["eips"].update(regional_stack()["eips"])
    net["nat_gateways"] += [dict(regional_stack()["nat_gateways"][0], state="pending")]
    result = plan(net, "regional")
    assert summary(result)["tables"][0][3] == "keep"
    assert summary(result)["gateways"] == [("nat-regional", "VPC-Lab-NAT-Regional", "regional", None, False)]


def test_a_route_through_a_gone_gateway_is_repaired_at_build_time():
    net = single_stack()
    net["nat_gateways"] = [dict(net["nat_gateways"][0], state="deleted")]
    net["route_tables"]["private-rt"]["routes"]["0.0.0.0/0"] = None  # blackhole
    result = plan(net, "single")
    assert summary(result)["gateways"] == [("nat", "VPC-Lab-NAT", "zonal", "public-subnet-a", True)]
    assert summary(result)["tables"][0][3:] == ("gateway", ["private-subnet-a", "private-subnet-c"], True)
    assert result["switch"]["todo"] is False
    # moto keeps the address on the deleted gateway's interface: the role frees it first
    assert result["eips"][0]["held_by_deleted_nat"] is True


def test_a_subnet_keeps_its_old_table_in_the_build_until_it_moves():
    # per_az -> single, interrupted after the lab table took subnet a: subnet c stays where it is
    net = per_az_stack()
    net["nat_gateways"].append(nat("nat", "VPC-Lab-NAT", "subnet-pa", ["eip"]))
    net["eips"]["eip"] = eip("eip", "VPC-Lab-NAT-EIP")
    net["route_tables"]["private-rt"] = table("private-rt", "Private route", "nat-nat", ["subnet-qa"])
    net["route_tables"]["private-rt-a"]["subnet_ids"] = []
    result = summary(plan(net, "single"))
    assert result["tables"] == [("private-rt", "Private route", "nat", "gateway", ["private-subnet-a"], False)]
    assert result["moves"] == [("private-rt", "private-subnet-c", "private-rt-c")]


# ------------------------------------------------------------------------- whose gateways

def test_a_gateway_of_another_stack_in_the_subnet_is_not_ours():
    net = single_stack()
    net["nat_gateways"].append(nat("nat", "VPC-Lab-NAT", "subnet-pa", ["other"], stack="blue"))
    result = summary(plan(net, "single"))
    assert result["leftovers"] == NO_LEFTOVERS and result["gateways"][0][-1] is False


def test_an_untagged_gateway_holding_the_stack_address_is_the_stack_gateway():
    net = single_stack()
    net["nat_gateways"][0]["tags"] = {}
    result = plan(net, "single")
    assert result["gateways"][0]["found"]["id"] == "nat-nat"
    assert result["gateways"][0]["tags_todo"] is True


def test_the_lab_gateway_of_a_per_az_stack_in_the_same_subnet_is_not_taken_for_zone_a():
    # ec2_vpc_nat_gateway's if_exist_do_not_create would take any live gateway of the subnet: the plan goes by component
    result = summary(plan(single_stack(), "per_az"))
    assert result["gateways"][0] == ("nat-a", "VPC-Lab-NAT-A", "zonal", "public-subnet-a", True)


# ------------------------------------------------------------------------- found before any change

def test_an_address_held_by_a_gateway_elsewhere_stops_mode_single():
    net = single_stack()
    net["nat_gateways"][0]["subnet_id"] = "subnet-pc"  # network_nat_subnet changed to c after a deploy
    result = plan(net, "single")
    assert result["errors"] == ["NAT gateway nat-nat holds the Elastic IP eipalloc-eip of stack lab in subnet subnet-pc, not in the"
                                " subnet Public subnet A of network_nat_subnet; remove the stack first"]


def test_a_retired_address_associated_elsewhere_stops_the_switch():
    net = single_stack()
    net["nat_gateways"] = []
    net["eips"]["eip"]["network_interface_id"] = "eni-someone"
    result = plan(net, "per_az")
    assert result["errors"] == ["Elastic IP eipalloc-eip (198.51.100.3) of stack lab, which network_nat_mode per_az no longer uses,"
                                " is associated with eni-someone, which is not a NAT gateway of the stack: not releasing it;"
                                " disassociate it first"]


def test_regional_addresses_that_differ_are_to_do():
    net = regional_stack()
    net["nat_gateways"][0]["zone_addresses"] = [[REGION + "a", "eipalloc-eip-regional-a"]]
    assert plan(net, "regional")["gateways"][0]["todo"] is True


def test_gateway_component():
    assert [nn.gateway_component(c) for c in ("eip", "eip-a", "eip-regional-c")] == ["nat", "nat-a", "nat-regional"]
