# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stack_name_errors
short_description: What is wrong with a stack name
version_added: 0.1.0
description:
  - The rule every role checks before its first AWS call - 1 to 24 letters, digits and hyphens,
    starting and ending with a letter or digit, since load balancer and target group names
    (at most 32 characters) are built as C(<stack_name>-<lab name>).
  - Returns an empty list for a valid name, else one message naming the variable.
options:
  _input:
    description: The stack name.
    type: raw
    required: true
  label:
    description: How the message names the variable.
    type: str
    default: stack_name
"""

EXAMPLES = r"""
- name: Check the stack name before calling AWS
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __errors: "{{ stack_name | immersionday.ha_web.stack_name_errors }}"
"""

RETURN = r"""
_value:
  description: One message when the name breaks the rule; empty when it is valid.
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import stack_name_errors


class FilterModule(object):
    def filters(self):
        return {"stack_name_errors": stack_name_errors}
