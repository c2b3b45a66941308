# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: whole_number
short_description: Whether a value is a whole number
version_added: 0.2.0
description:
  - True for an int (not a bool), an integral float, or text of digits with an optional sign
    (C(-e asg_min_size=2) passes the text C("2")); false for C("abc"), C("2.5"), C(" 2"), C(true).
  - C(| int) turns text it cannot read into 0 - the roles' rules between variables (min <= max) read
    a variable with it only once this test passed.
options:
  _input:
    description: The value to test.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse asg_min_size=abc instead of reading it as 0
  ansible.builtin.assert:
    that: asg_min_size is immersionday.ha_web.whole_number and asg_min_size | int <= asg_max_size | int
"""

RETURN = r"""
_value:
  description: Whether the value is one.
  type: bool
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import is_whole_number


class TestModule(object):
    def tests(self):
        return {"whole_number": is_whole_number}
