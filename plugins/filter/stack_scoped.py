# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: stack_scoped
short_description: The name of a lab resource in a given stack
version_added: 0.1.0
description:
  - Returns the lab's own name for the default stack C(lab), and C(<stack_name>-<name>) for any
    other stack, so that two stacks live side by side in one region.
options:
  _input:
    description: The lab's name of the resource, for example C(Web-ALB).
    type: str
    required: true
  stack_name:
    description: The stack.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Name the load balancer of this stack
  ansible.builtin.set_fact:
    alb__name: "{{ 'Web-ALB' | immersionday.ha_web.stack_scoped(stack_name) }}"
"""

RETURN = r"""
_value:
  description: The scoped name.
  type: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import scoped_name


class FilterModule(object):
    def filters(self):
        return {"stack_scoped": scoped_name}
