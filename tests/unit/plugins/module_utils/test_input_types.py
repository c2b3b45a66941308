# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The type, tag, CIDR and region checks of the roles' input (module_utils/input_types.py)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import input_types as it


@pytest.mark.parametrize("value", [0, 2, -1, 2.0, "2", "-1", "+3", "600"])
def test_whole_numbers(value):
    assert it.is_whole_number(value)


@pytest.mark.parametrize("value", ["abc", "2.5", 2.5, "", " 2", "2 ", "2\n", "2_0", "0x10", True, False, None, [2], {"a": 1},
                                   float("nan"), float("inf"), "\u0663"])
def test_not_whole_numbers(value):
    assert not it.is_whole_number(value)


@pytest.mark.parametrize("value", [0, 30, 2.5, "30", "2.5", ".5", "1e3", "-4"])
def test_real_numbers(value):
    assert it.is_real_number(value)


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf", float("nan"), float("inf"), True, None, ["1"], "1,5", "2.5 "])
def test_not_real_numbers(value):
    assert not it.is_real_number(value)


@pytest.mark.parametrize("value", [True, False, 0, 1, "yes", "No", "TRUE", "false", "on", "off", "1", "0", "y", "n"])
def test_boolean_like(value):
    assert it.is_boolean_like(value)


@pytest.mark.parametrize("value", ["maybe", "", 2, None, [], "truee", 0.5])
def test_not_boolean_like(value):
    assert not it.is_boolean_like(value)


def test_the_test_plugin_exposes_whole_number():
    from ansible_collections.immersionday.ha_web.plugins.test.whole_number import TestModule as Whole
    assert Whole().tests()["whole_number"]("2") and not Whole().tests()["whole_number"]("abc")


@pytest.mark.parametrize("tags", [{}, {"Owner": "me", "cost-center": 42, "temporary": True}, {"a" * 128: "b" * 256}])
def test_good_tags(tags):
    assert it.tag_errors(tags, "alb_tags", strict=True) == []


@pytest.mark.parametrize("tags, expected", [
    ("Owner=me", 'alb_tags "Owner=me" must be a dict of tag keys to values'),
    (["Owner"], 'alb_tags ["Owner"] must be a dict'),
    ({"Name": "x"}, 'alb_tags key "Name" is reserved'),
    ({"ha_web:stack": "other"}, 'alb_tags key "ha_web:stack" is reserved'),
    ({"aws:cloudformation": "x"}, 'alb_tags key "aws:cloudformation" is reserved'),
    ({"": "x"}, 'alb_tags key "" must be 1 to 128'),
    ({"k" * 129: "x"}, "must be 1 to 128"),
    ({"Owner": {"name": "me"}}, 'alb_tags["Owner"] {"name": "me"} must be text, a number or a bool'),
    ({"Owner": None}, 'alb_tags["Owner"] null must be text'),
    ({"Owner": "x" * 257}, "must be at most 256"),
    ({"Owner": "me\n"}, 'alb_tags["Owner"] "me\\n" must be at most 256'),
    ({"Owner": "<me>"}, 'alb_tags["Owner"] "<me>" must be at most 256 letters, digits, spaces'),
    (dict(("k%d" % i, "v") for i in range(41)), "alb_tags has 41 tags: at most 40"),
])
def test_bad_tags_are_named(tags, expected):
    errors = it.tag_errors(tags, "alb_tags", strict=True)
    assert any(e.startswith(expected) or expected in e for e in errors), errors


def test_ec2_tags_take_any_printable_character():
    assert it.tag_errors({"Owner": "<me@example.com>"}, "network_tags") == []
    assert it.tag_errors({"Owner": "me\t"}, "network_tags") != []


ENDPOINTS = {"partitions": [
    {"partition": "aws", "regions": {"ap-northeast-2": {}, "us-east-1": {}},
     "services": {"ec2": {"endpoints": {"ap-northeast-2": {}, "us-east-1": {}, "fips-us-east-1": {}}}}},
    {"partition": "aws-cn", "regions": {"cn-north-1": {}}, "services": {"ec2": {"endpoints": {"cn-north-1": {}}}}},
]}


def test_ec2_regions_of_every_partition_without_pseudo_regions():
    assert it.ec2_regions(ENDPOINTS) == ["ap-northeast-2", "cn-north-1", "us-east-1"]


def test_botocore_knows_the_lab_region():
    regions = it.ec2_regions()
    assert "ap-northeast-2" in regions and "us-east-1" in regions and "xx-fake-1" not in regions
    assert it.region_errors("ap-northeast-2") == []


@pytest.mark.parametrize("region, expected", [
    ("xx-fake-1", 'aws_region "xx-fake-1" is not a region where botocore knows EC2 (for example'),
    ("ap-northeast-2a", 'aws_region "ap-northeast-2a" is not a region'),
    ("AP-NORTHEAST-2", 'aws_region "AP-NORTHEAST-2" is not a region where botocore knows EC2; did you mean ap-northeast-2?'),
    ("ap-northeast-2\n", 'aws_region "ap-northeast-2\\n" is not a region where botocore knows EC2; did you mean ap-northeast-2?'),
    ("", 'aws_region "" is not a region'),
    (["ap-northeast-2"], 'aws_region ["ap-northeast-2"] is not a region'),
    (None, "aws_region null is not a region"),
])
def test_unknown_regions_are_named(region, expected):
    errors = it.region_errors(region, known=it.ec2_regions(ENDPOINTS))
    assert len(errors) == 1 and errors[0].startswith(expected), errors


