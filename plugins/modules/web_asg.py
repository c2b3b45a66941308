#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: web_asg
short_description: The web tier of a stack - instance security group, launch template, Auto Scaling group, scaling policy
version_added: 0.1.0
description:
  - Reconciles the lab's Task 3 web tier of one stack, found by the tags C(ha_web:stack) and
    C(ha_web:component) (C(instance-sg), C(launch-template), C(asg)).
  - The security group allows TCP I(instance_port) only from I(load_balancer_security_group_id).
  - The launch template uses IMDSv2 (tokens required), no public IP, detailed monitoring and an
    encrypted root volume; any change of its data (for example a new I(image_id)) creates a new,
    numbered version that the group then uses, and starts an instance refresh unless one is
    already in progress. Where the endpoint lacks instance refresh, the module warns and returns
    C(instance_refresh.status=unsupported).
  - The group's desired capacity is set only when the group is created. A rerun never resets it
    (a scale-out survives); it is clamped, with a warning, only when new I(min_size) or I(max_size)
    leave it out of range.
  - A rerun with nothing to change makes only Describe calls and reports C(changed=false).
  - With I(state=absent), deletes the group (force delete) and waits until it and its instances
    are gone, then the launch template, then the security group (retrying while instances or
    network interfaces still use it).
  - Names are taken as given; roles scope them per stack with the filter C(immersionday.ha_web.stack_scoped).
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  stack_name:
    description: The stack whose web tier this is (tag C(ha_web:stack)).
    type: str
    default: lab
  state:
    description: Whether the web tier should exist.
    type: str
    choices: [present, absent]
    default: present
  vpc_id:
    description: The VPC of the security group. Required when I(state=present).
    type: str
  subnet_ids:
    description: The subnets of the group (the lab's private subnets A and C). Required when I(state=present).
    type: list
    elements: str
  security_group_name:
    description: Name of the instance security group.
    type: str
    default: ASG-Web-Inst-SG
  security_group_description:
    description: Description of the instance security group (cannot change once created).
    type: str
    default: HTTP Allow
  load_balancer_security_group_id:
    description: The load balancer's security group, the only source allowed in. Required when I(state=present).
    type: str
  instance_port:
    description: The TCP port the instances serve on.
    type: int
    default: 80
  launch_template_name:
    description: Name of the launch template (3 to 128 characters of letters, digits and C(\( \) . - / _)).
    type: str
    default: Web
  launch_template_description:
    description: Description of each launch template version.
    type: str
    default: "Immersion Day Web Instances Template – Web only"
  image_id:
    description: The AMI of the instances. Required when I(state=present).
    type: str
  instance_type:
    description: The instance type.
    type: str
    default: t2.micro
  detailed_monitoring:
    description: Detailed (1-minute) CloudWatch monitoring, so that target tracking reacts within minutes.
    type: bool
    default: true
  root_volume_size:
    description: Size of the root volume in GiB. Default is the image's root volume size.
    type: int
  root_volume_type:
    description: EBS type of the root volume (always encrypted).
    type: str
    default: gp3
  kms_key_id:
    description: KMS key for the root volume. Default is the account's EBS default key.
    type: str
  instance_name:
    description: The C(Name) tag of the group, propagated to its instances.
    type: str
    default: ASG-Web-Instance
  group_name:
    description: Name of the Auto Scaling group.
    type: str
    default: Web-ASG
  target_group_arn:
    description: The target group the group registers its instances in. Required when I(state=present).
    type: str
  min_size:
    description: Minimum size of the group.
    type: int
    default: 2
  max_size:
    description: Maximum size of the group.
    type: int
    default: 4
  desired_capacity:
    description: Desired capacity when the group is created; never re-asserted on an existing group.
    type: int
    default: 2
  health_check_type:
    description: Health check type of the group.
    type: str
    choices: [EC2, ELB]
    default: ELB
  health_check_grace_period:
    description: Seconds before the first health check of a new instance counts.
    type: int
    default: 120
  metrics:
    description: Group metrics collected at 1-minute granularity.
    type: list
    elements: str
    default: [GroupMinSize, GroupMaxSize, GroupDesiredCapacity, GroupInServiceInstances, GroupPendingInstances,
              GroupStandbyInstances, GroupTerminatingInstances, GroupTotalInstances]
  policy_name:
    description: Name of the target tracking scaling policy.
    type: str
    default: Target Tracking Policy
  cpu_target_value:
    description: Average CPU utilisation (percent, in (0, 100]) the policy keeps the group at.
    type: float
    default: 30.0
  estimated_instance_warmup:
    description: Seconds a new instance takes before its metrics count for the policy.
    type: int
    default: 120
  instance_refresh:
    description: Start an instance refresh when the group's launch template version changes.
    type: bool
    default: true
  refresh_min_healthy_percentage:
    description: Percentage of the group kept healthy during an instance refresh.
    type: int
    default: 50
  refresh_instance_warmup:
    description: Instance warm-up of an instance refresh, in seconds.
    type: int
    default: 120
  tags:
    description: Extra tags on every resource (and the group's instances and volumes).
    type: dict
    default: {}
  wait:
    description:
      - With I(state=present), wait after creating the group until it has I(desired_capacity) instances InService.
      - With I(state=absent), wait until the group and its instances are gone and the security group is deleted.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two checks while waiting.
    type: float
    default: 5.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Web tier of the lab stack
  immersionday.ha_web.web_asg:
    stack_name: lab
    vpc_id: "{{ ha_web_network.vpc_id }}"
    subnet_ids: "{{ ha_web_network.private_subnet_ids }}"
    image_id: "{{ ha_web_image.image_id }}"
    load_balancer_security_group_id: "{{ ha_web_alb.security_group_id }}"
    target_group_arn: "{{ ha_web_alb.target_group_arn }}"
  register: web

- name: Remove the web tier of stack blue
  immersionday.ha_web.web_asg:
    stack_name: blue
    group_name: blue-Web-ASG
    state: absent
"""

RETURN = r"""
asg:
  description: The web tier (fact C(ha_web_asg)).
  returned: always
  type: dict
  contains:
    group_name:
      description: Name of the Auto Scaling group.
      type: str
      sample: Web-ASG
    launch_template_id:
      description: Id of the launch template (null after state=absent, or in check mode before creation).
      type: str
      sample: lt-0123456789abcdef0
    launch_template_version:
      description: The numbered version the group uses (never C($Latest) or C($Default)).
      type: str
      sample: "2"
    security_group_id:
      description: Id of the instance security group.
      type: str
      sample: sg-0123456789abcdef0
    instances:
      description: The group's instances.
      type: list
      elements: dict
      contains:
        instance_id:
          description: Instance id.
          type: str
        availability_zone:
          description: Availability zone.
          type: str
        lifecycle_state:
          description: Lifecycle state in the group, e.g. C(InService).
          type: str
        health_status:
          description: C(Healthy) or C(Unhealthy).
          type: str
    desired_capacity:
      description: The group's desired capacity now.
      type: int
      returned: state=present
    created:
      description: Whether the group was created by this run.
      type: bool
      returned: state=present
    policy:
      description: The target tracking policy (name, type, metric, target_value, disable_scale_in, estimated_instance_warmup).
      type: dict
    instance_refresh:
      description:
        - C(status) is C(not_needed), C(started), C(would_start) (check mode), C(in_progress) or C(unsupported); C(id) when known.
      type: dict
      sample: {status: started, id: 08b91cf7-8fa6-48af-b6a6-d227f40f1b9b}
    deleted:
      description: What state=absent deleted (group, launch_template, security_group).
      type: dict
      returned: state=absent
changes:
  description: What changed (or would change in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["create launch template Web version 2 (ImageId changed)", "update group Web-ASG (LaunchTemplate)"]
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import asg as web
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client


def argument_spec():
    return dict(
        stack_name=dict(type="str", default="lab"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        vpc_id=dict(type="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_name=dict(type="str", default="ASG-Web-Inst-SG"),
        security_group_description=dict(type="str", default="HTTP Allow"),
        load_balancer_security_group_id=dict(type="str"),
        instance_port=dict(type="int", default=80),
        launch_template_name=dict(type="str", default="Web"),
        launch_template_description=dict(type="str", default="Immersion Day Web Instances Template \u2013 Web only"),
        image_id=dict(type="str"),
        instance_type=dict(type="str", default="t2.micro"),
        detailed_monitoring=dict(type="bool", default=True),
        root_volume_size=dict(type="int"),
        root_volume_type=dict(type="str", default="gp3"),
        kms_key_id=dict(type="str"),
        instance_name=dict(type="str", default="ASG-Web-Instance"),
        group_name=dict(type="str", default="Web-ASG"),
        target_group_arn=dict(type="str"),
        min_size=dict(type="int", default=2),
        max_size=dict(type="int", default=4),
        desired_capacity=dict(type="int", default=2),
        health_check_type=dict(type="str", choices=["EC2", "ELB"], default="ELB"),
        health_check_grace_period=dict(type="int", default=120),
        metrics=dict(type="list", elements="str", default=list(web.DEFAULT_METRICS)),
        policy_name=dict(type="str", default="Target Tracking Policy"),
        cpu_target_value=dict(type="float", default=30.0),
        estimated_instance_warmup=dict(type="int", default=120),
        instance_refresh=dict(type="bool", default=True),
        refresh_min_healthy_percentage=dict(type="int", default=50),
        refresh_instance_warmup=dict(type="int", default=120),
        tags=dict(type="dict", default={}),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="float", default=5.0),
    )


def main():
    module = AnsibleAWSModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ["vpc_id", "subnet_ids", "image_id", "load_balancer_security_group_id", "target_group_arn"])],
        supports_check_mode=True,
    )
    errors = web.validate(module.params, module.check_mode)
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)

    reconciler = web.Reconciler(aws_client(module, "ec2"), aws_client(module, "autoscaling"), module.params, check_mode=module.check_mode)
    try:
        if module.params["state"] == "present":
            result = reconciler.present()
        else:
            result = reconciler.absent()
    except web.AsgError as e:
        module.fail_json(msg=str(e), changes=reconciler.changes)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError, web.ResponseParserError) as e:
        module.fail_json_aws(e, msg="web tier of stack %s: %s" % (module.params["stack_name"], "; ".join(reconciler.changes) or "no change made"))

    for warning in reconciler.warnings:
        # AnsibleAWSModule.warn also copies warnings into the result, which ansible-core 2.19
        # reports as deprecated; the plain AnsibleModule shows them once.
        getattr(module, "_module", module).warn(warning)
    extra = {}
    if module._diff:
        extra["diff"] = {"before": reconciler.before, "after": reconciler.after}
    module.exit_json(changed=reconciler.changed, asg=result, changes=reconciler.changes, **extra)


if __name__ == "__main__":
    main()
