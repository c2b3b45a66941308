# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for an AMI to be available, safe under throttling (the module ami_wait).

Small functions taking a boto3 EC2 client wrapped by stack.aws_client (every call aws_retry=True)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import STACK_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import poll
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tag_value

# States an image never leaves for `available`.
FAILED_STATES = ("failed", "invalid", "error", "deregistered")


def get_image(ec2, image_id=None, name=None, stack_name=None):
    """One image by id, or the newest self-owned image with this name; None when not (yet) visible.
    By name with stack_name, an image whose stack tag names another stack is someone else's and
    never the one (a new image of the stack carries no stack tag until the role tags it)."""
    if image_id:
        try:
            images = ec2.describe_images(ImageIds=[image_id], aws_retry=True)["Images"]
        except is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"]):
            return None
    else:
        images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}], aws_retry=True)["Images"]
        # The name filter takes * and ? as wildcards too.
        images = [image for image in images if image.get("Name") == name
                  and (stack_name is None or tag_value(image.get("Tags"), STACK_TAG) in (None, stack_name))]
    if not images:
        return None
    return sorted(images, key=lambda image: image.get("CreationDate", ""))[-1]


def image_facts(image):
    """The image as Ansible facts: snake_case keys, tags as a dict."""
    if not image:
        return {}
    return boto3_resource_to_ansible_dict(image)


def image_failure(image):
    """A message when the image is in a state it never leaves for `available`, else None."""
    if not image or image.get("State") not in FAILED_STATES:
        return None
    reason = image.get("StateReason") or {}
    detail = ": ".join(part for part in (reason.get("Code"), reason.get("Message")) if part)
    return "Image %s (%s) is %s%s" % (
        image.get("ImageId"), image.get("Name"), image["State"], (": " + detail) if detail else " (AWS gave no state reason)")


def describe_target(image_id, name):
    return image_id if image_id else "named %r" % name


def state_reason(image):
    """AWS's reason for the image's state, or a note that it gave none."""
    reason = (image or {}).get("StateReason") or {}
    detail = ": ".join(part for part in (reason.get("Code"), reason.get("Message")) if part)
    return ("state reason " + detail) if detail else "AWS gave no state reason"


def image_status(image, image_id=None, name=None):
    """What a look at the image saw, in words: its state and AWS's reason, or that it is not visible yet."""
    if image is None:
        return "image %s is not visible yet" % describe_target(image_id, name)
    return "image %s (%s) is %s (%s)" % (image.get("ImageId"), image.get("Name"), image.get("State"), state_reason(image))


def wait_for_image(ec2, image_id=None, name=None, timeout=1200, interval=15, sleep=time.sleep, clock=time.monotonic, stack_name=None):
    """Poll until the image is available. An image not visible yet (eventual consistency right
    after CreateImage) is waited for until the timeout; throttling is retried by the client.
    Raises WaitFailed (failed/invalid/error/deregistered, with AWS's state reason) or WaitTimeout,
    whose message says what the last look saw (state and state reason)."""
    try:
        return poll(
            lambda: get_image(ec2, image_id, name, stack_name),
            lambda image: image is not None and image.get("State") == "available",
            timeout, interval, failed=image_failure, sleep=sleep, clock=clock,
        )
    except WaitTimeout as e:
        if e.last is None:
            message = "Timed out after %s s waiting for image %s: it was never found" % (timeout, describe_target(image_id, name))
        else:
            message = "Timed out after %s s waiting for image %s (%s) to become available: it is still %s (%s)" % (
                timeout, e.last.get("ImageId"), e.last.get("Name"), e.last.get("State"), state_reason(e.last))
        raise WaitTimeout(message, e.last)
