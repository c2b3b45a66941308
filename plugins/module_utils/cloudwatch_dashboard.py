# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CloudWatch dashboard, read, put or deleted by name (the cloudwatch_dashboard module and
stack_info's dashboard part). Bodies are compared as parsed JSON, so that key order and spacing
never make a change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import error_code

NOT_FOUND = "ResourceNotFound"


def parse_body(body):
    """A body as data: a JSON text parsed, data passed through JSON once (tuples become lists)."""
    if body is None:
        return None
    if isinstance(body, (str, bytes)):
        return json.loads(body)
    return json.loads(json.dumps(body))


def render_body(body):
    """The text sent to PutDashboard: compact, keys sorted (one body, one text)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def get_dashboard(cloudwatch, name):
    """{name, arn, body (parsed; the raw text if it is not JSON)}, or None when there is no such dashboard."""
    try:
        answer = cloudwatch.get_dashboard(DashboardName=name, aws_retry=True)
    except ClientError as e:
        if error_code(e) == NOT_FOUND:
            return None
        raise
    text = answer.get("DashboardBody")
    try:
        body = parse_body(text)
    except ValueError:
        body = text
    return {"name": answer.get("DashboardName") or name, "arn": answer.get("DashboardArn"), "body": body}


def _pretty(body):
    return "" if body is None else json.dumps(body, indent=2, sort_keys=True) + "\n"


def ensure_present(cloudwatch, name, body, tags=None, check_mode=False):
    """Put the dashboard when it is missing or its body differs. Tags go with the creation only
    (PutDashboard ignores them on an update)."""
    want = parse_body(body)
    before = get_dashboard(cloudwatch, name)
    result = {"changed": False, "validation_messages": [],
              "diff": {"before": _pretty(before["body"]) if before else "", "after": _pretty(want),
                       "before_header": name, "after_header": name}}
    if before is not None and before["body"] == want:
        result["dashboard"] = before
        return result
    result["changed"] = True
    if check_mode:
        result["dashboard"] = {"name": name, "arn": before["arn"] if before else None, "body": want}
        return result
    request = {"DashboardName": name, "DashboardBody": render_body(want)}
    if tags and before is None:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    answer = cloudwatch.put_dashboard(aws_retry=True, **request)
    result["validation_messages"] = [
        {"data_path": m.get("DataPath"), "message": m.get("Message")} for m in answer.get("DashboardValidationMessages") or []]
    after = before and dict(before, body=want)
    result["dashboard"] = after or get_dashboard(cloudwatch, name) or {"name": name, "arn": None, "body": want}
    return result


def ensure_absent(cloudwatch, name, check_mode=False):
    """Delete the dashboard when it exists; one already gone is no change."""
    before = get_dashboard(cloudwatch, name)
    result = {"changed": before is not None, "dashboard": None, "validation_messages": [],
              "diff": {"before": _pretty(before["body"]) if before else "", "after": "", "before_header": name, "after_header": name}}
    if before is None or check_mode:
        return result
    try:
        cloudwatch.delete_dashboards(DashboardNames=[name], aws_retry=True)
    except ClientError as e:
        if error_code(e) != NOT_FOUND:
            raise
        result["changed"] = False  # deleted meanwhile
    return result
