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
    that the roles of this collection put on what they create, and returns them in the
    shapes of the facts the roles hand on (C(ha_web_network), C(ha_web_image), C(ha_web_alb),
    C(ha_web_asg)).
  - The stack tag is compared exactly, character for character, with O(stack_name), since EC2 tag filters take C(*) and
    C(?) as wildcards. A resource tagged C(blue) is not found for C(bl*), C(blu?) or C(BLUE).
  - A role that runs alone by tag uses it to find what earlier roles built; the playbooks use it
    for the outputs file and the summary.
  - With the part C(base_image) it also resolves the base AMI of the C(web_ami) role's next bake, that
    is the given O(base_image_id); else, unless O(track_latest_base), the base recorded on the stack's
    newest image; else the value of the public SSM parameter O(base_image_ssm_parameter)
    (C(GetParameter), retried on throttling, only then). Its root device comes from C(DescribeImages).
  - With the part C(dashboard) it reads the stack's CloudWatch dashboard C(<stack_name>-ha-web) (C(GetDashboard)) and
    says whether its body carries this stack's marker (dashboards are global to the account).
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
    choices: [network, image, alb, asg, builder, base_image, dashboard]
    default: [network, image, alb, asg]
  base_image_id:
    description: With the part C(base_image), the base AMI (no SSM parameter is read).
    type: str
  base_image_ssm_parameter:
    description: With the part C(base_image), the SSM parameter naming the base AMI when no other source gives it.
    type: str
    default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  image_name_base:
    description:
      - With the part C(builder), list the images this account owns named C(<image_name_base> vN) that are
        not the stack's (RV(builder.name_clashes)).
    type: str
  names:
    description:
      - Names to look up, whoever holds them (RV(name_holders)); C(site.yml) and the roles check them before their first
        change. A name held by the stack's own resource read in O(parts) costs no call.
    type: dict
    suboptions:
      load_balancer: {description: A load balancer name., type: str}
      target_group: {description: A target group name., type: str}
      auto_scaling_group: {description: An Auto Scaling group name., type: str}
      launch_template: {description: A launch template name., type: str}
      security_groups:
        description: Security group names, looked up in the VPC O(vpc_id) (names are unique per VPC).
        type: list
        elements: str
  vpc_id:
    description:
      - The VPC in which O(names.security_groups) are looked up; default the stack's VPC (none when the stack has no VPC
        yet, and then no group holds the names).
    type: str
  image_id:
    description:
      - With the part C(asg), the image whose root device the launch template maps (RV(image_root)); without it, the
        stack's image when the part C(image) is read.
    type: str
  instance_types:
    description:
      - Instance types to check, read-only, before anything is built - each must be offered in each of its zones
        (C(DescribeInstanceTypeOfferings), one call); RV(instance_type_errors) names those that are not.
      - A zone that is not an available zone of the region is left to the AZ letter check (RV(availability_zones)).
    type: list
    elements: dict
    suboptions:
      variable: {description: The variable that sets the type (the messages name it)., type: str, required: true}
      instance_type: {description: 'The instance type, for example C(t2.micro).', type: str, required: true}
      zones: {description: 'The zones it must be offered in, for example C(ap-northeast-2a).', type: list, elements: str, required: true}
  track_latest_base:
    description:
      - With the part C(base_image) and no O(base_image_id), read O(base_image_ssm_parameter) even when
        the stack's newest image records its base (tag C(ha_web:base-image)).
    type: bool
    default: false
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

- name: Read the network and check, before anything is built, that the instance types are offered where they go
  immersionday.ha_web.stack_info:
    stack_name: lab
    parts: [network]
    instance_types:
      - {variable: asg_instance_type, instance_type: t2.micro, zones: [ap-northeast-2a, ap-northeast-2c]}
  register: stack

- name: Read the stack's images and the base AMI of its next bake (its recorded base, else the current Amazon Linux)
  immersionday.ha_web.stack_info:
    stack_name: lab
    parts: [image, base_image]
    base_image_ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  register: stack
