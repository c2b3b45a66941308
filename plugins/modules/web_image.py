#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: web_image
short_description: Bake the web server AMI of an HA web stack, idempotently
version_added: 0.1.0
description:
  - Bakes the custom AMI of Task 2 of the lab - a builder instance whose user data installs the
    sample application, then C(CreateImage) - and keeps it once baked.
  - Everything is found by the tags C(ha_web:stack) and C(ha_web:component). The image carries
    C(ha_web:fingerprint), a sha256 of what goes into it (O(app_fingerprint), O(user_data), the
    base image id, root volume and instance metadata settings; not the instance type). When an
    image of the stack with this fingerprint exists, nothing is launched.
  - "O(state=present): if the image exists and is C(available), removes what a bake leaves behind
    (builder instance, builder security group), tags the image's snapshots, and prunes images
    beyond O(keep_previous) (deregistered with their snapshots); with nothing to do it makes three
    Describe calls and reports no change. If it exists but is still C(pending) (an interrupted run),
    returns it. Otherwise launches the builder (found again if an interrupted run left one), waits
    until it runs (and, with O(probe), until its page answers), creates the next version
    C(<image_name_base> vN) and returns it C(pending) without waiting: wait with
    M(immersionday.ha_web.ami_wait), then run this module again to clean up."
  - "O(state=absent): deregisters every image of the stack and deletes their snapshots, terminates
    any builder instance and deletes the builder security group."
  - Check mode reports what would change and changes nothing.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  stack_name:
    description: The stack.
    type: str
    required: true
  state:
    description: Whether the stack's image should exist.
    type: str
    choices: [present, absent]
    default: present
  image_name_base:
    description: Images are named C(<image_name_base> v1), C(v2), and so on.
    type: str
    default: Web Server
  base_image_id:
    description: The base AMI. When given, O(base_image_ssm_parameter) and O(track_latest_base) are ignored.
    type: str
  base_image_ssm_parameter:
    description: The public SSM parameter that names the base AMI, read when no base is pinned.
    type: str
    default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  track_latest_base:
    description:
      - With V(false), the base image recorded on the stack's newest image (tag C(ha_web:base-image))
        is reused, so a newer "latest" AMI in SSM does not rebuild; the parameter is read only before
        the first bake.
      - With V(true), the parameter is read on every run and a new base gives a new image.
    type: bool
    default: false
  user_data:
    description: The builder's user data (plain text; it installs the application).
    type: str
    default: ""
  app_fingerprint:
    description: A hash of the application files, part of the fingerprint.
    type: str
    default: ""
  instance_type:
    description: The builder's instance type (not part of the fingerprint).
    type: str
    default: t2.micro
  vpc_id:
    description: The VPC of the builder security group; by default the VPC of the builder's subnet.
    type: str
  subnet_id:
    description:
      - The builder's public subnet. By default, the subnet of the stack tagged
        C(ha_web:component=<subnet_component>), looked up only when a bake is needed (so a no-op
        run needs no network facts).
    type: str
  subnet_component:
    description: The component tag of the subnet to use when O(subnet_id) is not given.
    type: str
    default: public-subnet-a
  builder_instance_name:
    description: Tag C(Name) of the builder instance.
    type: str
    default: Web server for custom AMI
  builder_security_group_name:
    description: Name of the builder security group (HTTP only).
    type: str
    default: Web-AMI-Builder-SG
  app_port:
    description: The application's HTTP port, opened in the builder security group and probed.
    type: int
    default: 80
  root_volume_size:
    description: Root volume size in GiB; by default the base image's.
    type: int
  root_volume_encrypted:
    description: Encrypt the builder's gp3 root volume (and so the image's snapshot).
    type: bool
    default: true
  http_put_response_hop_limit:
    description: Instance metadata hop limit of the builder (IMDSv2 tokens are always required).
    type: int
    default: 1
  no_reboot:
    description: Create the image without rebooting the builder.
    type: bool
    default: false
  probe:
    description:
      - Wait until C(http://<public ip>:<app_port>/health) answers 200 before creating the image.
      - Switch it off on an emulated cloud where no instance really runs; the result then says
        the probe was skipped.
    type: bool
    default: true
  probe_timeout:
    description: How long to wait for the page, in seconds.
    type: int
    default: 600
  keep_previous:
    description: How many images besides the current one to keep for rollback.
    type: int
    default: 1
  cleanup:
    description: With O(state=present) and an available image, remove the builder and prune old images.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait for the builder to run, be terminated, and for its group to be free.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two polls.
    type: float
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Bake the web server image (or find it)
  immersionday.ha_web.web_image:
    stack_name: lab
    vpc_id: "{{ ha_web_network.vpc_id }}"
    subnet_id: "{{ ha_web_network.subnets['public-subnet-a'] }}"
    user_data: "{{ lookup('ansible.builtin.template', 'user_data.sh.j2') }}"
    app_fingerprint: "{{ lookup('ansible.builtin.file', 'ha_web_app.py') | hash('sha256') }}"
  register: bake

- name: Wait for it
  immersionday.ha_web.ami_wait:
    image_id: "{{ bake.image.image_id }}"
  when: bake.image.state != 'available'

- name: Remove the builder and prune old images
  immersionday.ha_web.web_image:
    stack_name: lab
    user_data: "{{ lookup('ansible.builtin.template', 'user_data.sh.j2') }}"
    app_fingerprint: "{{ lookup('ansible.builtin.file', 'ha_web_app.py') | hash('sha256') }}"
  when: bake.image.state != 'available'

- name: Remove every image of the stack
  immersionday.ha_web.web_image:
    stack_name: lab
    state: absent
"""

RETURN = r"""
image:
  description: The image, as the C(ha_web_image) fact; null with O(state=absent).
  returned: always
  type: dict
  contains:
    image_id: {description: AMI id (null in check mode before a bake)., type: str}
    name: {description: AMI name., type: str}
    fingerprint: {description: Fingerprint of what went into it., type: str}
    state: {description: "C(available), C(pending) (just created), or C(absent) in check mode.", type: str}
  sample: {"image_id": "ami-0123456789abcdef0", "name": "Web Server v1", "fingerprint": "3f5a...", "state": "pending"}
fingerprint:
  description: The fingerprint computed on this run.
  returned: with O(state=present)
  type: str
version:
  description: The image's version number (the N of C(vN)).
  returned: with O(state=present)
  type: int
base_image:
  description: The base image and where it came from (C(option), C(pinned) or C(ssm)).
  returned: with O(state=present)
  type: dict
builder:
  description:
    - The builder. C(state) is C(running) after a bake (with C(instance_id), C(public_ip),
      C(security_group_id), C(reused)), C(removed) or C(absent) after clean up, C(kept) while the
      image is pending.
  returned: always
  type: dict
probe:
  description: The HTTP probe of the builder, C(status) C(passed), C(skipped) or C(not-run), with C(url) and C(msg).
  returned: with O(state=present)
  type: dict
pruned_image_ids:
  description: Images deregistered beyond O(keep_previous).
  returned: with O(state=present)
  type: list
  elements: str
removed_image_ids:
  description: Images deregistered.
  returned: with O(state=absent)
  type: list
  elements: str
deleted_snapshot_ids:
  description: Snapshots deleted with them.
  returned: always
  type: list
  elements: str
"""

import time

try:
    import botocore  # noqa: F401
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.image import Timing
from ansible_collections.immersionday.ha_web.plugins.module_utils.image import absent
from ansible_collections.immersionday.ha_web.plugins.module_utils.image import present
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client

ARGUMENT_SPEC = dict(
    stack_name=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    image_name_base=dict(type="str", default="Web Server"),
    base_image_id=dict(type="str"),
    base_image_ssm_parameter=dict(type="str", default="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
    track_latest_base=dict(type="bool", default=False),
    user_data=dict(type="str", default=""),
    app_fingerprint=dict(type="str", default=""),
    instance_type=dict(type="str", default="t2.micro"),
    vpc_id=dict(type="str"),
    subnet_id=dict(type="str"),
    subnet_component=dict(type="str", default="public-subnet-a"),
    builder_instance_name=dict(type="str", default="Web server for custom AMI"),
    builder_security_group_name=dict(type="str", default="Web-AMI-Builder-SG"),
    app_port=dict(type="int", default=80),
    root_volume_size=dict(type="int"),
    root_volume_encrypted=dict(type="bool", default=True),
    http_put_response_hop_limit=dict(type="int", default=1),
    no_reboot=dict(type="bool", default=False),
    probe=dict(type="bool", default=True),
    probe_timeout=dict(type="int", default=600),
    keep_previous=dict(type="int", default=1),
    cleanup=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
    poll_interval=dict(type="float", default=5.0),
)


def main(sleep=time.sleep, clock=time.monotonic):
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    if params["base_image_id"] and module.params.get("track_latest_base"):
        module.warn("track_latest_base has no effect with base_image_id")
    ec2 = aws_client(module, "ec2")
    timing = Timing(params["wait_timeout"], params["poll_interval"], sleep=sleep, clock=clock)
    try:
        if params["state"] == "absent":
            result = absent(ec2, params["stack_name"], module.check_mode, timing)
        else:
            result = present(ec2, lambda: aws_client(module, "ssm"), params, module.check_mode, timing)
    except (WaitFailed, WaitTimeout) as e:
        module.fail_json(msg=str(e))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to reconcile the image of stack %s" % params["stack_name"])
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
