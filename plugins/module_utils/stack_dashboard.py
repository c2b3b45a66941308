# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The body of a stack's CloudWatch dashboard, and whose a dashboard is. No AWS import: the
filter stack_dashboard loads it in every Ansible worker.

Dashboards are global to the account (not per region) and the lab's are not tagged on every
endpoint (moto keeps no dashboard tags), so the body itself says whose it is: its first widget,
a text widget, carries the marker `ha_web:stack=<stack>` `ha_web:region=<region>`. The roles put
or delete a dashboard named <stack>-ha-web only when it is missing or carries their marker.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import dashboard_name

MARKER_STACK = re.compile(r"ha_web:stack=([A-Za-z0-9-]+)")
MARKER_REGION = re.compile(r"ha_web:region=([a-z0-9-]+)")
PERIOD = 60  # the group's metrics and the instances' (detailed monitoring) come every minute
WIDTH, HEIGHT = 12, 6


def console_url(region, name):
    return "https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s" % (region, region, name)


def load_balancer_dimension(arn):
    """The LoadBalancer dimension of AWS/ApplicationELB: app/<name>/<id>, the ARN after 'loadbalancer/'."""
    return arn.split(":loadbalancer/", 1)[-1]


def target_group_dimension(arn):
    """The TargetGroup dimension: targetgroup/<name>/<id>, the last field of the ARN."""
    return arn.rsplit(":", 1)[-1]


def _metric_widget(x, y, title, region, metrics, stat, **properties):
    widget_properties = {"title": title, "region": region, "metrics": metrics, "stat": stat, "period": PERIOD,
                         "view": "timeSeries", "stacked": False}
    widget_properties.update(properties)
    return {"type": "metric", "x": x, "y": y, "width": WIDTH, "height": HEIGHT, "properties": widget_properties}


def _number(value):
    """30.0 -> 30 (labels read "30 %"); other values unchanged."""
    return int(value) if float(value).is_integer() else float(value)


def dashboard_body(stack_name, region, group_name, load_balancer_arn, target_group_arn, zones, cpu_target):
    """The dashboard of one stack: a header naming it (and carrying the marker), the group's
    InService and desired instances, its average CPU against the scaling policy's target, the load
    balancer's requests, target response time and 5xx, and the healthy hosts per zone."""
    lb = load_balancer_dimension(load_balancer_arn)
    tg = target_group_dimension(target_group_arn)
    target = _number(cpu_target)
    header = ("## Stack %s: highly available web\n"
              "Auto Scaling group **%s**, load balancer **%s** in %s. Made by the Ansible collection immersionday.ha_web: "
              "a rerun overwrites changes made here, teardown deletes this dashboard.\n\n`ha_web:stack=%s` `ha_web:region=%s`"
              % (stack_name, group_name, lb.split("/")[1] if lb.count("/") == 2 else lb, region, stack_name, region))
    group = ["AutoScalingGroupName", group_name]
    widgets = [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {"markdown": header}},
        _metric_widget(0, 3, "Instances: in service and desired", region, [
            ["AWS/AutoScaling", "GroupInServiceInstances"] + group + [{"label": "in service"}],
            ["AWS/AutoScaling", "GroupDesiredCapacity"] + group + [{"label": "desired"}],
        ], "Maximum", yAxis={"left": {"min": 0}}),
        _metric_widget(12, 3, "Average CPU of the group (target %s %%)" % target, region, [
            ["AWS/EC2", "CPUUtilization"] + group + [{"label": "average CPU %"}],
        ], "Average", yAxis={"left": {"min": 0, "max": 100}},
            annotations={"horizontal": [{"label": "scaling target %s %%" % target, "value": target}]}),
        _metric_widget(0, 9, "Requests", region, [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb, {"label": "requests"}],
        ], "Sum", yAxis={"left": {"min": 0}}),
        _metric_widget(12, 9, "Target response time (seconds)", region, [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", lb, {"label": "average"}],
        ], "Average", yAxis={"left": {"min": 0}}),
        _metric_widget(0, 15, "HTTP 5xx", region, [
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb, {"label": "from the targets"}],
            ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, {"label": "from the load balancer"}],
        ], "Sum", yAxis={"left": {"min": 0}}),
        _metric_widget(12, 15, "Healthy hosts per availability zone", region, [
            ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", tg, "LoadBalancer", lb, "AvailabilityZone", zone, {"label": zone}]
            for zone in sorted(zones)
        ], "Minimum", yAxis={"left": {"min": 0}}),
    ]
    return {"widgets": widgets}


def dashboard_owner(body):
    """{stack, region} that the body's marker names, or None (no marker: not made by a stack)."""
    if not isinstance(body, dict):
        return None
    for widget in body.get("widgets") or []:
        if not isinstance(widget, dict) or widget.get("type") != "text":
            continue
        markdown = (widget.get("properties") or {}).get("markdown") or ""
        stack, region = MARKER_STACK.search(markdown), MARKER_REGION.search(markdown)
        if stack and region:
            return {"stack": stack.group(1), "region": region.group(1)}
    return None


def widget_metrics(body):
    """Every metric the body's widgets plot: (namespace, metric name, {dimension: value})."""
    found = []
    for widget in (body or {}).get("widgets") or []:
        for metric in (widget.get("properties") or {}).get("metrics") or []:
            fields = [field for field in metric if not isinstance(field, dict)]
            found.append((fields[0], fields[1], dict(zip(fields[2::2], fields[3::2]))))
    return found


def dashboard_view(stack_name, region, found):
    """What stack_info answers for the dashboard part: its name and console URL, whether it exists,
    its body, whose it is (the marker) and whether that is this stack in this region."""
    name = dashboard_name(stack_name)
    owner = dashboard_owner(found["body"]) if found else None
    return {"name": name, "region": region, "url": console_url(region, name), "exists": found is not None,
            "arn": found["arn"] if found else None, "body": found["body"] if found else None, "owner": owner,
            "ours": owner == {"stack": stack_name, "region": region}}