"""

RETURN = r"""
exists:
  description:
    - Whether any resource of the stack was found (any EC2 resource tagged with the stack when O(parts) has
      network, alb or builder; else among the parts read).
  returned: always
  type: bool
network:
  description:
    - The network, as the C(ha_web_network) fact, plus what the network role compares with its input
      (C(vpc), C(eip), C(eips), C(subnet_details), C(igw), C(nat_gateways), C(route_tables)).
    - Null when the stack has no network resource; C(vpc_id) null when a remnant without its VPC is
      left (the Elastic IP of an interrupted first run).
  returned: when requested
  type: dict
  contains:
    vpc_id: {description: The VPC., type: str}
    vpc_cidr: {description: Its CIDR block., type: str}
    public_subnet_ids: {description: 'Public subnets, AZ a then c.', type: list, elements: str}
    private_subnet_ids: {description: 'Private subnets, AZ a then c.', type: list, elements: str}
    subnets: {description: 'Subnet id by component name (public-subnet-a, ...).', type: dict}
    igw_id: {description: Internet gateway., type: str}
    nat_mode:
      description:
        - The NAT mode the private route tables show (C(single), C(per_az), C(regional)); C(mixed) during a switch
          of C(network_nat_mode), null without a private table routing to a live gateway.
      type: str
    nat_gateway_ids:
      description: 'The stack''s pending or available NAT gateways, by component (nat, nat-a, nat-c, nat-regional).'
      type: list
      elements: str
    nat_gateway_id: {description: The first of them., type: str}
    nat_gateway_state: {description: 'C(available) once every one of them is, else the state of one that is not.', type: str}
    eip_allocation_ids:
      description: 'The stack''s Elastic IPs, by component (eip, eip-a, eip-c, eip-regional-a, ...).'
      type: list
      elements: str
    eip_allocation_id: {description: The first of them., type: str}
    eip_public_ips: {description: Their addresses., type: list, elements: str}
    eip_public_ip: {description: The first of them., type: str}
    public_route_table_id: {description: Route table C(Public route)., type: str}
    private_route_table_ids:
      description: 'The private route tables, by component (private-rt, private-rt-a, private-rt-c).'
      type: list
      elements: str
    private_route_table_id: {description: The first of them (C(Private route) in mode single)., type: str}
    vpc: {description: 'The VPC: id, cidr, dns_support, dns_hostnames, tags.', type: dict}
    eip: {description: 'The Elastic IP of mode single: allocation_id, public_ip, association_id, network_interface_id, tags.', type: dict}
    eips: {description: 'Every Elastic IP of the stack by component, each as C(eip).', type: dict}
    subnet_details: {description: 'Subnet by component: id, vpc_id, cidr, zone, map_public, tags.', type: dict}
    igw: {description: 'The internet gateway: id, vpc_ids (attached), tags.', type: dict}
    nat_gateways:
      description:
        - 'The VPC''s NAT gateways in any state: id, state, subnet_id, tags, component, availability_mode (zonal, regional),
          allocation_ids, network_interface_ids, zone_addresses ([zone, allocation id] of a regional one), failure_message.'
      type: list
      elements: dict
    route_tables:
      description:
        - 'Route table by component (public-rt, private-rt, private-rt-a, ...): id, vpc_id, tags, routes (destination to target,
          null for a blackhole), subnet_ids.'
      type: dict
    security_groups:
      description:
        - 'Every security group of the VPC but its default one, by name: C(id), C(name), C(stack) (its tag C(ha_web:stack),
          C(untagged) without one). One whose C(stack) is not the stack''s is someone else''s: teardown leaves it, and the VPC.'
      type: list
      elements: dict
availability_zones:
  description: The region's available zones (the network role checks its AZ letters against them).
  returned: when the network part is requested
  type: list
  elements: str
  sample: [ap-northeast-2a, ap-northeast-2b, ap-northeast-2c, ap-northeast-2d]
instance_type_errors:
  description: With O(instance_types), one message per type not offered in one of its zones, naming its variable; empty when all are.
  returned: when O(instance_types) is given
  type: list
  elements: str
  sample: ["asg_instance_type t2.micro is not offered in ap-northeast-2b (this region offers it in ap-northeast-2a, ap-northeast-2c)"]
