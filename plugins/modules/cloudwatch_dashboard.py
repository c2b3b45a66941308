#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
short_description: Create, update or delete a CloudWatch dashboard
version_added: 0.1.0
description:
  - Puts a CloudWatch dashboard (C(PutDashboard)) when it is missing or its body differs, or deletes it
    (C(DeleteDashboards)). amazon.aws and community.aws have no dashboard module.
  - Idempotent - the body is compared with the current one (C(GetDashboard)) as parsed JSON, so
    key order and spacing make no change; with nothing to do, no call but C(GetDashboard) is made.
  - Check mode reports what would change; with C(--diff), the bodies before and after as indented JSON.
  - Dashboards are global to the account, not per region; the name is the identity.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  name:
    description:
      - The dashboard's name (1 to 255 letters, digits, C(-) and C(_)).
    type: str
    required: true
  state:
    description:
      - V(present) puts the dashboard when it is missing or its body differs; V(absent) deletes it if it exists.
    type: str
    choices: [present, absent]
    default: present
  body:
    description:
      - The dashboard body, as a dict or a JSON text (see the CloudWatch dashboard body structure). Required
        with O(state=present).
    type: json
  tags:
    description:
      - Tags given when the dashboard is created; PutDashboard ignores tags on an update, so they are
        neither compared nor changed afterwards.
    type: dict
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A dashboard of one Auto Scaling group's CPU
  immersionday.ha_web.cloudwatch_dashboard:
    name: lab-ha-web
    body:
      widgets:
        - type: metric
          x: 0
          y: 0
          width: 12
          height: 6
          properties:
            title: Average CPU
            region: ap-northeast-2
            metrics: [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "Web-ASG"]]
            stat: Average
            period: 60
    tags:
      ha_web:stack: lab

- name: Delete it
  immersionday.ha_web.cloudwatch_dashboard:
    name: lab-ha-web
    state: absent
"""

RETURN = r"""
dashboard:
  description: The dashboard after the task (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
      returned: always
    arn:
      description: Its ARN (null in check mode before its creation).
      type: str
      returned: always
    body:
      description: Its body, parsed.
      type: dict
      returned: always
  sample:
    name: lab-ha-web
    arn: "arn:aws:cloudwatch::123456789012:dashboard/lab-ha-web"
    body: {"widgets": []}
validation_messages:
  description: What PutDashboard said about the body (warnings of a body it accepted).
  returned: always
  type: list
  elements: dict
  contains:
    data_path:
      description: Where in the body.
      type: str
      returned: always
    message:
      description: The message.
      type: str
      returned: always
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import cloudwatch_dashboard as dashboards
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        body=dict(type="json"),
        tags=dict(type="dict"),
    )


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True,
                              required_if=[("state", "present", ["body"])])
    p = module.params
    try:
        body = dashboards.parse_body(p["body"]) if p["state"] == "present" else None
    except ValueError as e:
        module.fail_json(msg="body is not JSON: %s" % e)
    if p["state"] == "present" and not isinstance(body, dict):
        module.fail_json(msg="body must be a JSON object (with the key widgets)")
    cloudwatch = stack.aws_client(module, "cloudwatch")
    try:
        if p["state"] == "present":
            result = dashboards.ensure_present(cloudwatch, p["name"], body, p["tags"], module.check_mode)
        else:
            result = dashboards.ensure_absent(cloudwatch, p["name"], module.check_mode)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to %s dashboard %s" % ("put" if p["state"] == "present" else "delete", p["name"]))
    for message in result["validation_messages"]:
        module.warn("dashboard %s: %s: %s" % (p["name"], message["data_path"], message["message"]))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
