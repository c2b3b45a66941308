"""Interrupted deploys: SIGKILL the whole site.yml run (its process group and the sessions its
workers made) at a named point, then either rerun site.yml (it converges to exactly one of
everything) or run teardown.yml (nothing is left).

A point is detected in the test proxy's record: the n-th successful call of an action ("after"), or
the first poll of a wait's describe once that action was made ("during ... polling"). The proxy's
slow mode keeps the awaited resource in its transitional state, so that the wait is really waiting
when the kill comes. The rerun or teardown goes straight to the cloud (no proxy, instant states).
"""
import collections
import json

import pytest

import rel_env as R

Point = collections.namedtuple("Point", "name role action nth poll slow extra")
# action: "service:Action" whose nth successful call arms the point; poll: None (kill then), or a
# describe "service:Action": kill at its first poll (the proxy's record flags a read repeated within
# a minute) after the action; slow: the transitional state (awsproxy.SLOW_DURATIONS) held for the
# whole interrupted run; extra: -e of the interrupted run.
EC2, ELB, ASG = "ec2:", "elasticloadbalancing:", "autoscaling:"
# site.yml: network (no NAT wait), alb (no wait), web_ami, asg, then the NAT and load balancer waits.
POINTS = [
    # network
    Point("after AllocateAddress", "network", EC2 + "AllocateAddress", 1, None, None, {}),
    Point("after CreateVpc", "network", EC2 + "CreateVpc", 1, None, None, {}),
    Point("after the second CreateSubnet", "network", EC2 + "CreateSubnet", 2, None, None, {}),
    Point("after AttachInternetGateway", "network", EC2 + "AttachInternetGateway", 1, None, None, {}),
    Point("after CreateNatGateway", "network", EC2 + "CreateNatGateway", 1, None, None, {}),
    # site.yml creates the NAT gateway without waiting and waits for it at the end of the play.
    Point("during DescribeNatGateways polling for the NAT gateway", "network", EC2 + "CreateNatGateway", 1,
          EC2 + "DescribeNatGateways", "nat_gateway", {}),
    Point("after the first CreateRoute", "network", EC2 + "CreateRoute", 1, None, None, {}),
    Point("after the first CreateRouteTable", "network", EC2 + "CreateRouteTable", 1, None, None, {}),
    Point("after the third AssociateRouteTable", "network", EC2 + "AssociateRouteTable", 3, None, None, {}),
    # alb (load_balancer)
    Point("after CreateSecurityGroup of the load balancer", "alb", EC2 + "CreateSecurityGroup", 1, None, None, {}),
    Point("after CreateTargetGroup", "alb", ELB + "CreateTargetGroup", 1, None, None, {}),
    Point("after CreateLoadBalancer", "alb", ELB + "CreateLoadBalancer", 1, None, None, {}),
    Point("during DescribeLoadBalancers polling after CreateLoadBalancer", "alb", ELB + "CreateLoadBalancer", 1,
          ELB + "DescribeLoadBalancers", "load_balancer", {}),
    Point("after CreateListener", "alb", ELB + "CreateListener", 1, None, None, {}),
    # web_ami (ami_wait waits for the image)
    Point("after CreateSecurityGroup of the builder", "web_ami", EC2 + "CreateSecurityGroup", 2, None, None, {}),
    Point("after RunInstances of the builder", "web_ami", EC2 + "RunInstances", 1, None, None, {}),
    Point("during DescribeInstances polling for the builder to run", "web_ami", EC2 + "RunInstances", 1,
          EC2 + "DescribeInstances", "instance", {}),
    Point("after CreateImage", "web_ami", EC2 + "CreateImage", 1, None, None, {}),
    Point("during DescribeImages polling while the new AMI is not yet visible", "web_ami", EC2 + "CreateImage", 1,
          EC2 + "DescribeImages", "image_not_found", {}),
    Point("during DescribeImages polling while the AMI is pending", "web_ami", EC2 + "CreateImage", 1,
          EC2 + "DescribeImages", "image", {}),
    Point("after TerminateInstances of the builder", "web_ami", EC2 + "TerminateInstances", 1, None, None, {}),
    Point("during DescribeInstances polling while the builder shuts down", "web_ami", EC2 + "TerminateInstances", 1,
          EC2 + "DescribeInstances", "instance_shutting_down", {}),
    # asg (capacity_wait waits for the group)
    Point("after CreateSecurityGroup of the instances", "asg", EC2 + "CreateSecurityGroup", 3, None, None, {}),
    Point("after CreateLaunchTemplate", "asg", EC2 + "CreateLaunchTemplate", 1, None, None, {}),
    Point("after CreateAutoScalingGroup", "asg", ASG + "CreateAutoScalingGroup", 1, None, None, {}),
    Point("after PutScalingPolicy", "asg", ASG + "PutScalingPolicy", 1, None, None, {}),
    Point("during DescribeTargetHealth polling for the group's instances", "asg", ASG + "CreateAutoScalingGroup", 1,
          ELB + "DescribeTargetHealth", "target_health", {}),
]
CI_POINTS = {
    ("during DescribeNatGateways polling for the NAT gateway", "rerun"),
    ("during DescribeImages polling while the AMI is pending", "rerun"),
    ("after CreateLoadBalancer", "rerun"),
    ("after CreateAutoScalingGroup", "rerun"),
    ("after RunInstances of the builder", "teardown"),
    ("during DescribeLoadBalancers polling after CreateLoadBalancer", "teardown"),
}
CASES = [(p, then) for p in POINTS for then in ("rerun", "teardown")]
if not R.FULL:
    CASES = [(p, then) for p, then in CASES if (p.name, then) in CI_POINTS]