image:
  description:
    - The newest available image of the stack (else the newest), as C(ha_web_image), and every image of
      the stack; null when the stack has no image.
  returned: when requested
  type: dict
  contains:
    image_id: {description: AMI id., type: str}
    name: {description: AMI name., type: str}
    fingerprint: {description: Fingerprint of what went into the image., type: str}
    state: {description: AMI state., type: str}
    snapshot_gb: {description: 'GB of the snapshots of every image of the stack, at their volumes'' full size.', type: int}
    image_ids: {description: 'Every image of the stack, newest first.', type: list, elements: str}
    images:
      description:
        - Every image of the stack, newest first (by version, then creation date), with C(image_id), C(name),
          C(state), C(creation_date), C(fingerprint), C(base_image_id) (tag C(ha_web:base-image)), C(version),
          C(tagged) (carries the stack tag), C(snapshot_ids), C(snapshot_gb) and C(untagged_snapshot_ids) (its
          snapshots that do not carry the stack tag yet).
      type: list
      elements: dict
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
    instance_type: {description: 'Instance type of the launch template version the group uses (else the latest).', type: str}
    root_volume_size: {description: Root volume size (GiB) of that version., type: int}
    root_volume_type: {description: Root volume type of that version., type: str}
    security_group:
      description: 'The instances'' security group: id, name, description, vpc_id, tags, ingress (sorted
        strings C(tcp 80-80 from sg-...)); null when missing.'
      type: dict
    launch_template:
      description: 'The launch template: id, name, tags, latest_version, default_version, and versions, the managed
        data (image_id, instance_type, security_group_ids, root_device_name, root_volume_size, http_tokens,
        instance_tags...) of the latest version and of the group''s numbered version, by version number; null when
        missing.'
      type: dict
    group:
      description: 'The group''s managed settings: name, status, launch_template_id, launch_template_version, sizes,
        subnet_ids and target_group_arns (sorted), health check, metrics (name to granularity), tags (key to value
        and propagate_at_launch), outdated_instance_ids (instances on another template version); null when missing.'
      type: dict
    policies:
      description: 'The group''s scaling policies: name, type, metric, target_value, disable_scale_in,
        estimated_instance_warmup.'
      type: list
      elements: dict
