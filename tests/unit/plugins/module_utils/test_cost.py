"""The cost estimate's arithmetic: single and per_az NAT modes in two regions, and a region
without price data. The expected figures are written out from the price table by hand."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils import prices
from ansible_collections.immersionday.ha_web.plugins.module_utils.cost import stack_cost


def lab_parts(nat_mode="single", in_service=2, pending=0):
    """The facts of a deployed lab: t2.micro instances with 8 GB gp3 root volumes, one 8 GB image."""
    network = {"vpc_id": "vpc-1", "public_subnet_ids": ["subnet-pa", "subnet-pc"], "private_subnet_ids": ["subnet-a", "subnet-c"],
               "nat_gateway_id": "nat-a", "eip_allocation_id": "eipalloc-a"}
    if nat_mode == "per_az":  # the other NAT modes hand on lists
        network.update(nat_gateway_ids=["nat-a", "nat-c"], eip_allocation_ids=["eipalloc-a", "eipalloc-c"])
    instances = ([{"instance_id": "i-%d" % n, "lifecycle_state": "InService"} for n in range(in_service)]
                 + [{"instance_id": "i-p%d" % n, "lifecycle_state": "Pending"} for n in range(pending)])
    return {
        "network": network,
        "image": {"image_id": "ami-1", "snapshot_gb": 8},
        "alb": {"load_balancer_arn": "arn:aws:elasticloadbalancing:ap-northeast-2:1:loadbalancer/app/Web-ALB/1"},
        "asg": {"group_name": "Web-ASG", "instances": instances, "instance_type": "t2.micro",
                "root_volume_size": 8, "root_volume_type": "gp3"},
    }


def items(estimate):
    return dict((item["item"], item) for item in estimate["items"])


# (region, NAT mode) -> (NAT gateways $/h, public IPv4 $/h, load balancer + 1 LCU $/h, 2 x t2.micro $/h,
#                        16 GB gp3 $/month, 8 GB snapshots $/month)
EXPECTED = {
    ("ap-northeast-2", "single"): (0.059, 3 * 0.005, 0.0225 + 0.008, 2 * 0.0144, 16 * 0.0912, 8 * 0.05),
    ("ap-northeast-2", "per_az"): (2 * 0.059, 4 * 0.005, 0.0225 + 0.008, 2 * 0.0144, 16 * 0.0912, 8 * 0.05),
    ("us-east-1", "single"): (0.045, 3 * 0.005, 0.0225 + 0.008, 2 * 0.0116, 16 * 0.08, 8 * 0.05),
    ("us-east-1", "per_az"): (2 * 0.045, 4 * 0.005, 0.0225 + 0.008, 2 * 0.0116, 16 * 0.08, 8 * 0.05),
}


@pytest.mark.parametrize("region,mode", sorted(EXPECTED))
def test_hourly_and_monthly_totals(region, mode):
    nat, ipv4, alb, instances, ebs_month, snapshots_month = EXPECTED[(region, mode)]
    hourly = nat + ipv4 + alb + instances + (ebs_month + snapshots_month) / 730.0
    estimate = stack_cost(lab_parts(mode), region)
    assert estimate["priced"] is True and estimate["message"] is None
    assert estimate["hourly"] == round(hourly, 4)
    assert estimate["monthly"] == round(hourly * 730, 2)
    found = items(estimate)
    assert found["nat_gateway"]["hourly"] == pytest.approx(nat)
    assert found["public_ipv4_nat"]["hourly"] + found["public_ipv4_alb"]["hourly"] == pytest.approx(ipv4)
    assert found["load_balancer"]["hourly"] + found["load_balancer_lcu"]["hourly"] == pytest.approx(alb)
    assert found["instances"]["hourly"] == pytest.approx(instances)
    assert found["ebs"]["monthly"] == round(ebs_month, 2)
    assert found["ami_snapshots"]["monthly"] == round(snapshots_month, 2)


def test_the_lab_in_seoul_in_round_figures():
    estimate = stack_cost(lab_parts(), "ap-northeast-2")
    # 0.059 + 0.015 + 0.0305 + 0.0288 + 16 * 0.0912 / 730 + 8 * 0.05 / 730 = 0.135847 $/h; * 730 = 99.17 $/month
    assert estimate["hourly"] == 0.1358
    assert estimate["monthly"] == 99.17
    assert estimate["region_name"] == "Asia Pacific (Seoul)"
    assert estimate["prices_as_of"] == prices.AS_OF and "AWS public price list" in estimate["source"]


def test_per_az_counts_two_gateways_and_two_addresses():
    single, per_az = (items(stack_cost(lab_parts(mode), "eu-west-1")) for mode in ("single", "per_az"))
    assert (single["nat_gateway"]["quantity"], per_az["nat_gateway"]["quantity"]) == (1, 2)
    assert (single["public_ipv4_nat"]["quantity"], per_az["public_ipv4_nat"]["quantity"]) == (1, 2)
    assert per_az["nat_gateway"]["hourly"] == pytest.approx(2 * 0.048)
    assert per_az["public_ipv4_alb"]["quantity"] == 2  # one per public subnet, in both modes


def test_a_list_of_gateways_without_a_list_of_addresses_counts_one_address_each():
    parts = lab_parts()
    parts["network"]["nat_gateway_ids"] = ["nat-a", "nat-c"]
    assert items(stack_cost(parts, "us-west-2"))["public_ipv4_nat"]["quantity"] == 2


def test_only_instances_in_service_count():
    estimate = stack_cost(lab_parts(in_service=4, pending=1), "ap-northeast-2")
    assert items(estimate)["instances"]["quantity"] == 4
    assert items(estimate)["instances"]["hourly"] == pytest.approx(4 * 0.0144)
    assert items(estimate)["ebs"]["quantity"] == 32


def test_an_unknown_region_says_no_price_data_instead_of_guessing():
    estimate = stack_cost(lab_parts(), "mars-north-1")
    assert estimate["priced"] is False
    assert estimate["hourly"] is None and estimate["monthly"] is None and estimate["items"] == []
    assert estimate["message"].startswith("no price data for region mars-north-1")
    assert estimate["usage"]["nat_gateways"] == 1  # what the stack holds is still reported


def test_an_unknown_instance_type_is_left_out_and_named():
    parts = lab_parts()
    parts["asg"]["instance_type"] = "x9.huge"
    estimate = stack_cost(parts, "ap-northeast-2")
    assert "instances" not in items(estimate)
    assert estimate["unpriced"] == ["instance type x9.huge"]
    assert "x9.huge" in estimate["message"]
    assert estimate["hourly"] == round(0.059 + 0.015 + 0.0305 + (16 * 0.0912 + 8 * 0.05) / 730, 4)


def test_an_empty_stack_costs_nothing():
    estimate = stack_cost({"network": None, "image": None, "alb": None, "asg": None}, "us-east-1")
    assert estimate["priced"] is True and estimate["items"] == [] and estimate["hourly"] == 0 and estimate["monthly"] == 0


def test_the_table_lists_the_lab_regions_and_types():
    for region in ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-2"):
        assert "t2.micro" in prices.REGIONS[region]["instance_hour"] and "t3.micro" in prices.REGIONS[region]["instance_hour"]
        assert "gp3" in prices.REGIONS[region]["ebs_gb_month"]