@pytest.mark.parametrize("cidrs", [["0.0.0.0/0"], ["::/0", "10.0.0.0/8"], ["203.0.113.7/32"]])
def test_good_cidrs(cidrs):
    assert it.cidr_errors(cidrs, "alb_ingress_cidrs") == []


@pytest.mark.parametrize("cidrs, expected", [
    ("0.0.0.0/0", 'alb_ingress_cidrs "0.0.0.0/0" must be a list of at least one CIDR block'),
    ([], "alb_ingress_cidrs [] must be a list of at least one"),
    (["0.0.0.0/0", "999.1.1.1/8"], 'alb_ingress_cidrs ["999.1.1.1/8"] must be IPv4 or IPv6 CIDR blocks'),
    (["10.0.0.1/16"], 'alb_ingress_cidrs ["10.0.0.1/16"] must be'),
    (["10.0.0.1"], 'alb_ingress_cidrs ["10.0.0.1"] must be'),
    ([None, 8], "alb_ingress_cidrs [null, 8] must be"),
])
def test_bad_cidrs_are_named(cidrs, expected):
    errors = it.cidr_errors(cidrs, "alb_ingress_cidrs")
    assert len(errors) == 1 and errors[0].startswith(expected), errors


CHECKS = {
    "asg_min_size": ["whole", 0],
    "web_ami_load_seconds": ["whole", 1, 3600, "seconds"],
    "asg_cpu_target_value": ["number", 0, 100, "percent CPU"],
    "asg_poll_interval": ["number", 0],
    "asg_wait_healthy": ["flag"],
    "asg_instance_type": ["text", r"^[a-z0-9-]+\.[a-z0-9-]+\Z", "an EC2 instance type such as t2.micro"],
    "alb_health_check_matcher": ["text", r"^[0-9]{3}([,-][0-9]{3})*\Z", "HTTP codes", True],
    "alb_certificate_arn": ["text", r"^(arn:\S+)?\Z", "an ARN, or empty"],
    "asg_health_check_type": ["choice", ["ELB", "EC2"]],
    "asg_metrics": ["choices", ["GroupMinSize", "GroupMaxSize"], "group metrics"],
    "alb_tags": ["tags", True],
    "alb_ingress_cidrs": ["cidrs"],
    "network_region": ["region", "network_region (aws_region)"],
}
GOOD = ["2", "600", "30.5", 5, "yes", "t2.micro", 200, None, "ELB", ["GroupMinSize"], {"Owner": "me"}, ["0.0.0.0/0"], "ap-northeast-2"]


def test_input_errors_passes_good_values_given_as_text_or_not():
    assert it.input_errors(CHECKS, GOOD) == []


@pytest.mark.parametrize("name, value, expected", [
    ("asg_min_size", "abc", 'asg_min_size "abc" must be a whole number >= 0'),
    ("asg_min_size", "2.5", 'asg_min_size "2.5" must be a whole number >= 0'),
    ("asg_min_size", -1, "asg_min_size -1 must be a whole number >= 0"),
    ("web_ami_load_seconds", 0, "web_ami_load_seconds 0 must be a whole number from 1 to 3600 (seconds)"),
    ("asg_cpu_target_value", 0, "asg_cpu_target_value 0 must be a number > 0 and <= 100 (percent CPU)"),
    ("asg_cpu_target_value", "high", 'asg_cpu_target_value "high" must be a number > 0 and <= 100 (percent CPU)'),
    ("asg_poll_interval", 0, "asg_poll_interval 0 must be a number > 0"),
    ("asg_wait_healthy", "maybe", 'asg_wait_healthy "maybe" must be true or false'),
    ("asg_instance_type", ["t2.micro"], 'asg_instance_type ["t2.micro"] must be an EC2 instance type such as t2.micro'),
    ("asg_instance_type", "t2.micro\n", 'asg_instance_type "t2.micro\\n" (9 characters) must be an EC2 instance type'),
    ("alb_health_check_matcher", True, "alb_health_check_matcher true must be HTTP codes"),
    ("alb_certificate_arn", "cert", 'alb_certificate_arn "cert" (4 characters) must be an ARN, or empty'),
    ("asg_health_check_type", "elb", 'asg_health_check_type "elb" must be one of ELB, EC2'),
    ("asg_metrics", "GroupMinSize", 'asg_metrics "GroupMinSize" must be a list of group metrics (each one of GroupMinSize, GroupMaxSize)'),
    ("alb_tags", {"Owner": "<me>"}, 'alb_tags["Owner"] "<me>" must be at most 256 letters'),
    ("alb_ingress_cidrs", "0.0.0.0/0", 'alb_ingress_cidrs "0.0.0.0/0" must be a list'),
    ("network_region", "xx-fake-1", 'network_region (aws_region) "xx-fake-1" is not a region where botocore knows EC2'),
])
def test_input_errors_names_each_bad_value_and_its_rule(name, value, expected):
    values = [value if key == name else good for key, good in zip(CHECKS, GOOD)]
    errors = it.input_errors(CHECKS, values)
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_input_errors_wants_a_value_per_check():
    with pytest.raises(ValueError):
        it.input_errors(CHECKS, GOOD[:-1])
    with pytest.raises(ValueError):
        it.input_errors({"x": ["weird"]}, [1])


def test_the_filter_exposes_it():
    from ansible_collections.immersionday.ha_web.plugins.filter.input_errors import FilterModule
    assert FilterModule().filters()["input_errors"]({"asg_min_size": ["whole", 0]}, ["abc"]) == [
        'asg_min_size "abc" must be a whole number >= 0']
