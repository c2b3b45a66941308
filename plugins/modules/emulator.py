#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: emulator
short_description: On the embedded cloud, the call that amazon.aws modules cannot make there
version_added: 0.1.0
description:
  - For the embedded cloud (moto) only; on AWS the roles let M(amazon.aws.elb_application_lb) set
    the attributes and do not run this module.
  - O(action=load_balancer_attributes) sets the given load balancer attributes whose reported value
    differs or is missing. moto answers C(DescribeLoadBalancerAttributes) with only the attributes
    set so far, and M(amazon.aws.elb_application_lb) 10.1.2 fails with a C(KeyError) on an attribute
    it is asked to manage that the answer lacks (such as
    C(routing.http.drop_invalid_header_fields.enabled)).
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  action:
    description: What to do.
    type: str
    required: true
    choices: [load_balancer_attributes]
  load_balancer_arn:
    description: The load balancer, for O(action=load_balancer_attributes).
    type: str
  attributes:
    description:
      - Attributes to set, AWS keys to values (booleans as V(true) or V(false) strings), for
        O(action=load_balancer_attributes).
    type: dict
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Drop invalid header fields (embedded cloud)
  immersionday.ha_web.emulator:
    action: load_balancer_attributes
    load_balancer_arn: "{{ ha_web_alb.load_balancer_arn }}"
    attributes:
      routing.http.drop_invalid_header_fields.enabled: "true"
  when: ha_web_cloud_is_emulated
"""

RETURN = r"""
changes:
  description: The load balancer attributes set (or that would be set in check mode).
  returned: success
  type: dict
  sample: {"routing.http.drop_invalid_header_fields.enabled": "true"}
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.emulator import set_load_balancer_attributes
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            action=dict(type="str", required=True, choices=["load_balancer_attributes"]),
            load_balancer_arn=dict(type="str"),
            attributes=dict(type="dict"),
        ),
        required_if=[
            ("action", "load_balancer_attributes", ["load_balancer_arn", "attributes"]),
        ],
        supports_check_mode=True,
    )
    params = module.params
    try:
        wanted = dict((key, str(value).lower() if isinstance(value, bool) else str(value)) for key, value in params["attributes"].items())
        changes = set_load_balancer_attributes(aws_client(module, "elbv2"), params["load_balancer_arn"], wanted, module.check_mode)
        module.exit_json(changed=bool(changes), changes=changes)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to %s on the embedded cloud" % params["action"].replace("_", " "))


if __name__ == "__main__":
    main()
