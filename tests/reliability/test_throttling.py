"""Throttling and transient faults: with a seeded 25 % of every call (all services, lookups and
waits included) answered Throttling / RequestLimitExceeded / ThrottlingException / HTTP 503 by the
test proxy, and the slow cloud holding each resource in its transitional state, site.yml and then
teardown.yml succeed, with the same end state on every seed.
"""
import json

import pytest

import rel_env as R

SHARE = 0.25
SLOW = 30  # AWS-like waits divided by 30: NAT gateway 3.3 s, AMI 10 s, load balancer 5.3 s...
# (seed, slow scale or None). Seed 3 faults the one SSM lookup of a fresh bake (its first attempt).
RUNS = [(3, SLOW), (1, SLOW), (2, SLOW), (1, None)] if R.FULL else [(3, SLOW)]
SSM_FAULTED = {3}
FAST_POLLS = json.dumps({"web_ami_poll_interval": 1, "alb_poll_interval": 1, "asg_poll_interval": 1})
CREATES = ("Create", "Allocate", "RunInstances", "Put", "Attach", "Associate", "Authorize", "Register")
WAITS = {"DescribeNatGateways", "DescribeImages", "DescribeInstances", "DescribeLoadBalancers", "DescribeTargetHealth",
         "DescribeAutoScalingGroups"}
DELETES = ("Delete", "Release", "Terminate", "Deregister", "Detach", "Disassociate")


@pytest.mark.parametrize("seed,slow", RUNS, ids=["seed %d%s" % (s, ", slow cloud" if w else "") for s, w in RUNS])
def test_deploy_and_teardown_under_faults(cloud, seed, slow):
    if R.left_over(cloud.baseline, R.inventory(cloud.url)):
        R.reset(cloud)
    with R.AwsProxy(cloud.url, slow=slow, faults=SHARE, seed=seed) as proxy:
        target = R.proxied(cloud, proxy)
        deploy = R.run(target, "site.yml", "-e", FAST_POLLS)
        assert deploy.rc == 0, deploy.output[-4000:]
        deployed = len(proxy.record)
        look = R.check_lab(cloud, "present")
        assert look.returncode == 0, look.stdout
        assert R.counts(R.added(cloud.baseline, R.inventory(cloud.url))) == R.ONE_STACK
        teardown = R.run(target, "teardown.yml", "-e", FAST_POLLS)
        assert teardown.rc == 0, teardown.output[-4000:]
        record = list(proxy.record)
    look = R.check_lab(cloud, "absent")
    assert look.returncode == 0, look.stdout
    assert R.left_over(cloud.baseline, R.inventory(cloud.url)) == {}

    faulted = [r for r in record if r["fault"]]
    share = float(len(faulted)) / len(record)
    services = sorted(set(r["service"] for r in faulted))
    creates = sorted(set(r["action"] for r in faulted[:] if r["action"].startswith(CREATES)))
    deletes = sorted(set(r["action"] for r in faulted if r["action"].startswith(DELETES)))
    polls = sorted(set(r["action"] for r in faulted if r["poll"]))
    print("seed %d: %d calls (%d deploy), %d faulted (%.0f %%), services %s; creates %s; polls %s; deletes %s"
          % (seed, len(record), deployed, len(faulted), 100 * share, services, creates, polls, deletes))
    # The proxy lets a request through after fault_cap (2) faults in a row, so the share of faulted
    # calls in the record stays below SHARE: with the retries of amazon.aws modules, 18-25 %.
    assert share >= 0.15
    assert set(services) >= {"ec2", "elasticloadbalancing", "autoscaling"} | ({"ssm"} if seed in SSM_FAULTED else set())
    assert creates and deletes and set(polls) & WAITS
