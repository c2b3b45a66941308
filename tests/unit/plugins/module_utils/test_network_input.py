# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network role's input checks (module_utils/network_input.py and its filter)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import network_input as ni
from ansible_collections.immersionday.ha_web.tests.unit.lab_values import LAB_SUBNETS


def test_lab_input_is_valid():
    assert ni.input_errors("10.0.0.0/16", LAB_SUBNETS) == []


@pytest.mark.parametrize("vpc_cidr, subnets, nat, expected", [
    ("10.0.0/16", LAB_SUBNETS, None, ["vpc_cidr '10.0.0/16' is not a valid IPv4 CIDR block such as 10.0.0.0/16"]),
    ("10.0.0.0/8", LAB_SUBNETS, None, ["vpc_cidr 10.0.0.0/8 must have a prefix length between /16 and /28"]),
    ("10.0.0.0/16", [], None, ["subnets must list at least one subnet"]),
    ("10.0.0.0/16", [LAB_SUBNETS[0], dict(LAB_SUBNETS[1], cidr="10.1.10.0/24")], None,
     ["subnets[1].cidr 10.1.10.0/24 is not inside vpc_cidr 10.0.0.0/16"]),
    ("10.0.0.0/16", [LAB_SUBNETS[0], dict(LAB_SUBNETS[1], cidr="10.0.10.128/25")], None,
     ["subnets[1].cidr 10.0.10.128/25 overlaps subnets[0].cidr 10.0.10.0/24"]),
    ("10.0.0.0/16", [LAB_SUBNETS[0], dict(LAB_SUBNETS[2], az="a")], None,
     ["subnets[1] repeats tier public in AZ a (already subnets[0])"]),
    ("10.0.0.0/16", [dict(LAB_SUBNETS[0], az="ap-northeast-2a")], None,
     ["subnets[0].az 'ap-northeast-2a' must be one availability zone letter such as a"]),
    ("10.0.0.0/16", [dict(LAB_SUBNETS[0], tier="dmz")], None,
     ["subnets[0].tier 'dmz' must be public or private", "subnets has no public subnet to host the NAT gateway"]),
    ("10.0.0.0/16", [LAB_SUBNETS[1]], None, ["subnets has no public subnet to host the NAT gateway"]),
    ("10.0.0.0/16", [{"az": "a", "tier": "public"}], None, ["subnets[0].cidr is required"]),
    ("10.0.0.0/16", LAB_SUBNETS, "Private subnet A",
     ["nat_subnet 'Private subnet A' names no public subnet of subnets (give its name or AZ letter)"]),
])
def test_input_errors(vpc_cidr, subnets, nat, expected):
    assert ni.input_errors(vpc_cidr, subnets, nat) == expected


def test_input_errors_name_role_variables():
    assert ni.input_errors("10.0.0.0/16", [dict(LAB_SUBNETS[0], cidr="10.1.10.0/24")], prefix="network_") == [
        "network_subnets[0].cidr 10.1.10.0/24 is not inside network_vpc_cidr 10.0.0.0/16"]


def test_filter_plugin_uses_role_names():
    from ansible_collections.immersionday.ha_web.plugins.filter.network_input_errors import FilterModule
    f = FilterModule().filters()["network_input_errors"]
    assert f(LAB_SUBNETS, "10.0.0.0/16", "") == []
    assert f([LAB_SUBNETS[1]], "10.0.0.0/16") == ["network_subnets has no public subnet to host the NAT gateway"]


def test_az_errors():
    zones = ["us-west-1a", "us-west-1b"]
    assert ni.az_errors(LAB_SUBNETS[:3], "us-west-1", zones) == [
        "subnets[2].az 'c' is not an availability zone of region us-west-1 (it has a, b)"]


def test_filter_checks_az_letters_once_the_static_rules_pass():
    from ansible_collections.immersionday.ha_web.plugins.filter.network_input_errors import FilterModule
    f = FilterModule().filters()["network_input_errors"]
    zones = ["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"]
    assert f(LAB_SUBNETS, "10.0.0.0/16", "", zones=zones, region="ap-northeast-2") == []
    assert f(LAB_SUBNETS[:3] + [dict(LAB_SUBNETS[3], az="z")], "10.0.0.0/16", zones=zones, region="ap-northeast-2") == [
        "network_subnets[3].az 'z' is not an availability zone of region ap-northeast-2 (it has a, b, c)"]
    # a static error first: the AZ letters are not looked at
    assert f([dict(LAB_SUBNETS[0], az="z", cidr="10.1.0.0/24")], "10.0.0.0/16", zones=zones, region="ap-northeast-2") == [
        "network_subnets[0].cidr 10.1.0.0/24 is not inside network_vpc_cidr 10.0.0.0/16"]


