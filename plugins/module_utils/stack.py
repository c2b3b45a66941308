# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of this collection shares: the stack tag, AWS clients with
jittered-backoff retries, and a polling loop that is safe under throttling."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

# Every resource of a stack carries this tag; reruns and teardown find resources by it.
STACK_TAG = "ha_web:stack"
# The stack whose resources keep the lab's names exactly.
DEFAULT_STACK = "lab"

# Besides AWSRetry's own list (Throttling, RequestLimitExceeded, ServiceUnavailable, ...).
EXTRA_RETRY_CODES = ["SlowDown", "ThrottlingException", "TooManyRequests", "RequestThrottled", "PriorRequestNotComplete"]


def retry_decorator():
    return AWSRetry.jittered_backoff(retries=12, delay=1, backoff=2.0, max_delay=20, catch_extra_error_codes=EXTRA_RETRY_CODES)


def aws_client(module, service):
    """A boto3 client whose calls retry with jittered backoff when made with aws_retry=True."""
    return module.client(service, retry_decorator=retry_decorator())


def stack_tags(stack_name, name=None, extra=None):
    """The tags of one stack resource, as an Ansible dict."""
    tags = dict(extra or {})
    tags[STACK_TAG] = stack_name
    if name is not None:
        tags["Name"] = name
    return tags


def stack_filter(stack_name):
    return {"Name": "tag:" + STACK_TAG, "Values": [stack_name]}


def tag_specifications(resource_type, tags):
    return [{"ResourceType": resource_type, "Tags": ansible_dict_to_boto3_tag_list(tags)}]


def tags_of(resource, key="Tags"):
    return boto3_tag_list_to_ansible_dict(resource.get(key) or [])


def scoped_name(base, stack_name):
    """The lab's name for the default stack; '<stack_name>-<base>' for any other stack."""
    if stack_name == DEFAULT_STACK:
        return base
    return "%s-%s" % (stack_name, base)


class WaitTimeout(Exception):
    def __init__(self, message, last=None):
        super(WaitTimeout, self).__init__(message)
        self.last = last


class WaitFailed(Exception):
    def __init__(self, message, last=None):
        super(WaitFailed, self).__init__(message)
        self.last = last


def poll(fetch, done, timeout, interval, failed=None, sleep=time.sleep, clock=time.monotonic):
    """Call fetch() until done(result) is true.

    fetch is expected to retry throttling itself (aws_retry=True), so a throttled call never
    counts as success here. failed(result) may return a reason string to stop early.
    Raises WaitTimeout or WaitFailed carrying the last result.
    """
    deadline = clock() + timeout
    while True:
        result = fetch()
        if failed is not None:
            reason = failed(result)
            if reason:
                raise WaitFailed(reason, result)
        if done(result):
            return result
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout("timed out after %ss" % timeout, result)
        sleep(min(interval, remaining))
