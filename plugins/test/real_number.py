# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: real_number
short_description: Whether a value is a finite number
version_added: 0.2.0
description:
  - True for a finite int or float (not a bool), or text such as C("2"), C("2.5") or C("1e3"); false for C("abc"), C("nan"), C(true).
  - The roles check every numeric or boolean variable with it before their first AWS call, because
    C(| int), C(| float) and C(| bool) turn text they cannot read into 0 or false.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a CPU target that is not a number
  ansible.builtin.assert:
    that: asg_cpu_target_value is immersionday.ha_web.real_number
"""

RETURN = r"""
_value:
  description: Whether the value is one.
  type: bool
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import is_real_number


class TestModule(object):
    def tests(self):
        return {"real_number": is_real_number}
