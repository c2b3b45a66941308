from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.immersionday.ha_web.plugins.module_utils.outputs import file_name
from ansible_collections.immersionday.ha_web.plugins.module_utils.outputs import stack_outputs
from ansible_collections.immersionday.ha_web.plugins.filter.stack_scoped import FilterModule as ScopedFilters


def test_default_stack_keeps_the_lab_names():
    scoped = ScopedFilters().filters()["stack_scoped"]
    assert scoped("Web-ALB", "lab") == "Web-ALB"
    assert scoped("Public subnet A", "lab") == "Public subnet A"


def test_other_stacks_prefix_their_names():
    scoped = ScopedFilters().filters()["stack_scoped"]
    assert scoped("Web-ALB", "blue") == "blue-Web-ALB"


def test_outputs_keep_identities_and_drop_moving_state():
    parts = {
        "network": {"vpc_id": "vpc-1", "nat_gateway_state": "pending"},
        "image": None,
        "alb": {"dns_name": "web.example", "url": "http://web.example/", "state": "provisioning"},
        "asg": {"group_name": "Web-ASG", "instances": [{"instance_id": "i-1"}], "desired_capacity": 4},
    }
    document = stack_outputs(parts, "lab", "ap-northeast-2")
    assert document["stack_name"] == "lab"
    assert document["region"] == "ap-northeast-2"
    assert document["url"] == "http://web.example/"
    assert document["image"] is None
    assert document["network"]["vpc_id"] == "vpc-1"
    assert "nat_gateway_state" not in document["network"]
    assert "state" not in document["alb"]
    assert "instances" not in document["asg"] and "desired_capacity" not in document["asg"]


def test_outputs_of_an_empty_stack():
    document = stack_outputs({}, "blue", "us-east-1")
    cost = document.pop("cost")
    assert document == {
        "stack_name": "blue", "region": "us-east-1", "url": None, "network": None, "image": None, "alb": None, "asg": None,
        "dashboard": None}
    assert (cost["priced"], cost["hourly"], cost["monthly"], cost["items"]) == (True, 0, 0, [])


def test_outputs_name_the_dashboard_and_price_the_stack():
    parts = {
        "network": {"nat_gateway_id": "nat-1", "eip_allocation_id": "eipalloc-1", "public_subnet_ids": ["s-1", "s-2"]},
        "image": {"image_id": "ami-1", "snapshot_gb": 8},
        "alb": {"load_balancer_arn": "arn:lb", "url": "http://web.example/"},
        "asg": {"group_name": "Web-ASG", "instance_type": "t2.micro", "root_volume_size": 8, "root_volume_type": "gp3",
                "instances": [{"instance_id": "i-1", "lifecycle_state": "InService"}]},
        "dashboard": {"name": "lab-ha-web", "url": "https://console/lab-ha-web"},
    }
    document = stack_outputs(parts, "lab", "ap-northeast-2")
    assert document["dashboard"] == {"name": "lab-ha-web", "url": "https://console/lab-ha-web"}
    assert document["cost"]["priced"] and document["cost"]["usage"]["instances"] == 1
    assert [item["item"] for item in document["cost"]["items"]] == [
        "nat_gateway", "public_ipv4_nat", "load_balancer", "load_balancer_lcu", "public_ipv4_alb", "instances", "ebs", "ami_snapshots"]
    assert stack_outputs(parts, "lab", "cn-north-1")["cost"]["message"].startswith("no price data for region cn-north-1")


def test_outputs_files_are_named_by_stack_and_region():
    # One stack name in two regions: two files, neither overwrites the other.
    assert file_name("lab", "ap-northeast-2") == "lab.ap-northeast-2.json"
    assert file_name("lab", "us-east-1") != file_name("lab", "ap-northeast-2")