dashboard:
  description:
    - The stack's CloudWatch dashboard C(<stack_name>-ha-web), with the part C(dashboard). Dashboards are global to the
      account and this one's body names its stack and region in a marker (C(ha_web:stack=...) C(ha_web:region=...));
      the roles put or delete it only when it is missing or RV(dashboard.ours).
  returned: when requested
  type: dict
  contains:
    name: {description: 'Its name, C(<stack_name>-ha-web).', type: str}
    region: {description: The region of this look-up (the stack's)., type: str}
    url: {description: The console URL of the dashboard., type: str}
    exists: {description: Whether a dashboard of that name exists., type: bool}
    arn: {description: Its ARN (null when missing)., type: str}
    body: {description: 'Its body, parsed (the raw text if it is not JSON; null when missing).', type: raw}
    owner: {description: 'The C(stack) and C(region) its marker names; null without a marker.', type: dict}
    ours: {description: Whether it exists and its marker names this stack in this region., type: bool}
  sample:
    name: lab-ha-web
    region: ap-northeast-2
    url: "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2#dashboards:name=lab-ha-web"
    exists: true
    arn: "arn:aws:cloudwatch::123456789012:dashboard/lab-ha-web"
    body: {"widgets": []}
    owner: {"stack": "lab", "region": "ap-northeast-2"}
    ours: true
name_holders:
  description:
    - With O(names), for each name given, the tag C(ha_web:stack) of the resource that holds it, C(untagged) when that
      resource has no such tag, null when no resource has the name; C(security_groups) maps each security group name to
      its holder in the VPC.
    - A holder other than O(stack_name), compared exactly, is someone else's resource.
  returned: when O(names) is given
  type: dict
  sample: {load_balancer: lab, target_group: null, security_groups: {Web-ALB-SG: untagged}}
image_root:
  description:
    - With the part C(asg), the root device of O(image_id) (C(image_id), C(root_device_name), C(root_volume_size) in GiB,
      the last two null when the image is not found); null when the launch template's versions already use that
      image with a root device (nothing to read).
  returned: when the part asg is requested and an image is known (O(image_id), or the part image found one)
  type: dict
builder:
  description: What an interrupted bake or image removal left behind.
  returned: when requested
  type: dict
  contains:
    instance_ids: {description: Builder instances not terminated yet., type: list, elements: str}
    security_group_ids: {description: Builder security groups., type: list, elements: str}
    instances:
      description: 'Those instances: C(instance_id), C(state), C(fingerprint), C(image_name), C(base_image_id), C(public_ip).'
      type: list
      elements: dict
    images:
      description:
        - Images made from a live builder that do not carry the stack tag yet (a bake stopped between
          C(CreateImage) and tagging), shaped like RV(image.images); C(fingerprint) and C(base_image_id)
          are the builder's.
      type: list
      elements: dict
    snapshot_ids:
      description: Snapshots tagged as the stack's image snapshots that none of its images owns (a removal stopped midway).
      type: list
      elements: str
    name_clashes:
      description:
        - With O(image_name_base), images this account owns named like the stack's images (C(<image_name_base> vN))
          that do not carry the stack tag, each C(image_id), C(name) and C(stack) (its tag C(ha_web:stack), C(untagged) without
          one); empty without it.
      type: list
      elements: dict
base_image:
  description: The base AMI, with the part C(base_image); the fields other than C(source) are null when not found.
  returned: when requested
  type: dict
  contains:
    image_id: {description: The AMI id (null when the SSM parameter does not exist)., type: str}
    source: {description: 'C(option) (O(base_image_id)), C(recorded) (on the newest image) or C(ssm).', type: str}
    ssm_parameter: {description: The SSM parameter read., type: str}
    name: {description: The AMI name (null when the AMI does not exist)., type: str}
    state: {description: The AMI state., type: str}
    root_device_name: {description: 'Its root device, e.g. C(/dev/xvda).', type: str}
    root_volume_size: {description: Size of its root snapshot in GiB., type: int}
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
        parts=dict(type="list", elements="str", choices=["network", "image", "alb", "asg", "builder", "base_image", "dashboard"],
                   default=["network", "image", "alb", "asg"]),
        base_image_id=dict(type="str"),
        base_image_ssm_parameter=dict(type="str", default="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
        track_latest_base=dict(type="bool", default=False),
        image_name_base=dict(type="str"),
        names=dict(type="dict", options=dict(
            load_balancer=dict(type="str"), target_group=dict(type="str"),
            auto_scaling_group=dict(type="str"), launch_template=dict(type="str"),
            security_groups=dict(type="list", elements="str"),
        )),
        vpc_id=dict(type="str"),
        image_id=dict(type="str"),
        instance_types=dict(type="list", elements="dict", options=dict(
            variable=dict(type="str", required=True),
            instance_type=dict(type="str", required=True),
            zones=dict(type="list", elements="str", required=True),
        )),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    parts = module.params["parts"]
    names = dict((key, value) for key, value in (module.params["names"] or {}).items() if value)
    try:
        result = describe_stack(
            aws_client(module, "ec2"),
            aws_client(module, "elbv2") if "alb" in parts or set(names) & set(["load_balancer", "target_group"]) else None,
            aws_client(module, "autoscaling") if "asg" in parts or "auto_scaling_group" in names else None,
            module.params["stack_name"],
            parts,
            ssm_factory=lambda: aws_client(module, "ssm"),
            base_image=dict(image_id=module.params["base_image_id"], ssm_parameter=module.params["base_image_ssm_parameter"],
                            track_latest=module.params["track_latest_base"]),
            image_name_base=module.params["image_name_base"],
            names=names,
            image_id=module.params["image_id"],
            cloudwatch=aws_client(module, "cloudwatch") if "dashboard" in parts else None,
            instance_types=module.params["instance_types"],
            vpc_id=module.params["vpc_id"],
        )
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to read stack %s" % module.params["stack_name"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
