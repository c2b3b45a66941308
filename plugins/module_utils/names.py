# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stack names and tags, with no AWS import: filters load this in every Ansible worker."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# Every resource of a stack carries this tag; reruns and teardown find resources by it.
STACK_TAG = "ha_web:stack"
# ... and this one, naming which part of the stack it is (vpc, public-subnet-a, alb, ...).
COMPONENT_TAG = "ha_web:component"
# The stack whose resources keep the lab's names exactly.
DEFAULT_STACK = "lab"
# A stack's CloudWatch dashboard is "<stack_name>-ha-web", for the default stack too (lab-ha-web).
DASHBOARD_SUFFIX = "-ha-web"


def scoped_name(base, stack_name):
    """The lab's name for the default stack; '<stack_name>-<base>' for any other stack."""
    if stack_name == DEFAULT_STACK:
        return base
    return "%s-%s" % (stack_name, base)


def dashboard_name(stack_name):
    """The name of the stack's CloudWatch dashboard: the only dashboard a stack ever puts or deletes."""
    return stack_name + DASHBOARD_SUFFIX


# Load balancer and target group names are "<stack_name>-<lab name>" and at most 32 characters.
# Anchored with \Z: `$` also matches before a trailing newline ("lab\n" would pass).
STACK_NAME_PATTERN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,22}[A-Za-z0-9])?\Z")


def stack_name_errors(stack_name, label="stack_name"):
    """[] for a usable stack name, else one message naming the variable (label) and the rule."""
    if isinstance(stack_name, str) and STACK_NAME_PATTERN.match(stack_name):
        return []
    return ["%s %s must be 1 to 24 letters, digits and hyphens, starting and ending with a letter or digit"
            " (AWS load balancer and target group names are built from it)" % (label, json.dumps(str(stack_name)))]


UNTAGGED = "untagged"


def foreign_holders(checks, stack_name):
    """One line for each name held by someone else. checks: [what, name, variable, holder] with
    holder as stack_info's name_holders gives it (the holder's stack tag, 'untagged', None when no
    resource has the name) and variable the one that sets the name, or any detail to show in
    parentheses (None: nothing). A holder is the stack only when it is exactly stack_name."""
    lines = []
    for what, name, variable, holder in checks or []:
        if holder is None or holder == stack_name:
            continue
        owner = "has no tag %s" % STACK_TAG if holder == UNTAGGED else "is stack %s's (tag %s)" % (json.dumps(holder), STACK_TAG)
        lines.append("%s %s%s %s" % (what, json.dumps(name), " (%s)" % variable if variable else "", owner))
    return lines
