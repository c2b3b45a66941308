#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ami_wait
short_description: Wait until an AMI is available
version_added: 0.1.0
description:
  - Polls an AMI, found by id or by name among the images the account owns, until its state is
    C(available), and returns its facts.
  - Fails at once, with the state reason AWS gives, when the image is C(failed), C(invalid),
    C(error) or C(deregistered).
  - An image not visible yet right after C(CreateImage) (eventual consistency) is waited for until
    O(wait_timeout).
  - Throttling errors are retried with jittered backoff and never count as success (unlike the
    legacy waiters of amazon.aws).
  - In check mode the image is read once, with no waiting; a failed image still fails, a pending or
    not yet visible one is reported as it is.
  - To show progress during a long wait, give a short O(wait_timeout) with O(fail_on_timeout=false) and
    repeat the task with C(until) (see the examples); Ansible prints a line at each repetition.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  image_id:
    description: The AMI id. Exactly one of O(image_id) and O(name) is required.
    type: str
  name:
    description: The AMI name, among images owned by this account (the newest if several).
    type: str
  stack_name:
    description:
      - With O(name), the stack whose image it is. An image of that name whose tag C(ha_web:stack) is not exactly this
        is someone else's and never waited for (an image without the tag counts, since a new image is tagged once available).
    type: str
  wait:
    description: Wait for the image. With V(false), read it once and fail only on a failed state.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 1200
  fail_on_timeout:
    description:
      - With V(false), a wait that reaches O(wait_timeout) before the image is available returns what it last saw
        (RV(state) C(pending), or C(absent) while the image is not visible yet) instead of failing.
      - A failed image, or an AWS error, fails either way.
    type: bool
    default: true
  poll_interval:
    description: Seconds between two reads of the image.
    type: float
    default: 15
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait for the image just created
  immersionday.ha_web.ami_wait:
    image_id: "{{ created.image_id }}"
    wait_timeout: 1800
  register: ami

- name: Wait for an image by name
  immersionday.ha_web.ami_wait:
    name: Web Server v1
    poll_interval: 10

- name: Wait up to 30 min in runs of 20 s, Ansible printing a line of progress after each run
  immersionday.ha_web.ami_wait:
    image_id: "{{ created.image_id }}"
    wait_timeout: 20
    poll_interval: 10
    fail_on_timeout: false
  register: ami
  until: ami is failed or ami.state == 'available'
  retries: 90
  delay: 0
"""

RETURN = r"""
image_id:
  description: The AMI id (null when not found in check mode or with O(wait=false)).
  returned: always
  type: str
  sample: ami-0123456789abcdef0
state:
  description: The image's state when the module returned (C(absent) when not found).
  returned: always
  type: str
  sample: available
msg:
  description: What the last look saw, in words (state and AWS's state reason, or not visible yet).
  returned: always
  type: str
  sample: image ami-0123456789abcdef0 (Web Server v1) is pending (AWS gave no state reason)
image:
  description: The image as DescribeImages returns it, keys in snake_case, tags as a dict.
  returned: always
  type: dict
  contains:
    image_id: {description: AMI id., type: str}
    name: {description: AMI name., type: str}
    state: {description: AMI state., type: str}
    creation_date: {description: When it was created., type: str}
    block_device_mappings: {description: Its block devices and snapshots., type: list, elements: dict}
    tags: {description: Its tags., type: dict}
    state_reason: {description: "Why it is in its state, when AWS says.", type: dict}
  sample: {"image_id": "ami-0123456789abcdef0", "name": "Web Server v1", "state": "available", "tags": {"ha_web:stack": "lab"}}
"""

import time

try:
    import botocore  # noqa: F401
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.ami import get_image
from ansible_collections.immersionday.ha_web.plugins.module_utils.ami import image_facts
from ansible_collections.immersionday.ha_web.plugins.module_utils.ami import image_failure
from ansible_collections.immersionday.ha_web.plugins.module_utils.ami import image_status
from ansible_collections.immersionday.ha_web.plugins.module_utils.ami import wait_for_image
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client


def outcome(image, image_id=None, name=None, msg=None):
    return dict(
        changed=False,
        msg=msg or image_status(image, image_id, name),
        image_id=image.get("ImageId") if image else None,
        state=image.get("State") if image else "absent",
        image=image_facts(image),
    )


def main(sleep=time.sleep, clock=time.monotonic):
    argument_spec = dict(
        image_id=dict(type="str"),
        name=dict(type="str"),
        stack_name=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1200),
        fail_on_timeout=dict(type="bool", default=True),
        poll_interval=dict(type="float", default=15.0),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        mutually_exclusive=[["image_id", "name"]],
        required_one_of=[["image_id", "name"]],
        supports_check_mode=True,
    )
    image_id, name = module.params["image_id"], module.params["name"]
    ec2 = aws_client(module, "ec2")
    try:
        if module.check_mode or not module.params["wait"]:
            image = get_image(ec2, image_id, name, module.params["stack_name"])
            failure = image_failure(image)
            if failure:
                module.fail_json(**outcome(image, msg=failure))
        else:
            image = wait_for_image(ec2, image_id, name, module.params["wait_timeout"], module.params["poll_interval"],
                                   sleep=sleep, clock=clock, stack_name=module.params["stack_name"])
    except WaitTimeout as e:
        if module.params["fail_on_timeout"]:
            module.fail_json(**outcome(e.last, image_id, name, msg=str(e)))
        image = e.last
    except WaitFailed as e:
        module.fail_json(**outcome(e.last, msg=str(e)))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to read image %s" % (image_id or name))
    module.exit_json(**outcome(image, image_id, name))


if __name__ == "__main__":
    main()
