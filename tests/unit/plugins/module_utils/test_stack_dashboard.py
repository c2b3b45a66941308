"""The stack's dashboard body (filter stack_dashboard), its marker, and whose a dashboard is."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.immersionday.ha_web.plugins.filter.stack_dashboard import FilterModule
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_dashboard as sd
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import dashboard_name

REGION = "ap-northeast-2"
LB_ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/Web-ALB/50dc6c495c0c9188"
TG_ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/Web-TG/73e2d6bc24d8a067"
LB, TG = "app/Web-ALB/50dc6c495c0c9188", "targetgroup/Web-TG/73e2d6bc24d8a067"
ZONES = ["ap-northeast-2c", "ap-northeast-2a"]


def lab_body(**changes):
    arguments = dict(region=REGION, group_name="Web-ASG", load_balancer_arn=LB_ARN, target_group_arn=TG_ARN, zones=ZONES,
                     cpu_target=30)
    arguments.update(changes)
    return FilterModule().filters()["stack_dashboard"]("lab", **arguments)


def test_the_name_derives_from_the_stack_for_the_default_stack_too():
    assert dashboard_name("lab") == "lab-ha-web"
    assert dashboard_name("blue") == "blue-ha-web"


def test_dimensions_from_the_arns():
    assert sd.load_balancer_dimension(LB_ARN) == LB
    assert sd.target_group_dimension(TG_ARN) == TG


def test_the_widgets_plot_the_metrics_of_the_issue():
    metrics = sd.widget_metrics(lab_body())
    group = {"AutoScalingGroupName": "Web-ASG"}
    assert ("AWS/AutoScaling", "GroupInServiceInstances", group) in metrics
    assert ("AWS/AutoScaling", "GroupDesiredCapacity", group) in metrics
    assert ("AWS/EC2", "CPUUtilization", group) in metrics
    for name in ("RequestCount", "TargetResponseTime", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"):
        assert ("AWS/ApplicationELB", name, {"LoadBalancer": LB}) in metrics
    healthy = [dims for namespace, name, dims in metrics if name == "HealthyHostCount"]
    assert healthy == [{"TargetGroup": TG, "LoadBalancer": LB, "AvailabilityZone": "ap-northeast-2a"},
                       {"TargetGroup": TG, "LoadBalancer": LB, "AvailabilityZone": "ap-northeast-2c"}]
    assert len(metrics) == 9


def test_the_cpu_widget_marks_the_target():
    cpu = [w for w in lab_body(cpu_target=45.5)["widgets"] if "CPU" in w["properties"].get("title", "")][0]["properties"]
    assert cpu["annotations"] == {"horizontal": [{"label": "scaling target 45.5 %", "value": 45.5}]}
    assert cpu["stat"] == "Average" and cpu["period"] == 60 and cpu["region"] == REGION
    cpu = [w for w in lab_body()["widgets"] if "CPU" in w["properties"].get("title", "")][0]["properties"]
    assert cpu["annotations"]["horizontal"][0] == {"label": "scaling target 30 %", "value": 30}


def test_every_metric_widget_names_its_region_and_the_grid_has_no_overlap():
    widgets = lab_body(region="us-east-1")["widgets"]
    assert all(w["properties"]["region"] == "us-east-1" for w in widgets if w["type"] == "metric")
    cells = set()
    for w in widgets:
        for x in range(w["x"], w["x"] + w["width"]):
            for y in range(w["y"], w["y"] + w["height"]):
                assert (x, y) not in cells
                cells.add((x, y))
    assert max(w["x"] + w["width"] for w in widgets) == 24


def test_the_body_carries_the_marker_of_its_stack_and_region():
    assert sd.dashboard_owner(lab_body()) == {"stack": "lab", "region": REGION}
    assert sd.dashboard_owner({"widgets": [{"type": "metric", "properties": {}}]}) is None
    assert sd.dashboard_owner("not json") is None
    assert sd.dashboard_owner(None) is None


def test_the_view_says_whether_the_dashboard_is_this_stacks():
    url = "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2#dashboards:name=lab-ha-web"
    missing = sd.dashboard_view("lab", REGION, None)
    assert missing == {"name": "lab-ha-web", "region": REGION, "url": url, "exists": False, "arn": None, "body": None,
                       "owner": None, "ours": False}
    ours = sd.dashboard_view("lab", REGION, {"name": "lab-ha-web", "arn": "arn:x", "body": lab_body()})
    assert ours["exists"] and ours["ours"] and ours["arn"] == "arn:x"
    # Dashboards are global: the same stack name in another region is someone else's.
    other_region = sd.dashboard_view("lab", "us-east-1", {"name": "lab-ha-web", "arn": "arn:x", "body": lab_body()})
    assert other_region["exists"] and not other_region["ours"] and other_region["owner"] == {"stack": "lab", "region": REGION}
    by_hand = sd.dashboard_view("lab", REGION, {"name": "lab-ha-web", "arn": "arn:x", "body": {"widgets": []}})
    assert by_hand["exists"] and not by_hand["ours"] and by_hand["owner"] is None
