#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: load_balancer
short_description: The lab's Application Load Balancer, its security group, target group and listeners
version_added: 0.1.0
description:
  - Reconciles, for one stack, the security group C(Web-ALB-SG), the target group C(Web-TG), the
    internet-facing Application Load Balancer C(Web-ALB) and its listener HTTP:80 forwarding to
    the target group (with O(certificate_arn), an HTTPS:443 listener and HTTP:80 redirecting to it).
  - Resources are found by the tags C(ha_web:stack) and C(ha_web:component) (C(alb-sg),
    C(target-group), C(alb)); names are a first guess confirmed by tags. A name held by a resource
    of another stack or of nobody is an error, never adopted.
  - Drift is repaired, security group ingress rules (only the wanted ones stay), target group
    health check, load balancer subnets, security groups and attributes, listener protocol,
    certificate, policy and default action. Tags are added or updated, never removed.
  - The target group's registered targets are never read nor changed (the Auto Scaling group owns them).
  - With O(state=absent), deletes listeners, load balancer (waiting until it is gone), target group
    (retrying while in use) and security group (retrying while network interfaces linger), in
    that order; absent resources are fine.
  - A rerun with nothing to change makes six Describe calls and no other call.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  stack_name:
    description: The stack whose resources these are (tag C(ha_web:stack)).
    type: str
    required: true
  state:
    description: Whether the load balancer should exist.
    type: str
    choices: [present, absent]
    default: present
  vpc_id:
    description: The VPC of the security group and target group. Required with O(state=present).
    type: str
  subnet_ids:
    description:
      - The public subnets of the load balancer, at least two in different availability zones.
      - Required with O(state=present).
    type: list
    elements: str
    default: []
  security_group_name:
    description: Name of the load balancer's security group.
    type: str
    default: Web-ALB-SG
  security_group_description:
    description: Description of the security group (set at creation; AWS cannot change it).
    type: str
    default: HTTP from anywhere to Web-ALB
  security_group_rule_description:
    description: Description of each ingress rule the module adds.
    type: str
    default: HTTP from anywhere
  ingress_cidrs:
    description: CIDRs (IPv4 or IPv6) allowed to reach the listener ports (80, and 443 with O(certificate_arn)).
    type: list
    elements: str
    default: ["0.0.0.0/0"]
  target_group_name:
    description: Name of the target group (HTTP:80, instance targets). At most 32 alphanumerics or hyphens.
    type: str
    default: Web-TG
  health_check_path:
    description: Path of the target group's HTTP health check.
    type: str
    default: /health
  health_check_interval:
    description: Seconds between health checks (5-300).
    type: int
    default: 10
  health_check_timeout:
    description: Seconds before a health check fails (2-120, less than O(health_check_interval)).
    type: int
    default: 5
  healthy_threshold:
    description: Consecutive successes before a target is healthy (2-10).
    type: int
    default: 2
  unhealthy_threshold:
    description: Consecutive failures before a target is unhealthy (2-10).
    type: int
    default: 2
  health_check_matcher:
    description: HTTP codes of a healthy answer, for example V(200) or V(200-299).
    type: str
    default: "200"
  load_balancer_name:
    description: Name of the load balancer. At most 32 alphanumerics or hyphens, not starting with C(internal-).
    type: str
    default: Web-ALB
  deletion_protection:
    description: Turn on the load balancer's deletion protection.
    type: bool
    default: false
  drop_invalid_header_fields:
    description: Make the load balancer drop HTTP headers with invalid names.
    type: bool
    default: true
  certificate_arn:
    description:
      - ACM or IAM certificate ARN. When set, an HTTPS:443 listener forwards to the target group,
        HTTP:80 redirects to HTTPS and the security group opens 443 as well.
      - Empty or unset means HTTP only, as in the lab.
    type: str
  ssl_policy:
    description: Security policy of the HTTPS listener.
    type: str
    default: ELBSecurityPolicy-TLS13-1-2-2021-06
  force:
    description: With O(state=absent), turn deletion protection off before deleting instead of failing.
    type: bool
    default: false
  wait:
    description: With O(state=present), wait until the load balancer is C(active).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the load balancer to be active, or for each deletion step.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two polls while waiting.
    type: float
    default: 5
  tags:
    description: Extra tags for every resource (the stack, component and Name tags always win).
    type: dict
    default: {}
