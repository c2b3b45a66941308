# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: region_errors
short_description: Whether a region is one where botocore knows EC2
version_added: 0.2.0
description:
  - Checks a region name against the regions botocore's own endpoint data lists for EC2, in every
    partition (what boto3's C(get_available_regions) answers), offline - no AWS call. An unknown region
    would otherwise fail at the first AWS call with an unclear error.
  - Returns an empty list for a known region, else one message naming the variable.
options:
  _input:
    description: The region.
    type: raw
    required: true
  label:
    description: How the message names the variable.
    type: str
    default: aws_region
"""

EXAMPLES = r"""
- name: Check the region before calling AWS
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __errors: "{{ aws_region | immersionday.ha_web.region_errors }}"
"""

RETURN = r"""
_value:
  description: One message when the region is unknown; empty when it is known.
  type: list
  elements: str
"""

from ansible_collections.immersionday.ha_web.plugins.module_utils.input_types import region_errors


class FilterModule(object):
    def filters(self):
        return {"region_errors": region_errors}