# Short poll intervals in the interrupted run, so that a wait's second describe comes quickly.
FAST_POLLS = {"web_ami_poll_interval": 1, "alb_poll_interval": 1, "asg_poll_interval": 1}


def matcher(point):
    def match(record):
        ok = [i for i, r in enumerate(record) if "%s:%s" % (r["service"], r["action"]) == point.action and r["status"] < 400]
        if len(ok) < point.nth:
            return None
        start = ok[point.nth - 1]
        if point.poll is None:
            return record[start]
        polls = [r for r in record[start + 1:] if "%s:%s" % (r["service"], r["action"]) == point.poll and r["poll"]]
        return polls[0] if polls else None
    return match


def test_the_points_cover_every_role_and_the_waits():
    roles = collections.Counter(p.role for p in POINTS)
    assert len(POINTS) >= 20 and min(roles.values()) >= 3 and set(roles) == {"network", "web_ami", "alb", "asg"}, roles
    assert sum(1 for p in POINTS if p.poll) >= 5


@pytest.mark.parametrize("point,then", CASES, ids=["%s, then %s" % (p.name, t) for p, t in CASES])
def test_interrupted_deploy(cloud, point, then, tmp_path):
    if R.left_over(cloud.baseline, R.inventory(cloud.url)):
        R.reset(cloud)  # a previous case failed and left something (reset also takes a new baseline)
    durations = dict((kind, 0.0) for kind in R.SLOW_DURATIONS)
    if point.slow:
        durations[point.slow] = 3600.0  # the awaited state lasts: the kill comes first
    with R.AwsProxy(cloud.url, slow=1.0, slow_durations=durations) as proxy:
        extra = json.dumps(dict(FAST_POLLS, **point.extra))
        process = R.start(R.proxied(cloud, proxy), "site.yml", "-e", extra, log_path=str(tmp_path / "interrupted.log"))
        hit = R.wait_for(process, proxy, matcher(point), timeout=300)
        alive = R.kill_group(process)
        calls = len(proxy.record)
    assert hit, "point %r never reached:\n%s" % (point.name, R.tail(process.log_path))
    assert process.returncode == -9, "the playbook ended before the kill (rc %s)" % process.returncode
    assert not alive, "processes of the killed session still run: %s" % alive
    print("killed %s at %r after %d calls" % (point.role, point.name, calls))

    if then == "rerun":
        run = R.run(cloud, "site.yml")
        assert run.rc == 0, run.output[-4000:]
        look = R.check_lab(cloud, "present")
        assert look.returncode == 0, look.stdout
        assert R.counts(R.added(cloud.baseline, R.inventory(cloud.url))) == R.ONE_STACK
        if R.FULL:
            again = R.run(cloud, "site.yml")
            assert again.rc == 0 and again.changed() == 0, again.output[-4000:]
    run = R.run(cloud, "teardown.yml")
    assert run.rc == 0, run.output[-4000:]
    look = R.check_lab(cloud, "absent")
    assert look.returncode == 0, look.stdout
    assert R.left_over(cloud.baseline, R.inventory(cloud.url)) == {}
