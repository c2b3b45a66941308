#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: capacity_wait
short_description: Wait until an Auto Scaling group has N instances InService and healthy
version_added: 0.1.0
description:
  - Polls the Auto Scaling group (and, with O(target_group_arn), the target group's target health) until
    O(desired) instances are C(InService), C(Healthy) and, when a target group is given, C(healthy) in it.
  - Returns the instances with their availability zone, health and launch time, the count per availability zone,
    a timeline of the counts (one entry per change), and the group's scaling activities.
  - A DescribeScalingActivities call that is refused (AccessDenied, UnauthorizedOperation) or not implemented by
    the endpoint does not fail the wait; RV(activities_error) says why and a warning is shown.
  - Read-only; never reports a change. Runs in check mode too.
  - To show progress during a long wait, give a short O(wait_timeout) with O(fail_on_timeout=false) and
    repeat the task with C(until) (see the examples); Ansible prints a line at each repetition.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  group_name:
    description:
      - Name of the Auto Scaling group.
    type: str
    required: true
  target_group_arn:
    description:
      - ARN of a target group whose target health must be C(healthy) too.
    type: str
  stack_name:
    description:
      - The stack whose group it must be. A group whose tag C(ha_web:stack) is not exactly this (someone else's group
        with the same name) is not waited for; the module fails at once, naming it. Without it, any group of that name.
    type: str
  desired:
    description:
      - Number of ready instances to wait for, or V(desired) (the group's DesiredCapacity, re-read at every poll, so a
        scale-out raises it), V(max) (the group's MaxSize) or V(min). Default V(desired).
      - A number above the group's MaxSize fails at once.
    type: str
  wait:
    description:
      - Wait; with V(false) only report the current state.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait before failing with the last state seen.
    type: int
    default: 600
  fail_on_timeout:
    description:
      - With V(false), a wait that reaches O(wait_timeout) returns the last state seen, with RV(msg) saying what it
        still waits for, instead of failing. A count that can never be reached fails either way.
    type: bool
    default: true
  poll_interval:
    description:
      - Seconds between polls.
    type: float
    default: 15
  scaling_activities:
    description:
      - Return the group's recent scaling activities (DescribeScalingActivities, up to 50).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait until the group has scaled out to its maximum (the lab's 4 instances)
  immersionday.ha_web.capacity_wait:
    group_name: Web-ASG
    stack_name: lab  # only the group tagged ha_web:stack=lab, not someone else's Web-ASG
    target_group_arn: "{{ ha_web_alb.target_group_arn }}"
    desired: max
    wait_timeout: 900
    poll_interval: 15
  register: capacity

- name: Show when each instance became ready
  ansible.builtin.debug:
    msg: "{{ capacity.instances | map(attribute='ready_at') }}"

- name: Wait up to 10 min in runs of 20 s, Ansible printing a line of progress after each run
  immersionday.ha_web.capacity_wait:
    group_name: Web-ASG
    wait_timeout: 20
    poll_interval: 5
    fail_on_timeout: false
    scaling_activities: false
  register: capacity
  until: capacity is failed or capacity.healthy >= capacity.wanted
  retries: 30
  delay: 0
"""

RETURN = r"""
group_name:
  description: The group.
  returned: always
  type: str
msg:
  description:
    - Why the wait failed, or (with O(fail_on_timeout=false)) what it still waits for when it ended without the
      capacity, with the last counts and why each instance is not ready yet. Absent when the capacity is ready.
  returned: when the wait did not end with the capacity
  type: str
  sample: "waiting for 2 instances InService and healthy in group Web-ASG and its target group: 1 ready, 2 in service,
    desired capacity 2; not ready: i-0def InService, Healthy, target initial (Elb.RegistrationInProgress)"
wanted:
  description: The number of ready instances waited for.
  returned: always
  type: int
  sample: 4
desired_capacity:
  description: The group's DesiredCapacity at the last poll.
  returned: always
  type: int
min_size:
  description: The group's MinSize.
  returned: always
  type: int
max_size:
  description: The group's MaxSize.
  returned: always
  type: int
in_service:
  description: Instances InService at the last poll.
  returned: always
  type: int
healthy:
  description: Instances ready (InService, Healthy, healthy in the target group) at the last poll.
  returned: always
  type: int
instances:
  description: The group's instances at the last poll.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id: {description: Instance id., type: str, returned: always}
    availability_zone: {description: Its availability zone., type: str, returned: always}
    lifecycle_state: {description: Auto Scaling lifecycle state., type: str, returned: always, sample: InService}
    health_status: {description: Auto Scaling health status., type: str, returned: always, sample: Healthy}
    target_health: {description: State in the target group (null without target_group_arn)., type: str, returned: always}
    target_health_reason: {description: "AWS's reason for that state, when it gives one.", type: str, returned: always}
    launch_time: {description: Launch time (ISO 8601) from DescribeInstances., type: str, returned: always}
    in_service_at: {description: Seconds after the wait started when first seen InService (0 if already)., type: float, returned: always}
    ready_at: {description: Seconds after the wait started when first seen ready., type: float, returned: always}
per_az:
  description: Ready instances per availability zone.
  returned: always
  type: dict
  sample: {"ap-northeast-2a": 2, "ap-northeast-2c": 2}
timeline:
  description: Counts over time, one entry per change (last_seen is the last poll with the same counts).
  returned: always
  type: list
  elements: dict
  sample: [{"t": 0.0, "epoch": 1795000000.0, "in_service": 2, "healthy": 2, "desired_capacity": 2}]
started_epoch:
  description: Unix time the wait started.
  returned: always
  type: float
elapsed_seconds:
  description: Seconds waited.
  returned: always
  type: float
polls:
  description: Polls made.
  returned: always
  type: int
activities:
  description: Recent scaling activities, newest first.
  returned: when O(scaling_activities=true)
  type: list
  elements: dict
  contains:
    activity_id: {description: Id., type: str, returned: always}
    description: {description: What happened., type: str, returned: always}
    cause: {description: Why., type: str, returned: always}
    status_code: {description: Status., type: str, returned: always}
    progress: {description: Percent done., type: int, returned: always}
    start_time: {description: Start (ISO 8601)., type: str, returned: always}
    end_time: {description: End (ISO 8601)., type: str, returned: always}
activities_error:
  description: Why the scaling activities could not be read (refused or not implemented); null when they were.
  returned: when O(scaling_activities=true)
  type: str
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import capacity
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack


def argument_spec():
    return dict(
        group_name=dict(type="str", required=True),
        target_group_arn=dict(type="str"),
        stack_name=dict(type="str"),
        desired=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        fail_on_timeout=dict(type="bool", default=True),
        poll_interval=dict(type="float", default=15.0),
        scaling_activities=dict(type="bool", default=True),
    )


def check_desired(module):
    value = module.params["desired"]
    if value is None or value in ("desired", "max", "min"):
        return value
    try:
        number = int(value)
    except ValueError:
        module.fail_json(msg="desired must be a number, desired, max or min; got %r" % value)
    if number < 0:
        module.fail_json(msg="desired must not be negative; got %d" % number)
    return number


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    desired = check_desired(module)
    if p["wait_timeout"] < 0 or p["poll_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be >= 0 and poll_interval > 0")
    asg = stack.aws_client(module, "autoscaling")
    elbv2 = stack.aws_client(module, "elbv2") if p["target_group_arn"] else None
    ec2 = stack.aws_client(module, "ec2")
    timeout = p["wait_timeout"] if p["wait"] else 0
    error = waiting = None
    try:
        state, tracker, wanted = capacity.wait_for_capacity(
            asg, elbv2, p["group_name"], p["target_group_arn"], desired, timeout, p["poll_interval"], stack_name=p["stack_name"])
    except capacity.CapacityError as e:
        if e.last is None:
            module.fail_json(msg=str(e))
        state, tracker, wanted = e.last
        error = str(e)
        if e.timed_out and not p["wait"]:
            error = None
        elif e.timed_out and not p["fail_on_timeout"]:
            error, waiting = None, capacity.progress_message(state, wanted, p["group_name"], p["target_group_arn"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to read Auto Scaling group %s" % p["group_name"])

    try:
        launched, dummy = capacity.launch_times(ec2, [i["instance_id"] for i in state["instances"]])
        result = capacity.describe_result(state, tracker, wanted, launched)
        if p["scaling_activities"]:
            result["activities"], result["activities_error"] = capacity.scaling_activities(asg, p["group_name"])
            if result["activities_error"]:
                module.warn("scaling activities not available: %s" % result["activities_error"])
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to describe instances or scaling activities of group %s" % p["group_name"])

    if error:
        module.fail_json(msg=error, **result)
    if waiting:
        result["msg"] = waiting
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
