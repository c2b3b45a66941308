"""Each sampled action of docs/iam-policy.json is needed: without it, the run fails with AccessDenied
at the task that uses it (and nowhere else); a call the code tolerates failing says so instead.

A stack of its own (`neg`) on the session's IAM-enforcing cloud, built role by role with --tags so
that each case runs only up to the role that needs its action:

    network  without ec2:CreateNatGateway                       -> fails; then with the policy
    web_ami  without ssm:GetParameter                            -> fails at the look-up (stack_info reads the base AMI)
    web_ami  without ec2:DescribeInstanceAttribute               -> fails at the builder's launch, after RunInstances:
                                                                    a helper call of amazon.aws.ec2_instance
    web_ami  without ec2:CreateImage                             -> fails (builder running); then with the policy
    alb      without elasticloadbalancing:CreateTargetGroup      -> fails; then with the policy
    asg      without autoscaling:PutScalingPolicy                -> fails (group created)
    load_test.yml without autoscaling:DescribeScalingActivities  -> succeeds and warns

The tests run in order; each needs the previous one.
"""
import re

import pytest

from iam_env import CaptureProxy, load_policy, policy_without, run_playbook

STACK = "neg"
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


@pytest.fixture(scope="module")
def neg(iam_cloud, tmp_path_factory):
    state = {"cloud": iam_cloud, "outputs": str(tmp_path_factory.mktemp("neg"))}
    with CaptureProxy(iam_cloud.url) as proxy:
        state["proxy"] = proxy
        yield state
    iam_cloud.set_policy(load_policy())


def play(neg, playbook, without=None, *args):
    """Run with the policy, or with the policy minus one action; returns (run, denied actions).
    Tracebacks of failed modules are shown (ANSIBLE_DISPLAY_TRACEBACK=error): some amazon.aws
    modules name the AWS error only there."""
    neg["cloud"].set_policy(policy_without(load_policy(), without) if without else load_policy())
    since = len(neg["proxy"].record)
    run = run_playbook(playbook, neg["cloud"].deployer_env(endpoint=neg["proxy"].url, ANSIBLE_DISPLAY_TRACEBACK="error"),
                       "-e", "stack_name=" + STACK, "-e", "ha_web_outputs_dir=" + neg["outputs"], *args)
    denied = sorted(set("%s:%s" % (r["service"], r["action"]) for r in neg["proxy"].record[since:] if r.get("error_code") in DENIED))
    return run, denied


def failed_task(output):
    """The name of the task whose failure stopped the run."""
    # A task over a loop fails item by item ("failed: [host] (item=...)"), then the block's `always` releases the lock.
    first_failure = re.search(r"^(fatal|failed): \[", output, re.M)
    tasks = re.findall(r"^TASK \[(.+?)\] \*+$", output[:first_failure.start()] if first_failure else output, re.M)
    return tasks[-1] if tasks else None


def assert_denied_at(run, denied, action, task, says=None):
    """The run failed at `task`, `action` was the only call denied, and the error says so: in the
    message, or (`says`: the message of a module that does not pass AWS's error on) in the traceback."""
    assert run.rc != 0, run.output[-3000:]
    assert denied == [action], run.output[-3000:]
    assert failed_task(run.output) == task, run.output[-3000:]
    assert "AccessDenied" in run.output, run.output[-3000:]
    assert "not authorized to perform: %s" % action in run.output, run.output[-3000:]
    if says is not None:
        message = re.search(r"^fatal: \[lab\]: FAILED! =>.*?^\s+msg: (.*?)$", run.output, re.M | re.S)
        assert message and says in message.group(1) and "AccessDenied" not in message.group(1), run.output[-3000:]


def assert_ok(run, denied):
    assert run.rc == 0, run.output[-3000:]
    assert denied == []


NETWORK_TASK = "immersionday.ha_web.network : Create the NAT gateways, each with its Elastic IP in its public subnet"
LOOKUP_TASK = "immersionday.ha_web.web_ami : Read the stack's images, what an interrupted bake left behind, and the base AMI"
BUILDER_TASK = "immersionday.ha_web.web_ami : Launch the builder instance (Web server for custom AMI), without waiting"
IMAGE_TASK = "immersionday.ha_web.web_ami : Create the image from the builder, without waiting, named neg-Web Server v1"
TARGET_GROUP_TASK = "immersionday.ha_web.alb : Target group, HTTP:80, instance targets, in the VPC, neg-Web-TG"
POLICY_TASK = "immersionday.ha_web.asg : Put the target tracking scaling policy on the group's average CPU"


def test_network_needs_create_nat_gateway(neg):
    run, denied = play(neg, "site.yml", "ec2:CreateNatGateway", "--tags", "network")
    assert_denied_at(run, denied, "ec2:CreateNatGateway", NETWORK_TASK)
    run, denied = play(neg, "site.yml", None, "--tags", "network")
    assert_ok(run, denied)


def test_web_ami_needs_ssm_get_parameter(neg):
    run, denied = play(neg, "site.yml", "ssm:GetParameter", "--tags", "web_ami")
    assert_denied_at(run, denied, "ssm:GetParameter", LOOKUP_TASK)


def test_web_ami_needs_what_ec2_instance_checks_after_launching(neg):
    """amazon.aws.ec2_instance reads the new instance's attributes right after RunInstances (to
    set what differs): a call the collection's own modules did not make. ec2_instance 10.1.2 does not
    pass AWS's error on here: its message names the attribute, not AccessDenied (docs/security.md)."""
    run, denied = play(neg, "site.yml", "ec2:DescribeInstanceAttribute", "--tags", "web_ami")
    assert_denied_at(run, denied, "ec2:DescribeInstanceAttribute", BUILDER_TASK,
                     says="Could not describe attribute instanceType for instance i-")


def test_web_ami_needs_create_image(neg):
    run, denied = play(neg, "site.yml", "ec2:CreateImage", "--tags", "web_ami")
    # ec2_ami 10.1.2 does not pass AWS's error on either: its message is "Failed to create image"
    assert_denied_at(run, denied, "ec2:CreateImage", IMAGE_TASK, says="Error registering/creating image: Failed to create image")
    run, denied = play(neg, "site.yml", None, "--tags", "web_ami")
    assert_ok(run, denied)


def test_alb_needs_create_target_group(neg):
    run, denied = play(neg, "site.yml", "elasticloadbalancing:CreateTargetGroup", "--tags", "alb")
    assert_denied_at(run, denied, "elasticloadbalancing:CreateTargetGroup", TARGET_GROUP_TASK)
    run, denied = play(neg, "site.yml", None, "--tags", "alb")
    assert_ok(run, denied)


def test_asg_needs_put_scaling_policy(neg):
    run, denied = play(neg, "site.yml", "autoscaling:PutScalingPolicy", "--tags", "asg")
    assert_denied_at(run, denied, "autoscaling:PutScalingPolicy", POLICY_TASK)


def test_load_test_without_scaling_activities_says_so(neg):
    """capacity_wait tolerates a refused DescribeScalingActivities: the run passes, and says why
    the activities are missing (module warning and the playbook's own line)."""
    run, denied = play(neg, "load_test.yml", "autoscaling:DescribeScalingActivities")
    assert run.rc == 0, run.output[-3000:]
    assert denied == ["autoscaling:DescribeScalingActivities"]
    assert "[WARNING]: scaling activities not available: DescribeScalingActivities refused (AccessDenied)" in run.output
    assert "scaling activities: not available (DescribeScalingActivities refused (AccessDenied)" in run.output
    assert "scaling activities: none reported" not in run.output
