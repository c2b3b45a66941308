# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the embedded cloud (moto) needs that AWS does not.

Load balancer attributes: moto answers DescribeLoadBalancerAttributes with only the attributes set so far (plus four
defaults), while AWS answers every attribute; amazon.aws.elb_application_lb 10.1.2 reads the
answer by key and fails (KeyError) on an attribute it is asked to manage that the answer lacks,
so on moto it cannot set e.g. routing.http.drop_invalid_header_fields.enabled.

Launch templates: moto has no DeleteLaunchTemplateVersions, which amazon.aws.ec2_launch_template
calls before deleting a template of several versions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code


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


def delete_launch_template(ec2, template_id, check_mode):
    """Delete a launch template with all its versions in one call (DeleteLaunchTemplate).

    amazon.aws.ec2_launch_template first deletes the non-default versions with
    DeleteLaunchTemplateVersions, which moto does not implement (HTTP 500). Returns whether the
    template existed (a template already gone is not an error: teardown is idempotent)."""
    try:
        ec2.describe_launch_templates(LaunchTemplateIds=[template_id], aws_retry=True)
    except is_boto3_error_code(["InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.Malformed"]):
        return False
    if not check_mode:
        ec2.delete_launch_template(LaunchTemplateId=template_id, aws_retry=True)
    return True