notes:
  - Names and subnets are validated before any call that changes something.
  - Deleting waits for each dependency whatever O(wait) says (a target group is in use until its
    load balancer is gone).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The lab's load balancer
  immersionday.ha_web.load_balancer:
    stack_name: lab
    vpc_id: "{{ ha_web_network.vpc_id }}"
    subnet_ids: "{{ ha_web_network.public_subnet_ids }}"
  register: alb

- name: Another stack, HTTPS, without waiting for the load balancer
  immersionday.ha_web.load_balancer:
    stack_name: blue
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0aaaaaaaaaaaaaaaa, subnet-0cccccccccccccccc]
    load_balancer_name: blue-Web-ALB
    target_group_name: blue-Web-TG
    security_group_name: blue-Web-ALB-SG
    certificate_arn: arn:aws:acm:ap-northeast-2:123456789012:certificate/00000000-0000-0000-0000-000000000000
    wait: false

- name: Remove the lab's load balancer
  immersionday.ha_web.load_balancer:
    stack_name: lab
    state: absent
"""

RETURN = r"""
alb:
  description: The load balancer, shaped as the fact C(ha_web_alb). Empty strings for what does not exist (yet).
  returned: always
  type: dict
  contains:
    dns_name:
      description: DNS name of the load balancer.
      type: str
      sample: Web-ALB-1234567890.ap-northeast-2.elb.amazonaws.com
    load_balancer_arn:
      description: ARN of the load balancer.
      type: str
    target_group_arn:
      description: ARN of the target group.
      type: str
    listener_arn:
      description: ARN of the HTTP:80 listener.
      type: str
    https_listener_arn:
      description: ARN of the HTTPS:443 listener, empty without O(certificate_arn).
      type: str
    security_group_id:
      description: Id of the load balancer's security group.
      type: str
      sample: sg-0123456789abcdef0
    url:
      description: URL to open (C(https://) with O(certificate_arn)).
      type: str
      sample: http://Web-ALB-1234567890.ap-northeast-2.elb.amazonaws.com/
    state:
      description: State of the load balancer (C(provisioning), C(active), C(absent)...).
      type: str
      sample: active
changes:
  description: What changed, or would change in check mode.
  returned: always
  type: list
  elements: str
  sample: ["create security group Web-ALB-SG", "create target group Web-TG"]
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import alb
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client


def argument_spec():
    return dict(
        stack_name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        vpc_id=dict(type="str"),
        subnet_ids=dict(type="list", elements="str", default=[]),
        security_group_name=dict(type="str", default="Web-ALB-SG"),
        security_group_description=dict(type="str", default="HTTP from anywhere to Web-ALB"),
        security_group_rule_description=dict(type="str", default="HTTP from anywhere"),
        ingress_cidrs=dict(type="list", elements="str", default=["0.0.0.0/0"]),
        target_group_name=dict(type="str", default="Web-TG"),
        health_check_path=dict(type="str", default="/health"),
        health_check_interval=dict(type="int", default=10),
        health_check_timeout=dict(type="int", default=5),
        healthy_threshold=dict(type="int", default=2),
        unhealthy_threshold=dict(type="int", default=2),
        health_check_matcher=dict(type="str", default="200"),
        load_balancer_name=dict(type="str", default="Web-ALB"),
        deletion_protection=dict(type="bool", default=False),
        drop_invalid_header_fields=dict(type="bool", default=True),
        certificate_arn=dict(type="str"),
        ssl_policy=dict(type="str", default=alb.DEFAULT_SSL_POLICY),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        poll_interval=dict(type="float", default=5.0),
        tags=dict(type="dict", default={}),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    ec2 = aws_client(module, "ec2")
    elbv2 = aws_client(module, "elbv2")
    https = bool(params.get("certificate_arn"))
    try:
        if params["state"] == "present":
            plan, fact = alb.present(ec2, elbv2, params, module.check_mode)
        else:
            plan = alb.absent(ec2, elbv2, params, module.check_mode)
            fact = alb.alb_fact(None, None, {}, None, https)
    except alb.AlbError as e:
        module.fail_json(msg=str(e))
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="load_balancer (stack %s, state %s) failed" % (params["stack_name"], params["state"]))
    result = dict(changed=plan.changed, alb=fact, changes=plan.changes)
    if module._diff:
        result["diff"] = {"prepared": "\n".join("~ " + c for c in plan.changes) + ("\n" if plan.changes else "")}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
