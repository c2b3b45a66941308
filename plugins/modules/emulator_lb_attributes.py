#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: emulator_lb_attributes
short_description: On the embedded cloud, set load balancer attributes that amazon.aws.elb_application_lb cannot
version_added: 0.2.0
description:
  - For the embedded cloud (moto) only. moto answers C(DescribeLoadBalancerAttributes) with only
    the attributes set so far, and M(amazon.aws.elb_application_lb) 10.1.2 fails with a C(KeyError)
    on an attribute it is asked to manage that the answer lacks (such as
    C(routing.http.drop_invalid_header_fields.enabled)).
  - AWS answers every attribute; there the role lets M(amazon.aws.elb_application_lb) manage them
    and does not run this module.
  - Sets the given attributes whose reported value differs or is missing; changes nothing else.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  load_balancer_arn:
    description: The load balancer.
    type: str
    required: true
  attributes:
    description: Attributes to set, AWS keys to values (booleans as V(true) or V(false) strings).
    type: dict
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Drop invalid header fields (embedded cloud)
  immersionday.ha_web.emulator_lb_attributes:
    load_balancer_arn: "{{ ha_web_alb.load_balancer_arn }}"
    attributes:
      routing.http.drop_invalid_header_fields.enabled: "true"
"""

RETURN = r"""
changes:
  description: The attributes set (or that would be set in check mode).
  returned: always
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
        argument_spec=dict(load_balancer_arn=dict(type="str", required=True), attributes=dict(type="dict", required=True)),
        supports_check_mode=True,
    )
    wanted = dict((key, str(value).lower() if isinstance(value, bool) else str(value)) for key, value in module.params["attributes"].items())
    try:
        changes = set_load_balancer_attributes(aws_client(module, "elbv2"), module.params["load_balancer_arn"], wanted, module.check_mode)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to set attributes of %s" % module.params["load_balancer_arn"])
    module.exit_json(changed=bool(changes), changes=changes)


if __name__ == "__main__":
    main()
