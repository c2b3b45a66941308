"""The whole lab on a fresh embedded cloud: deploy, look, rerun, scale-out rerun, teardown.

The tests of this module run in order against one cloud; each step needs the previous one.
"""
import sys

import boto3
import pytest

from lab_env import ROOT, check_lab, playbook

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tests.proxy.awsproxy import AwsProxy  # noqa: E402

REGION = "ap-northeast-2"
# The fresh deploy goes through the slow cloud: the test proxy holds each new resource in its
# transitional state for AWS's time / SLOW (the AMI 300 s / 20 = 15 s), the roles' polls scaled alike.
SLOW = 20
SLOW_POLLS = ("-e", "web_ami_poll_interval=0.5", "-e", "alb_poll_interval=0.25", "-e", "asg_poll_interval=0.25")


@pytest.fixture(scope="module")
def lab(cloud):
    return {"cloud": cloud}


def test_check_mode_on_a_fresh_stack_plans_every_part_and_creates_nothing(lab):
    # Its network is only planned (null ids): the load balancer, image and group plan on top of it.
    run = playbook(lab["cloud"], "site.yml", "--check", "--diff", "-e", "stack_name=plan-only")
    assert run.rc == 0, run.output[-4000:]
    for planned in ("Create the VPC plan-only-VPC-Lab 10.0.0.0/16", "would create route table plan-only-Private route",
                    "create load balancer plan-only-Web-ALB", "would bake plan-only-Web Server v1",
                    "would create Auto Scaling group plan-only-Web-ASG"):
        assert planned in run.output, planned
    # network: the Elastic IP, the VPC and the plan of what needs their ids; alb, web_ami: one each;
    # asg: its security group, launch template, group and policy; the outputs file
    assert run.changed() == 3 + 1 + 1 + 4 + 1, run.output[-4000:]
    ec2, elbv2, autoscaling = (boto3.client(service, region_name=REGION, endpoint_url=lab["cloud"].url,
                                            aws_access_key_id="testing", aws_secret_access_key="testing")
                               for service in ("ec2", "elbv2", "autoscaling"))
    tagged = [{"Name": "tag:ha_web:stack", "Values": ["plan-only"]}]
    assert ec2.describe_vpcs(Filters=tagged)["Vpcs"] == []
    assert ec2.describe_addresses(Filters=tagged)["Addresses"] == []
    assert not [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"].startswith("plan-only")]
    assert not [g for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
                if g["AutoScalingGroupName"].startswith("plan-only")]


def test_fresh_deploy_builds_the_lab(lab):
    with AwsProxy(lab["cloud"].url, slow=SLOW) as proxy:
        run = playbook(lab["cloud"], "site.yml", *SLOW_POLLS, AWS_ENDPOINT_URL=proxy.url)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() > 0
    # Each long wait says what it waits for and how long it takes on AWS; the image wait prints a
    # line of progress after each short run of ami_wait.
    for wait in ("web_ami : Wait until the image is available (an AMI takes about 5 min on AWS)",
                 "asg : Wait until the desired instances are InService and healthy in the target group (3-5 min on AWS)"):
        assert "TASK [immersionday.ha_web.%s]" % wait in run.output, wait
    progress = [line for line in run.output.splitlines()
                if line.startswith("FAILED - RETRYING: [lab]: Wait until the image is available (an AMI takes about 5 min on AWS)")]
    assert len(progress) >= 3, run.output[-6000:]
    assert "[DEPRECATION WARNING]" not in run.output
    lab["fresh"] = run
    look = check_lab(lab["cloud"], "present")
    assert look.returncode == 0, look.stdout


def test_rerun_changes_nothing(lab):
    run = playbook(lab["cloud"], "site.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]


def test_check_mode_rerun_reports_no_change(lab):
    run = playbook(lab["cloud"], "site.yml", "--check", "--diff")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]


def test_rerun_after_scale_out_keeps_the_capacity(lab):
    autoscaling = boto3.client("autoscaling", region_name=REGION, endpoint_url=lab["cloud"].url,
                               aws_access_key_id="testing", aws_secret_access_key="testing")
    autoscaling.set_desired_capacity(AutoScalingGroupName="Web-ASG", DesiredCapacity=4)
    run = playbook(lab["cloud"], "site.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["Web-ASG"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 4


def test_each_role_runs_alone_by_tag(lab):
    for tag in ("network", "web_ami", "alb", "asg"):
        run = playbook(lab["cloud"], "site.yml", "--tags", tag)
        assert run.rc == 0, run.output[-4000:]
        assert run.changed() == 0, (tag, run.output[-4000:])


def test_teardown_leaves_nothing(lab):
    run = playbook(lab["cloud"], "teardown.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() > 0
    look = check_lab(lab["cloud"], "absent")
    assert look.returncode == 0, look.stdout


def test_second_teardown_is_a_no_op(lab):
    run = playbook(lab["cloud"], "teardown.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]
