# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tag_errors
short_description: What is wrong with a role's extra tags
version_added: 0.2.0
description:
  - Checks the extra tags a user gives a role (C(network_tags), C(alb_tags)...) without calling AWS
    and returns one message per problem, naming the variable.
  - Rules - a dict; at most 40 tags; keys are text of 1 to 128 characters, not C(Name) nor starting
    with C(ha_web:) or C(aws:) (the collection and AWS set those); values are text, numbers or bools of
    at most 256 characters; no control character. With O(strict) (Elastic Load Balancing) only letters,
    digits, spaces and C(_ . : / = + - @).
  - An empty list means the tags are fine.
options:
  _input:
    description: The tags.
    type: raw
    required: true
  label:
    description: How the messages name the variable.
    type: str
    required: true
  strict:
    description: Allow only the characters Elastic Load Balancing takes.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Check the extra tags before calling AWS
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __errors: "{{ alb_tags | immersionday.ha_web.tag_errors('alb_tags', strict=true) }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the tags are fine.
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import tag_errors


class FilterModule(object):
    def filters(self):
        return {"tag_errors": tag_errors}
