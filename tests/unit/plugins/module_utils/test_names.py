# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import scoped_name, stack_name_errors


@pytest.mark.parametrize("name", ["lab", "s1", "a", "Lab-2", "a" * 24])
def test_usable_stack_names_have_no_error(name):
    assert stack_name_errors(name) == []


@pytest.mark.parametrize("name", ["my_lab!", "-lab", "lab-", "", "a" * 25, 123, None])
def test_a_bad_stack_name_gets_one_message_naming_it_and_the_rule(name):
    errors = stack_name_errors(name)
    assert len(errors) == 1
    assert errors[0].startswith('stack_name "%s" must be 1 to 24 letters, digits and hyphens' % name)


@pytest.mark.parametrize("name", ["lab\n", "lab\r\n", "\nlab", "la b", "lab\t", "l\u00e4b", ["lab"]])
def test_a_stack_name_with_a_trailing_newline_or_any_other_character_is_refused(name):
    errors = stack_name_errors(name)
    assert len(errors) == 1 and errors[0].startswith("stack_name ")


def test_the_message_names_the_variable_it_is_given():
    assert stack_name_errors("x_y", "network_stack_name (stack_name)")[0].startswith('network_stack_name (stack_name) "x_y" must')


def test_the_longest_stack_name_leaves_a_load_balancer_name_within_32_characters():
    assert len(scoped_name("Web-ALB", "a" * 24)) <= 32


def test_foreign_holders_names_what_someone_else_holds():
    from ansible_collections.immersionday.ha_web.plugins.module_utils.names import foreign_holders
    checks = [["load balancer", "Web-ALB", "alb_name", "untagged"], ["target group", "Web-TG", "alb_target_group_name", None],
              ["Auto Scaling group", "Web-ASG", None, "blue"], ["launch template", "Web", "asg_launch_template_name", "lab"],
              ["security group", "Web-ALB-SG", None, "LAB"], ["security group", "x", None, "la*"]]
    assert foreign_holders(checks, "lab") == [
        'load balancer "Web-ALB" (alb_name) has no tag ha_web:stack',
        'Auto Scaling group "Web-ASG" is stack "blue"\'s (tag ha_web:stack)',
        'security group "Web-ALB-SG" is stack "LAB"\'s (tag ha_web:stack)',
        'security group "x" is stack "la*"\'s (tag ha_web:stack)',
    ]
    assert foreign_holders([], "lab") == [] and foreign_holders(None, "lab") == []
