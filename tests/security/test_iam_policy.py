"""docs/iam-policy.json is enough and no more, and the stack it builds is hardened.

One stack (`lab`) on the session's IAM-enforcing embedded cloud, deployed by a user whose only
permission is docs/iam-policy.json, every call going through the test proxy in record mode:

    deploy -> hardening checks -> rerun (changed=0) -> load test (URL override: sample apps on
    loopback behind a round robin; stack found by stack_info) -> update run (new AMI, HTTPS with an
    ACM certificate, other settings changed) -> HTTPS checks -> teardown

then the record's set of service:Action equals the policy's actions, apart from NOT_EXERCISED (in
the policy, not reached here) and NEEDS_NO_PERMISSION (seen, allowed without a policy).
The tests run in order; each needs the previous one.

Re-deriving the policy after the roles change: HA_WEB_IAM_DERIVE=/tmp/calls.jsonl runs the same
lifecycle with a deployer allowed "*" and keeps every call in that file; the last test then lists
the service:Action seen (write them into docs/iam-policy.json by concern, named, no wildcards).
"""
import json
import os

import pytest

import hardening
from apps import web_apps
from certs import import_certificate
from iam_env import (REGION, CaptureProxy, admin_client, load_policy, policy_actions,
                     run_playbook)
from lab_env import check_lab

STACK = "lab"

# In the policy, callable by the code on paths this lifecycle does not reach: drift made outside
# Ansible that a role compares and repairs, a guard before a create, and one call moto cannot
# answer. Each was read in the module's source (amazon.aws 10.1.2, community.aws 10.0.0) or is ours
# (static_calls finds our plugins' calls); test_policy_documents checks that each is one of them.
NOT_EXERCISED = {
    "ec2:ReplaceRoute": "network: ec2_vpc_route_table replaces a default route that someone pointed elsewhere "
                        "(network__plan public_rt_todo / private_rt_todo compare the route's target)",
    "ec2:DisassociateAddress": "network: ec2_eip (state absent, device_id, release_on_disassociation false) frees the Elastic IP "
                               "from the interface of a NAT gateway deleted outside Ansible that still holds it (moto keeps the "
                               "association; AWS drops it a moment after the deletion)",
    "ec2:DescribeSnapshots": "web_ami: stack_info checks that a snapshot of the stack that DescribeTags lists and no image owns "
                             "still exists (left by a removal interrupted after DeregisterImage; "
                             "tests/unit/plugins/module_utils/test_stack_info_image.py), then ec2_snapshot deletes it",
    "ec2:AssociateNatGatewayAddress": "network: regional_nat_gateway gives a regional NAT gateway the address of a zone "
                                      "(network_nat_mode regional, which moto does not implement: unit tests with the EC2 model)",
    "ec2:DisassociateNatGatewayAddress": "network: regional_nat_gateway takes back from a regional NAT gateway an address the "
                                         "layout no longer gives it (network_nat_mode regional, not on moto)",
    "ec2:ReplaceRouteTableAssociation": "network: subnet_route_table moves a private subnet onto the route table of another "
                                        "network_nat_mode (a switch of mode; tests/integration/test_nat_modes.py)",
    "elasticloadbalancing:SetSubnets": "alb: elb_application_lb puts back the load balancer's subnets changed outside Ansible",
    "elasticloadbalancing:SetSecurityGroups": "alb: elb_application_lb puts back the load balancer's security group changed outside Ansible",
    "elasticloadbalancing:SetIpAddressType": "alb: elb_application_lb switches back to ipv4 a load balancer switched to dualstack",
    "autoscaling:AttachLoadBalancerTargetGroups": "asg: autoscaling_group re-attaches the target group the group lost",
    "autoscaling:DetachLoadBalancerTargetGroups": "asg: autoscaling_group detaches a target group that is not the stack's",
    "autoscaling:StartInstanceRefresh": "asg: autoscaling_instance_refresh rolls the instances onto a new template version; moto "
                                        "does not implement instance refresh, so DescribeInstanceRefreshes (allowed, seen) fails "
                                        "and the role says so instead of starting one (asserted in test_update_run_with_https)",
}

# Seen in the record but needing no permission: ec2_security_group asks for the caller's account on
# every run, and sts:GetCallerIdentity is allowed whatever the policies say (on AWS as on moto).
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}

# What the update run changes (each setting makes at least one call that a plain deploy does not).
UPDATE_VARS = {
    "web_ami_root_volume_size": 16,            # new image fingerprint: bake v2, new launch template version, refresh
    "alb_health_check_path": "/",              # ModifyTargetGroup
    "alb_ingress_cidrs": ["10.0.0.0/8"],       # AuthorizeSecurityGroupIngress + RevokeSecurityGroupIngress
    "asg_max_size": 5,                         # UpdateAutoScalingGroup
    "asg_cpu_target_value": 40,                # PutScalingPolicy
    "network_tags": {"owner": "security-test"},  # ec2 CreateTags
    "alb_tags": {"owner": "security-test"},      # elasticloadbalancing AddTags
    "asg_tags": {"owner": "security-test"},      # autoscaling CreateOrUpdateTags
}

