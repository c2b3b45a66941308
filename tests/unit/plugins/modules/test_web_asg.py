"""The web_asg module end to end over stubbed clients: validation before any AWS call, the no-op
rerun, the new-AMI path with an unsupported instance refresh (a warning, not a failure), check
mode with diff, and teardown."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import boto3
import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.plugins.modules import web_asg
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils import test_asg as data

ARGS = dict(
    stack_name="lab", vpc_id=data.VPC, subnet_ids=data.SUBNETS, image_id=data.AMI, load_balancer_security_group_id=data.ALB_SG,
    target_group_arn=data.TG, region=data.REGION, access_key="k", secret_key="s",
)


class Exit(Exception):
    def __init__(self, result, failed=False):
        super(Exit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@pytest.fixture
def module_io(monkeypatch):
    warnings = []

    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        raise Exit(kwargs, failed=True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    monkeypatch.setattr(time, "sleep", lambda s: None)
    return warnings


@pytest.fixture
def stubs(monkeypatch):
    ec2 = boto3.client("ec2", region_name=data.REGION, aws_access_key_id="k", aws_secret_access_key="s", endpoint_url="https://ec2.invalid")
    auto = boto3.client("autoscaling", region_name=data.REGION, aws_access_key_id="k", aws_secret_access_key="s", endpoint_url="https://as.invalid")
    clients = {"ec2": RetryingBotoClientWrapper(ec2, retry_decorator()), "autoscaling": RetryingBotoClientWrapper(auto, retry_decorator())}
    monkeypatch.setattr(web_asg, "aws_client", lambda module, service: clients[service])
    with Stubber(ec2) as ec2_stub, Stubber(auto) as asg_stub:
        yield ec2_stub, asg_stub
        ec2_stub.assert_no_pending_responses()
        asg_stub.assert_no_pending_responses()


def run(args):
    with patch_module_args(args):
        with pytest.raises(Exit) as done:
            web_asg.main()
    return done.value


def test_validation_fails_before_any_aws_call(module_io, monkeypatch):
    monkeypatch.setattr(web_asg, "aws_client", lambda module, service: pytest.fail("no client expected"))
    out = run(dict(ARGS, min_size=2, max_size=4, desired_capacity=5, cpu_target_value=0, launch_template_name="W"))
    assert out.failed
    assert out.result["errors"] == [
        "desired_capacity (5) must be between min_size (2) and max_size (4)",
        "cpu_target_value must be > 0 and <= 100 (got 0.0)",
        "launch_template_name must be 3 to 128 characters of letters, digits and ( ) . - / _ (got 'W')",
    ]
    assert out.result["msg"] == "; ".join(out.result["errors"])


def test_present_requires_its_inputs(module_io):
    args = dict(ARGS)
    del args["image_id"]
    out = run(args)
    assert out.failed
    assert out.result["msg"] == "state is present but all of the following are missing: image_id"


def test_noop_rerun(module_io, stubs):
    ec2_stub, asg_stub = stubs
    data.expect_existing(ec2_stub, asg_stub, data.group(desired=4))
    data.expect_policy(asg_stub)
    out = run(dict(ARGS))
    assert not out.failed
    assert out.result["changed"] is False
    assert out.result["changes"] == []
    assert out.result["asg"]["desired_capacity"] == 4
    assert out.result["asg"]["launch_template_version"] == "1"
    assert "diff" not in out.result
    assert module_io == []


def test_new_ami_with_refresh_unsupported_warns(module_io, stubs):
    ec2_stub, asg_stub = stubs
    data.expect_new_version_until_refresh(ec2_stub, asg_stub)
    asg_stub.add_client_error("describe_instance_refreshes", "InvalidAction", "not valid", 400)
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [data.group(version="2")]}, {"AutoScalingGroupNames": ["Web-ASG"]})
    out = run(dict(ARGS, image_id=data.AMI2))
    assert not out.failed
    assert out.result["changed"] is True
    assert out.result["asg"]["instance_refresh"] == {"status": "unsupported"}
    assert module_io == ["the endpoint does not support instance refresh (DescribeInstanceRefreshes: InvalidAction);"
                         " running instances keep their launch template version until they are replaced"]


def test_check_mode_with_diff_mutates_nothing(module_io, stubs):
    ec2_stub, asg_stub = stubs
    data.expect_existing(ec2_stub, asg_stub, data.group())
    data.expect_image(ec2_stub, data.AMI2)
    data.expect_policy(asg_stub)
    asg_stub.add_response("describe_instance_refreshes", {"InstanceRefreshes": []}, {"AutoScalingGroupName": "Web-ASG", "MaxRecords": 10})
    out = run(dict(ARGS, image_id=data.AMI2, _ansible_check_mode=True, _ansible_diff=True))
    assert out.result["changed"] is True
    assert out.result["changes"] == [
        "create launch template Web version 2 (ImageId changed)",
        "update group Web-ASG (LaunchTemplate)",
        "start instance refresh (min healthy 50%)",
    ]
    assert out.result["asg"]["instance_refresh"] == {"status": "would_start"}
    diff = out.result["diff"]
    assert diff["before"]["group"]["launch_template_version"] == "1"
    assert diff["after"]["group"]["launch_template_version"] == "2"
    assert diff["after"]["launch_template"]["data"]["ImageId"] == data.AMI2


def test_absent(module_io, stubs):
    ec2_stub, asg_stub = stubs
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": [data.group()]}, {"Filters": data.ASG_FILTERS})
    asg_stub.add_response("delete_auto_scaling_group", {}, {"AutoScalingGroupName": "Web-ASG", "ForceDelete": True})
    asg_stub.add_response("describe_auto_scaling_groups", {"AutoScalingGroups": []}, {"AutoScalingGroupNames": ["Web-ASG"]})
    ec2_stub.add_response("describe_instances", {"Reservations": []}, {"Filters": data.INSTANCE_FILTERS})
    ec2_stub.add_response("describe_launch_templates", {"LaunchTemplates": []}, {"Filters": data.LT_FILTERS})
    ec2_stub.add_response("describe_security_groups", {"SecurityGroups": []}, {"Filters": data.SG_FILTERS})
    out = run(dict(stack_name="lab", state="absent", region=data.REGION, access_key="k", secret_key="s"))
    assert out.result["changed"] is True
    assert out.result["asg"]["deleted"] == {"group": "Web-ASG"}


def test_aws_error_is_reported_with_what_was_done(module_io, stubs):
    ec2_stub, asg_stub = stubs
    asg_stub.add_client_error("describe_auto_scaling_groups", "AccessDenied", "not authorized", 403)
    out = run(dict(ARGS))
    assert out.failed
    assert out.result["msg"].startswith("web tier of stack lab: no change made")