@pytest.mark.parametrize("subnets, expected", [
    (LAB_SUBNETS, []),
    ([dict(s, az="a") for s in LAB_SUBNETS if s["az"] == "a"],
     ["network_subnets has public subnets in 1 AZ (a): the load balancer needs public subnets in at least two AZs"]),
    ([s for s in LAB_SUBNETS if s["tier"] == "public"], ["network_subnets has no private subnet for the Auto Scaling group"]),
    ([dict(s, az="b") if s["az"] == "a" else s for s in LAB_SUBNETS],
     ["network_subnets has no public subnet in AZ a: the web_ami role's builder runs in Public subnet A"]),
])
def test_the_filter_checks_what_the_lab_needs_of_the_layout(subnets, expected):
    from ansible_collections.immersionday.ha_web.plugins.filter.network_input_errors import FilterModule
    assert FilterModule().filters()["network_input_errors"](subnets, "10.0.0.0/16") == expected


@pytest.mark.parametrize("subnet, expected", [
    (dict(LAB_SUBNETS[0], tire="public"), "subnets[0] has unknown keys tire (a subnet has name, cidr, az, tier)"),
    (dict(LAB_SUBNETS[0], name=["Public subnet A"]), "subnets[0].name ['Public subnet A'] must be text of at most 256"),
    (dict(LAB_SUBNETS[0], name="Public\nsubnet A"), "subnets[0].name 'Public\\nsubnet A' must be text"),
    (dict(LAB_SUBNETS[0], name="x" * 257), "must be text of at most 256 printable characters"),
    (dict(LAB_SUBNETS[0], az=1), "subnets[0].az 1 must be one availability zone letter"),
    (dict(LAB_SUBNETS[0], cidr=["10.0.10.0/24"]), "subnets[0].cidr ['10.0.10.0/24'] is not a valid IPv4 CIDR"),
])
def test_careless_subnet_entries_are_named(subnet, expected):
    errors = ni.input_errors("10.0.0.0/16", [subnet] + LAB_SUBNETS[1:])
    assert any(e.startswith(expected) or expected in e for e in errors), errors


def test_pick_nat_subnet():
    assert ni.pick_nat_subnet(list(reversed(LAB_SUBNETS)))["name"] == "Public subnet A"
    assert ni.pick_nat_subnet(LAB_SUBNETS, "c")["name"] == "Public subnet C"
    assert ni.pick_nat_subnet(LAB_SUBNETS, "Public subnet C")["az"] == "c"


@pytest.mark.parametrize("nat_mode, subnets, nat_subnet, expected", [
    ("single", LAB_SUBNETS, "c", []),
    ("per_az", LAB_SUBNETS, None, []),
    ("regional", LAB_SUBNETS, None, []),
    ("dual", LAB_SUBNETS, None, ["nat_mode 'dual' must be one of single, per_az, regional"]),
    ("per_az", LAB_SUBNETS, "c", ["nat_subnet 'c' applies to nat_mode single only (mode per_az places its own gateways)"]),
    ("per_az", LAB_SUBNETS[:3], None, []),  # no private subnet in c: no gateway there
    ("per_az", [LAB_SUBNETS[0], LAB_SUBNETS[1], LAB_SUBNETS[3]], None,
     ["nat_mode per_az puts a NAT gateway in the public subnet of each zone that has a private subnet:"
      " subnets[2] is private in AZ c, which has no public subnet"]),
    ("regional", [LAB_SUBNETS[0], LAB_SUBNETS[1], LAB_SUBNETS[3]], None, []),
])
def test_nat_mode_errors(nat_mode, subnets, nat_subnet, expected):
    assert ni.input_errors("10.0.0.0/16", subnets, nat_subnet, nat_mode=nat_mode) == expected


def test_the_filter_names_network_nat_mode():
    from ansible_collections.immersionday.ha_web.plugins.filter.network_input_errors import network_input_errors
    assert network_input_errors(LAB_SUBNETS, "10.0.0.0/16", nat_mode="both") == ["network_nat_mode 'both' must be one of single, per_az, regional"]
