# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What our gap modules share: the stack tag filters, AWS clients with jittered-backoff
retries, and a polling loop that is safe under throttling."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import STACK_TAG


# Besides AWSRetry's own list (Throttling, RequestLimitExceeded, ServiceUnavailable, ...).
# TooManyUpdates: SSM's answer to concurrent writes of one parameter (stack_lock).
EXTRA_RETRY_CODES = ["SlowDown", "ThrottlingException", "TooManyRequests", "RequestThrottled", "PriorRequestNotComplete",
                     "TooManyUpdates"]


def retry_decorator():
    return AWSRetry.jittered_backoff(retries=12, delay=1, backoff=2.0, max_delay=20, catch_extra_error_codes=EXTRA_RETRY_CODES)


def aws_client(module, service):
    """A boto3 client of the module's connection settings (AnsibleAWSModule.client: region,
    endpoint_url, credentials, profile, aws_config; AWS_ENDPOINT_URL through boto3) whose calls
    retry throttling with jittered backoff when made with aws_retry=True."""
    return module.client(service, retry_decorator=retry_decorator())


def paginate(client, operation, **kwargs):
    """The full result of a paginated call, retried like the client's aws_retry=True calls
    (a paginator does not take aws_retry: without this, a throttled page fails the listing)."""

    @retry_decorator()
    def full_result():
        return client.get_paginator(operation).paginate(**kwargs).build_full_result()

    return full_result()


def stack_filter(stack_name):
    """The filter on the stack tag. Callers put it after the cheaper filters (state, VPC): AWS
    ignores the order, but moto applies filters one after the other and a tag filter scans every
    tag of the region for each candidate, which made the embedded cloud slower with every run
    (terminated instances keep their tags). It only narrows the answer: * and ? in a filter value are
    wildcards, so callers keep what carries_stack accepts."""
    return {"Name": "tag:" + STACK_TAG, "Values": [stack_name]}


def component_filters(stack_name, component):
    """The tag filters that find one component of the stack (see stack_filter on their place)."""
    return [stack_filter(stack_name), {"Name": "tag:" + COMPONENT_TAG, "Values": [component]}]


def tags_of(resource, key="Tags"):
    return boto3_tag_list_to_ansible_dict(resource.get(key) or [])


def tag_value(tags, key):
    """The value of tag `key` in tags: a dict, or a list of {Key, Value} as EC2, Elastic Load
    Balancing and Auto Scaling answer them (extra keys such as ResourceId are ignored)."""
    if isinstance(tags, dict):
        return tags.get(key)
    for tag in tags or []:
        if tag.get("Key") == key:
            return tag.get("Value")
    return None


def carries_stack(tags, stack_name, component=None):
    """Whether the tags name exactly this stack (and this component), character for character.
    EC2 tag filters take * and ? as wildcards (a filter on 'bl*' answers stack blue's resources):
    whatever a Describe call answered for a stack is kept only if this holds."""
    if not stack_name or tag_value(tags, STACK_TAG) != stack_name:
        return False
    return component is None or tag_value(tags, COMPONENT_TAG) == component


def of_stack(resources, stack_name, component=None, key="Tags"):
    """The resources whose tags (resource[key]) name exactly this stack (and component): the others
    are someone else's, never waited for, changed or deleted."""
    return [resource for resource in resources if carries_stack(resource.get(key), stack_name, component)]


def error_code(exc):
    """The AWS error code of a botocore ClientError, None for anything else."""
    try:
        return exc.response["Error"]["Code"]
    except (AttributeError, KeyError, TypeError):
        return None


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
