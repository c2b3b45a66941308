# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the embedded cloud (moto) needs that AWS does not.

Load balancer attributes: moto answers DescribeLoadBalancerAttributes with only the attributes set so far (plus four
defaults), while AWS answers every attribute; amazon.aws.elb_application_lb 10.1.2 reads the
answer by key and fails (KeyError) on an attribute it is asked to manage that the answer lacks,
so on moto it cannot set e.g. routing.http.drop_invalid_header_fields.enabled."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def attribute_changes(current, wanted):
    """The wanted attributes (AWS keys -> string values) whose reported value differs or is missing."""
    return dict((key, value) for key, value in wanted.items() if current.get(key) != value)


def set_load_balancer_attributes(elbv2, arn, wanted, check_mode):
    """Set the wanted attributes that differ; returns them (nothing is set in check mode)."""
    current = dict(
        (a["Key"], a["Value"]) for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn, aws_retry=True)["Attributes"]
    )
    changes = attribute_changes(current, wanted)
    if changes and not check_mode:
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in sorted(changes.items())], aws_retry=True
        )
    return changes
