#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: stack_info
short_description: Read every resource of one HA web stack by its tags
version_added: 0.1.0
description:
  - Finds the resources of a stack through the tags C(ha_web:stack) and C(ha_web:component)
    that every module of this collection puts on what it creates, and returns them in the
    shapes of the facts the roles hand on (C(ha_web_network), C(ha_web_image), C(ha_web_alb),
    C(ha_web_asg)).
  - A role that runs alone by tag uses it to find what earlier roles built; the playbooks use it
    for the outputs file and the summary.
  - Read-only; never changes anything.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  stack_name:
    description: The stack to read.
    type: str
    required: true
  parts:
    description: Which parts of the stack to read; fewer parts make fewer API calls.
    type: list
    elements: str
    choices: [network, image, alb, asg, builder]
    default: [network, image, alb, asg]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find what the network role built for this stack
  immersionday.ha_web.stack_info:
    stack_name: lab
    parts: [network]
  register: stack

- name: Use it
  ansible.builtin.set_fact:
    ha_web_network: "{{ stack.network }}"
"""

RETURN = r"""
exists:
  description: Whether any resource of the stack was found.
  returned: always
  type: bool
network:
  description: The network, as the C(ha_web_network) fact; null when the stack has no VPC.
  returned: when requested
  type: dict
  contains:
    vpc_id: {description: The VPC., type: str}
    vpc_cidr: {description: Its CIDR block., type: str}
    public_subnet_ids: {description: 'Public subnets, AZ a then c.', type: list, elements: str}
    private_subnet_ids: {description: 'Private subnets, AZ a then c.', type: list, elements: str}
    subnets: {description: 'Subnet id by component name (public-subnet-a, ...).', type: dict}
    igw_id: {description: Internet gateway., type: str}
    nat_gateway_id: {description: The pending or available NAT gateway., type: str}
    nat_gateway_state: {description: Its state., type: str}
    eip_allocation_id: {description: The NAT gateway's Elastic IP., type: str}
    eip_public_ip: {description: Its address., type: str}
    public_route_table_id: {description: Route table C(Public route)., type: str}
    private_route_table_id: {description: Route table C(Private route)., type: str}
image:
  description: The newest available image of the stack (else the newest), as C(ha_web_image).
  returned: when requested
  type: dict
  contains:
    image_id: {description: AMI id., type: str}
    name: {description: AMI name., type: str}
    fingerprint: {description: Fingerprint of what went into the image., type: str}
    state: {description: AMI state., type: str}
    image_ids: {description: 'Every image of the stack, newest first.', type: list, elements: str}
alb:
  description:
    - The load balancer part, as C(ha_web_alb), plus what the alb role compares with what it wants
      (C(security_group), C(target_group), C(load_balancer)); null when the stack has none of them.
  returned: when requested
  type: dict
  contains:
    dns_name: {description: DNS name of the load balancer., type: str}
    url: {description: 'URL to open (C(https://) when an HTTPS:443 listener exists).', type: str}
    load_balancer_arn: {description: ARN., type: str}
    target_group_arn: {description: Target group ARN., type: str}
    listener_arn: {description: HTTP listener ARN., type: str}
    https_listener_arn: {description: 'HTTPS:443 listener ARN, null without one.', type: str}
    security_group_id: {description: The load balancer's security group., type: str}
    state: {description: Load balancer state., type: str}
    security_group:
      description: The security group, null when absent.
      type: dict
      contains:
        group_id: {description: Id., type: str}
        name: {description: Group name., type: str}
        description: {description: Description., type: str}
        vpc_id: {description: VPC., type: str}
        ingress: {description: "Ingress rules, one per source, sorted: C(<protocol> <port or from-to or all> <source>), e.g. C(tcp 80 0.0.0.0/0).",
                  type: list, elements: str}
        tags: {description: Tags., type: dict}
    target_group:
      description: The target group, null when absent.
      type: dict
      contains:
        arn: {description: ARN., type: str}
        name: {description: Name., type: str}
        protocol: {description: Protocol., type: str}
        port: {description: Port., type: int}
        vpc_id: {description: VPC., type: str}
        target_type: {description: Target type., type: str}
        health_check: {description: 'Health check: protocol, port, path, interval, timeout, healthy_threshold, unhealthy_threshold, matcher.',
                       type: dict}
        tags: {description: Tags., type: dict}
    untagged_target_groups:
      description:
        - When the stack has no tagged target group, the target groups in its VPC that carry no C(ha_web:stack) tag, shaped as
          RV(alb.target_group) (community.aws.elb_target_group tags a new group in a second call; a run killed in between leaves one).
      type: list
      elements: dict
    load_balancer:
      description: The load balancer, null when absent.
      type: dict
      contains:
        arn: {description: ARN., type: str}
        name: {description: Name., type: str}
        dns_name: {description: DNS name., type: str}
        state: {description: State code., type: str}
        state_reason: {description: Reason of a failed state., type: str}
        scheme: {description: Scheme., type: str}
        type: {description: Type., type: str}
        vpc_id: {description: VPC., type: str}
        subnet_ids: {description: Subnets in availability zone order., type: list, elements: str}
        security_group_ids: {description: 'Security groups, sorted.', type: list, elements: str}
        ip_address_type: {description: IP address type., type: str}
        attributes: {description: 'Attributes as DescribeLoadBalancerAttributes answers them (AWS keys, string values).', type: dict}
        deletion_protection: {description: Deletion protection., type: bool}
        drop_invalid_header_fields: {description: Whether invalid header fields are dropped., type: bool}
        listeners:
          description:
            - 'Listeners sorted by port, as the O(amazon.aws.elb_application_lb#module:listeners) option takes them: C(Protocol),
              C(Port), C(DefaultActions) (a simple forward names its target group: C(TargetGroupName)), and C(SslPolicy) and
              C(Certificates) for a secure listener.'
          type: list
          elements: dict
        tags: {description: Tags., type: dict}
asg:
  description: The Auto Scaling part, as C(ha_web_asg).
  returned: when requested
  type: dict
  contains:
    group_name: {description: Auto Scaling group., type: str}
    launch_template_id: {description: Launch template., type: str}
    launch_template_version: {description: Version the group uses., type: str}
    security_group_id: {description: The instances' security group., type: str}
    desired_capacity: {description: Desired capacity., type: int}
    min_size: {description: Minimum size., type: int}
    max_size: {description: Maximum size., type: int}
    instances: {description: 'Instances with AZ, lifecycle state and health.', type: list, elements: dict}
builder:
  description: Builder instances and security groups an interrupted bake left behind.
  returned: when requested
  type: dict
"""

try:
    import botocore  # noqa: F401
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_info import describe_stack


def main():
    argument_spec = dict(
        stack_name=dict(type="str", required=True),
        parts=dict(type="list", elements="str", choices=["network", "image", "alb", "asg", "builder"],
                   default=["network", "image", "alb", "asg"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    parts = module.params["parts"]
    try:
        result = describe_stack(
            aws_client(module, "ec2"),
            aws_client(module, "elbv2") if "alb" in parts else None,
            aws_client(module, "autoscaling") if "asg" in parts else None,
            module.params["stack_name"],
            parts,
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to read stack %s" % module.params["stack_name"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
