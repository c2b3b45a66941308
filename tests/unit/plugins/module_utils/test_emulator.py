"""module_utils/emulator.py with botocore Stubber: only the attributes that differ or that the
answer lacks (moto answers only those set so far) are set; nothing in check mode."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.immersionday.ha_web.plugins.module_utils.emulator import attribute_changes
from ansible_collections.immersionday.ha_web.plugins.module_utils.emulator import set_load_balancer_attributes

ARN = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/Web-ALB/0123456789abcdef"
DROP = "routing.http.drop_invalid_header_fields.enabled"
MOTO_DEFAULTS = [{"Key": "access_logs.s3.bucket", "Value": ""}, {"Key": "deletion_protection.enabled", "Value": "false"}]


def test_attribute_changes():
    assert attribute_changes({DROP: "false", "x": "1"}, {DROP: "true"}) == {DROP: "true"}
    assert attribute_changes({}, {DROP: "true"}) == {DROP: "true"}
    assert attribute_changes({DROP: "true"}, {DROP: "true"}) == {}


def test_sets_an_attribute_the_answer_lacks(stubbed_client):
    elbv2, stub = stubbed_client("elbv2")
    stub.add_response("describe_load_balancer_attributes", {"Attributes": MOTO_DEFAULTS}, {"LoadBalancerArn": ARN})
    stub.add_response("modify_load_balancer_attributes", {"Attributes": MOTO_DEFAULTS + [{"Key": DROP, "Value": "true"}]},
                      {"LoadBalancerArn": ARN, "Attributes": [{"Key": DROP, "Value": "true"}]})
    assert set_load_balancer_attributes(elbv2, ARN, {DROP: "true"}, check_mode=False) == {DROP: "true"}


def test_nothing_to_set_and_check_mode(stubbed_client):
    elbv2, stub = stubbed_client("elbv2")
    stub.add_response("describe_load_balancer_attributes", {"Attributes": [{"Key": DROP, "Value": "true"}]}, {"LoadBalancerArn": ARN})
    stub.add_response("describe_load_balancer_attributes", {"Attributes": MOTO_DEFAULTS}, {"LoadBalancerArn": ARN})
    assert set_load_balancer_attributes(elbv2, ARN, {DROP: "true"}, check_mode=False) == {}
    assert set_load_balancer_attributes(elbv2, ARN, {DROP: "true"}, check_mode=True) == {DROP: "true"}
