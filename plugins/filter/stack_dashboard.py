# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stack_dashboard
short_description: The body of an HA web stack's CloudWatch dashboard
version_added: 0.1.0
description:
  - Returns the dashboard body (a dict with C(widgets)) that the C(asg) role puts as C(<stack_name>-ha-web) with
    M(immersionday.ha_web.cloudwatch_dashboard).
  - Widgets - a header (text, naming the stack and carrying the marker C(ha_web:stack=<stack>)
    C(ha_web:region=<region>) by which the roles know the dashboard is theirs, since dashboards are global to
    the account); the group's C(GroupInServiceInstances) and C(GroupDesiredCapacity); its average
    C(CPUUtilization) with a horizontal annotation at the scaling target; the load balancer's
    C(RequestCount), C(TargetResponseTime), C(HTTPCode_Target_5XX_Count) and C(HTTPCode_ELB_5XX_Count);
    C(HealthyHostCount) per availability zone (dimensions C(TargetGroup), C(LoadBalancer), C(AvailabilityZone)).
    One-minute periods.
options:
  _input:
    description: The stack name.
    type: str
    required: true
  region:
    description: The region of the stack's metrics.
    type: str
    required: true
  group_name:
    description: The Auto Scaling group.
    type: str
    required: true
  load_balancer_arn:
    description: The load balancer's ARN.
    type: str
    required: true
  target_group_arn:
    description: The target group's ARN.
    type: str
    required: true
  zones:
    description: The availability zones of the group (one healthy-host line each).
    type: list
    elements: str
    required: true
  cpu_target:
    description: The scaling policy's average CPU target, in percent.
    type: float
    required: true
"""

EXAMPLES = r"""
- name: Put the stack's dashboard
  immersionday.ha_web.cloudwatch_dashboard:
    name: lab-ha-web
    body: >-
      {{ 'lab' | immersionday.ha_web.stack_dashboard(region='ap-northeast-2', group_name='Web-ASG',
         load_balancer_arn=ha_web_alb.load_balancer_arn, target_group_arn=ha_web_alb.target_group_arn,
         zones=['ap-northeast-2a', 'ap-northeast-2c'], cpu_target=30) }}
"""

RETURN = r"""
_value:
  description: The dashboard body.
  type: dict
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_dashboard import dashboard_body


def stack_dashboard(stack_name, region, group_name, load_balancer_arn, target_group_arn, zones, cpu_target):
    return dashboard_body(stack_name, region, group_name, load_balancer_arn, target_group_arn, list(zones), float(cpu_target))


class FilterModule(object):
    def filters(self):
        return {"stack_dashboard": stack_dashboard}