CAPTURE = ("ec2:RunInstances", "ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion")
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


# Derive mode (see above): the deployer may call anything, the proxy appends every call to the file.
DERIVE = os.environ.get("HA_WEB_IAM_DERIVE")
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Sid": "Derive", "Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def lab(iam_cloud, tmp_path_factory):
    iam_cloud.set_policy(ALLOW_ALL if DERIVE else load_policy())
    work = str(tmp_path_factory.mktemp("lab"))
    state = {"cloud": iam_cloud, "outputs": os.path.join(work, "outputs"), "work": work, "runs": []}
    with CaptureProxy(iam_cloud.url, capture=CAPTURE, record_file=DERIVE) as proxy:
        state["proxy"] = proxy
        yield state


def deploy(lab, name, *args):
    env = lab["cloud"].deployer_env(endpoint=lab["proxy"].url)
    since = len(lab["proxy"].record)
    run = run_playbook(name, env, "-e", "ha_web_outputs_dir=" + lab["outputs"], *args)
    lab["runs"].append(run)
    run.denied = [r for r in lab["proxy"].record[since:] if r.get("error_code") in DENIED]
    return run


def ec2(lab):
    return lab["cloud"].client("ec2")


def test_deployer_deploys_the_lab_with_only_the_policy(lab):
    run = deploy(lab, "site.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.denied == []
    assert run.changed(STACK) > 0
    with lab["cloud"].admin_view():
        look = check_lab(lab["cloud"], "present")
    assert look.returncode == 0, look.stdout


# ----------------------------------------------------------------------------------- hardening

def test_imdsv2_required_on_builder_and_template(lab):
    assert hardening.imdsv2_on_builder([c["params"] for c in lab["proxy"].calls("ec2:RunInstances")]) == ["required"]
    assert hardening.imdsv2_on_template(ec2(lab), STACK) == {1: "required"}


def test_ebs_encrypted_on_builder_and_template(lab):
    assert hardening.encrypted_builder_volume([c["params"] for c in lab["proxy"].calls("ec2:RunInstances")])
    assert hardening.encrypted_template_volumes(ec2(lab), STACK)


def test_group_instances_get_no_public_ip(lab):
    seen = hardening.no_public_ip(ec2(lab), lab["cloud"].client("autoscaling"), STACK)
    assert len(seen["instances"]) == 2


def test_instance_sg_open_only_to_the_alb_sg(lab):
    hardening.instance_sg_only_from_alb(ec2(lab), lab["cloud"].client("elbv2"), STACK)


def test_builder_sg_gone_after_the_bake(lab):
    assert hardening.builder_sg_gone(ec2(lab), STACK)
    assert [c["status"] for c in lab["proxy"].calls("ec2:RunInstances")] == [200]


def test_no_ssh_key_pair_and_no_ssh_port(lab):
    assert len(hardening.no_ssh(ec2(lab), STACK, [c["params"] for c in lab["proxy"].calls("ec2:RunInstances")])) == 2


def test_alb_drops_invalid_header_fields(lab):
    assert hardening.alb_drops_invalid_headers(lab["cloud"].client("elbv2"), STACK) == "true"


# ----------------------------------------------------------------------------------- lifecycle

def test_rerun_with_only_the_policy_changes_nothing(lab):
    run = deploy(lab, "site.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.denied == []
    assert run.changed(STACK) == 0, run.output[-4000:]


def test_load_test_with_url_override(lab):
    """load_test.yml's HTTP path against two sample apps; no outputs file here, so it finds the
    group and target group with stack_info, then capacity_wait reads scaling activities."""
    identities = [("i-0aaaaaaaaaaaaaaa1", REGION + "a"), ("i-0ccccccccccccccc2", REGION + "c")]
    elsewhere = os.path.join(lab["work"], "load-test")
    with web_apps(identities, lab["work"]) as rr:
        env = lab["cloud"].deployer_env(endpoint=lab["proxy"].url)
        since = len(lab["proxy"].record)
        run = run_playbook("load_test.yml", env, "-e", "ha_web_outputs_dir=" + elsewhere, "-e", "load_test_url=%s/" % rr.url,
                           "-e", "load_test_requests=40", "-e", "load_test_concurrency=2", "-e", "load_test_seconds=1",
                           "-e", "load_test_capacity_target=desired", "-e", "load_test_poll_interval=1",
                           "-e", "load_test_wait_timeout=60")
        lab["runs"].append(run)
        assert run.rc == 0, run.output[-4000:]
        assert [r for r in lab["proxy"].record[since:] if r.get("error_code") in DENIED] == []
        actions = lab["proxy"].actions(since)
        assert rr.by_path[("GET", "/")] == 40
        assert rr.by_path[("POST", "/load-test")] >= 2
    assert "40 requests to %s/" % rr.url in run.output
    assert "group Web-ASG: 2 of 2 instances ready" in run.output
    assert "scaling activities: none reported" in run.output
    assert "Find the stack's load balancer and group" in run.output
    assert {"ec2:DescribeTags", "autoscaling:DescribeScalingActivities", "elasticloadbalancing:DescribeTargetHealth"} <= actions


def test_update_run_with_https(lab):
    """A changed app (new AMI, instance refresh), HTTPS with an ACM certificate and other changed
    settings, still with only the policy."""
    with lab["cloud"].admin_view():
        cert = import_certificate(admin_client(lab["cloud"], "acm"))
    extra = dict(UPDATE_VARS, alb_certificate_arn=cert)
    lab["certificate_arn"] = cert
    run = deploy(lab, "site.yml", "-e", json.dumps(extra))
    assert run.rc == 0, run.output[-4000:]
    assert run.denied == []
    assert run.changed(STACK) > 0
    assert len(lab["proxy"].calls("ec2:RunInstances")) == 2
    assert [c["status"] for c in lab["proxy"].calls("ec2:CreateLaunchTemplateVersion")] == [200]
    assert "the endpoint does not support instance refresh (DescribeInstanceRefreshes" in run.output
    # the new version is hardened too
    assert hardening.imdsv2_on_template(ec2(lab), STACK) == {1: "required", 2: "required"}
    assert hardening.imdsv2_on_builder([c["params"] for c in lab["proxy"].calls("ec2:RunInstances")]) == ["required"] * 2
    hardening.encrypted_template_volumes(ec2(lab), STACK)
    hardening.encrypted_builder_volume([c["params"] for c in lab["proxy"].calls("ec2:RunInstances")])
    hardening.instance_sg_only_from_alb(ec2(lab), lab["cloud"].client("elbv2"), STACK)
    hardening.builder_sg_gone(ec2(lab), STACK)
    hardening.no_ssh(ec2(lab), STACK, [c["params"] for c in lab["proxy"].calls("ec2:RunInstances")])


def test_https_listener_and_redirect(lab):
    elbv2 = lab["cloud"].client("elbv2")
    balancer = hardening.load_balancer(elbv2, STACK)
    listeners = dict((l["Port"], l) for l in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"])
    assert sorted(listeners) == [80, 443]
    https = listeners[443]
    assert https["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in https["Certificates"]] == [lab["certificate_arn"]]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert [a["Type"] for a in https["DefaultActions"]] == ["forward"]
    assert https["DefaultActions"][0]["TargetGroupArn"] == hardening_target_group(elbv2)
    http = listeners[80]
    assert http["Protocol"] == "HTTP"
    assert len(http["DefaultActions"]) == 1 and http["DefaultActions"][0]["Type"] == "redirect"
    redirect = http["DefaultActions"][0]["RedirectConfig"]
    assert (redirect["Protocol"], redirect["Port"], redirect["StatusCode"]) == ("HTTPS", "443", "HTTP_301")
    # the load balancer's group admits both listener ports, from the CIDRs asked for
    sg = ec2(lab).describe_security_groups(GroupIds=balancer["SecurityGroups"])["SecurityGroups"][0]
    rules = sorted((p["FromPort"], r["CidrIp"]) for p in sg["IpPermissions"] for r in p.get("IpRanges") or [])
    assert rules == [(80, "10.0.0.0/8"), (443, "10.0.0.0/8")]


def hardening_target_group(elbv2):
    groups = [g for g in elbv2.describe_target_groups()["TargetGroups"] if g["TargetGroupName"] == "Web-TG"]
    assert len(groups) == 1, groups
    return groups[0]["TargetGroupArn"]


def test_teardown_with_only_the_policy(lab):
    run = deploy(lab, "teardown.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.denied == []
    assert run.changed(STACK) > 0
    with lab["cloud"].admin_view():
        look = check_lab(lab["cloud"], "absent")
    assert look.returncode == 0, look.stdout


# ----------------------------------------------------------------------------------- the proof

def test_policy_equals_what_the_record_saw(lab):
    assert len(lab["runs"]) == 5, "the lifecycle above did not run in full"
    seen = lab["proxy"].actions() - NEEDS_NO_PERMISSION
    if DERIVE:
        pytest.skip("derive mode: %d actions seen (%s): %s" % (len(seen), DERIVE, " ".join(sorted(seen))))
    policy = policy_actions(load_policy())
    assert sorted(seen & set(NOT_EXERCISED)) == [], "exercised now: take these out of NOT_EXERCISED"
    assert sorted(seen - policy) == [], "called but not in docs/iam-policy.json"
    assert sorted(policy - seen - set(NOT_EXERCISED)) == [], "in docs/iam-policy.json but never called"
    assert seen | set(NOT_EXERCISED) == policy


def test_deployer_secret_never_printed(lab):
    secret = lab["cloud"].key[1]
    assert lab["runs"]
    for run in lab["runs"]:
        assert secret not in run.output
    for folder, _dirs, files in os.walk(lab["work"]):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as handle:
                assert secret not in handle.read(), os.path.join(folder, name)
