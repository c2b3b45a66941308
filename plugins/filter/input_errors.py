# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: input_errors
short_description: What is wrong with a role's variables, by a table of checks
version_added: 0.1.0
description:
  - Checks each variable of a role against its entry in a table, without calling AWS, and returns one
    message per variable that breaks it, naming the variable, its value and the rule
    (for example C(asg_min_size "abc" must be a whole number >= 0)).
  - Numbers and flags are tested before anything reads them - C(| int), C(| float) and C(| bool) turn
    text they cannot read into 0 or false. Text that reads as a number or a flag (C(-e asg_min_size=2)
    passes the text C("2")) is accepted.
  - "Entries, C(variable: [kind, arguments...]):
    C([whole, min, max, note]) a whole number with C(min <= value <= max) (null for no bound);
    C([number, min, max, note]) a finite number with C(min < value <= max);
    C([flag]) true or false (as C(ansible.builtin.bool) reads them);
    C([text, pattern, description, numbers]) text matching the pattern (anchor it with C(\\Z), not C($));
    null reads as empty text, and with C(numbers) a whole number as its text;
    C([choice, options]); C([choices, options, what]) a list of options;
    C([tags, strict]) extra tags (M(immersionday.ha_web.tag_errors#filter));
    C([cidrs]) a list of CIDR blocks (M(immersionday.ha_web.cidr_errors#filter));
    C([region, label]) a region botocore knows for EC2 (M(immersionday.ha_web.region_errors#filter))."
  - An empty list means every variable passes.
options:
  _input:
    description: The table, C(variable -> [kind, arguments...]), in the order to report.
    type: dict
    required: true
  values:
    description: The variables' values, in the table's order (C(query('ansible.builtin.vars', *table))).
    type: list
    required: true
"""

EXAMPLES = r"""
- name: Check the role's variables before calling AWS
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __checks:
      asg_min_size: [whole, 0]
      asg_cpu_target_value: [number, 0, 100, percent CPU]
      asg_wait_healthy: [flag]
      asg_instance_type: [text, '^[a-z0-9-]+\.[a-z0-9-]+\Z', an EC2 instance type such as t2.micro]
    __errors: "{{ __checks | immersionday.ha_web.input_errors(query('ansible.builtin.vars', *__checks)) }}"
"""

RETURN = r"""
_value:
  description: One message per variable that breaks its check; empty when all pass.
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import input_errors


class FilterModule(object):
    def filters(self):
        return {"input_errors": input_errors}
