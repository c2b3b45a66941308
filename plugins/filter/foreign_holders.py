# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: foreign_holders
short_description: Which of the stack's names someone else holds, one readable line each
version_added: 0.1.0
description:
  - Takes a list of C([what, name, variable, holder]), the holder as the C(name_holders) result of
    M(immersionday.ha_web.stack_info) gives it (the holder's tag C(ha_web:stack), C(untagged), or null when
    no resource has the name), and returns a line for each name whose holder is not exactly the stack.
  - C(site.yml) stops on such a line before its first change; C(teardown.yml) prints it and leaves the
    resource alone.
options:
  _input:
    description: The checks, C([what, name, variable or null, holder]).
    type: list
    elements: list
    required: true
  stack_name:
    description: The stack.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Say which names someone else holds
  ansible.builtin.debug:
    msg: "{{ [['load balancer', 'Web-ALB', 'alb_name', look.name_holders.load_balancer]] | immersionday.ha_web.foreign_holders(stack_name) }}"
"""

RETURN = r"""
_value:
  description: 'One line per foreign holder, e.g. C(load balancer "Web-ALB" (alb_name) has no tag ha_web:stack).'
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import foreign_holders


class FilterModule(object):
    def filters(self):
        return {"foreign_holders": foreign_holders}
