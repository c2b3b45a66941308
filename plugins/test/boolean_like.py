# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: boolean_like
short_description: Whether a value reads as a boolean
version_added: 0.2.0
description:
  - True for a bool, 0, 1, or the text that C(ansible.builtin.bool) reads as one (C(yes), C(no), C(true), C(false), C(on), C(off), C(1), C(0), C(y), C(n), C(t), C(f), any case); false for C("maybe").
  - The roles check every numeric or boolean variable with it before their first AWS call, because
    C(| int), C(| float) and C(| bool) turn text they cannot read into 0 or false.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a flag that is neither true nor false
  ansible.builtin.assert:
    that: asg_wait_healthy is immersionday.ha_web.boolean_like
"""

RETURN = r"""
_value:
  description: Whether the value is one.
  type: bool
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import is_boolean_like


class TestModule(object):
    def tests(self):
        return {"boolean_like": is_boolean_like}
