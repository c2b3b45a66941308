"""The policy documents themselves: docs/iam-policy.json against the code (no AWS needed: what our
plugins and tasks call, which AWS modules the roles use and what their review found), and the
scoped variant docs/iam-policy-scoped.json against it. The scoped variant is for AWS and is not
proven here (moto evaluates identity policies against Resource "*" only and ignores conditions):
these tests only keep it consistent with the proven policy."""
import json
import re

import static_calls
from iam_env import SCOPED_POLICY_FILE, load_policy, policy_actions

# What the scoped variant allows beyond the proven policy: actions AWS implies and moto never checks.
IMPLIED_IN_SCOPED = {
    "iam:CreateServiceLinkedRole": "a fresh account's first Auto Scaling group and load balancer create "
                                   "AWSServiceRoleForAutoScaling / AWSServiceRoleForElasticLoadBalancing",
    "cloudwatch:TagResource": "PutDashboard with Tags (the dashboard's creation): AWS asks for cloudwatch:TagResource to tag "
                              "on create, as it documents for alarms and Contributor Insights rules; moto keeps no dashboard tags",
}
# Mutating actions the scoped variant cannot tie to the stack tag, and what narrows them instead.
NOT_TAG_SCOPED = {
    "elasticloadbalancing:CreateTargetGroup": "community.aws.elb_target_group creates the target group without tags and tags it "
                                              "in a second call (AddTags, tied to the tag in the request): limited to target "
                                              "groups named Web-TG or *-Web-TG",
    "elasticloadbalancing:ModifyListener": "listeners carry no tags here: limited to listeners of load balancers named *Web-ALB",
    "elasticloadbalancing:DeleteListener": "listeners carry no tags here: limited to listeners of load balancers named *Web-ALB",
    "iam:CreateServiceLinkedRole": "limited to the two service-linked roles, by ARN and iam:AWSServiceName",
    "cloudwatch:PutDashboard": "limited by name to dashboards *-ha-web: PutDashboard takes tags at creation only, and the "
                               "asg role knows its dashboard by the marker in its body (dashboards are global to the account)",
    "cloudwatch:DeleteDashboards": "limited by name to dashboards *-ha-web (teardown deletes <stack>-ha-web when its marker is the stack's)",
    "cloudwatch:TagResource": "limited by name to dashboards *-ha-web (their tags at creation)",
    "ssm:PutParameter": "the stack's lock (stack_lock), an untagged parameter that lives for one run: limited by name to "
                        "parameters under /ha_web/",
    "ssm:DeleteParameter": "the stack's lock (stack_lock): limited by name to parameters under /ha_web/",
}
PLACEHOLDERS = ("<REGION>", "<ACCOUNT_ID>")
# Resources a statement may allow without a tag condition: those that cannot carry the tag, and
# those of NOT_TAG_SCOPED narrowed by name.
UNTAGGED_OR_BY_NAME = (r"(::image/\*|::snapshot/\*|:network-interface/\*|:parameter/aws/service/|:parameter/ha_web/\*$"
                       r"|:listener/app/|:targetgroup/(Web-TG|\*-Web-TG)/\*$|:dashboard/\*-ha-web$)")


def is_read(action):
    return action.split(":", 1)[1].startswith(("Describe", "Get", "List"))


def test_policy_document_shape():
    doc = load_policy()
    assert doc["Version"] == "2012-10-17"
    actions = []
    for statement in doc["Statement"]:
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, statement
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
        assert "*" not in "".join(statement["Action"]), "no wildcards: every action is named"
        actions.extend(statement["Action"])
    assert len(actions) == len(set(actions)), "an action is listed twice"
    assert not any(a.startswith(("iam:", "sts:")) for a in actions)


# What each amazon.aws / community.aws module that roles/ and playbooks/ call can call on the paths
# the record of test_iam_policy.py does not reach, read in its source (amazon.aws 10.1.2,
# community.aws 10.0.0) for the parameters the roles give it: the policy allows these (they are in
# NOT_EXERCISED). A module added to a role fails test_every_aws_module_the_roles_call_was_reviewed
# until its source is read and it is entered here.
REVIEWED_MODULES = {
    "amazon.aws.autoscaling_group": ["autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups"],
    "amazon.aws.autoscaling_instance_refresh": ["autoscaling:StartInstanceRefresh"],
    "amazon.aws.autoscaling_instance_refresh_info": [],
    "amazon.aws.ec2_ami": [],
    "amazon.aws.ec2_eip": ["ec2:DisassociateAddress"],
    "amazon.aws.ec2_instance": [],
    "amazon.aws.ec2_instance_info": [],
    "amazon.aws.ec2_launch_template": [],
    "amazon.aws.ec2_security_group": [],
    "amazon.aws.ec2_snapshot": [],
    "amazon.aws.ec2_tag": [],
    "amazon.aws.ec2_vpc_igw": [],
    "amazon.aws.ec2_vpc_nat_gateway": [],
    "amazon.aws.ec2_vpc_nat_gateway_info": [],
    "amazon.aws.ec2_vpc_net": [],
    "amazon.aws.ec2_vpc_route_table": ["ec2:ReplaceRoute"],
    "amazon.aws.ec2_vpc_subnet": [],
    "amazon.aws.elb_application_lb": ["elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetSecurityGroups",
                                      "elasticloadbalancing:SetIpAddressType"],
    "amazon.aws.elb_application_lb_info": [],
    "community.aws.autoscaling_policy": [],
    "community.aws.elb_target_group": [],
}
# Calls the modules make only on a state of the stack's resources that the roles do not compare (so
# the task runs for another reason and the module also undoes a change made outside Ansible), or
# on a path the roles do not take. Not granted: such a run stops with AccessDenied naming the call
# instead of undoing what someone did on purpose (docs/security.md).
NOT_GRANTED = {
    "ec2:DeleteTags": "web_ami: ec2_security_group (purge_tags defaults to true on the builder's group) on a builder group "
                      "left by an interrupted bake that someone tagged; the other tasks set purge_tags: false",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress": "ec2_security_group: a rule of the stack's group whose description was edited",
    "ec2:DisassociateSubnetCidrBlock": "network: ec2_vpc_subnet (ipv6_cidr defaults to '') repairing a subnet that someone gave an IPv6 CIDR",
    "autoscaling:ResumeProcesses": "asg: autoscaling_group (suspend_processes defaults to []) updating a group whose processes someone suspended",
    "ec2:ModifyInstanceMetadataOptions": "web_ami: ec2_instance on an existing builder (handle_existing): not reached, the task "
                                         "runs only when the look-up found no builder that its filters would find",
}
# Our plugins only read, except these calls (docs/DEVELOPING.md). The emulator module (embedded cloud
# only) sets the load balancer attributes that elb_application_lb cannot set on moto; cloudwatch_dashboard puts and
# deletes the stack's dashboard (amazon.aws and community.aws have no dashboard module);
# regional_nat_gateway makes the regional NAT gateway amazon.aws cannot (its probe deletes one an
# endpoint made despite DryRun); subnet_route_table moves a subnet between route tables in one call,
# which ec2_vpc_route_table cannot; stack_lock takes and releases the stack's lock.
OUR_MUTATING_CALLS = {"elasticloadbalancing:ModifyLoadBalancerAttributes": ["emulator.py"],
                      "cloudwatch:PutDashboard": ["cloudwatch_dashboard.py"], "cloudwatch:DeleteDashboards": ["cloudwatch_dashboard.py"],
                      "ec2:CreateNatGateway": ["regional_nat_gateway.py"], "ec2:DeleteNatGateway": ["regional_nat_gateway.py"],
                      "ec2:AssociateNatGatewayAddress": ["regional_nat_gateway.py"],
                      "ec2:DisassociateNatGatewayAddress": ["regional_nat_gateway.py"], "ec2:CreateTags": ["regional_nat_gateway.py"],
                      "ec2:ReplaceRouteTableAssociation": ["subnet_route_table.py"], "ec2:AssociateRouteTable": ["subnet_route_table.py"],
                      "ssm:PutParameter": ["stack_lock.py"], "ssm:DeleteParameter": ["stack_lock.py"]}


def test_what_our_plugins_can_call_is_in_the_policy():
    """Every AWS operation named in plugins/ (a boto3 method on a client, mapped through botocore's
    model) is in the policy; our plugins read, apart from OUR_MUTATING_CALLS."""
    assert static_calls.unknown_receivers() == []
    assert static_calls.services_created() == {"ec2", "elbv2", "autoscaling", "ssm", "cloudwatch"}
    called = static_calls.called_actions()
    policy = policy_actions(load_policy())
    assert sorted(set(called) - policy) == [], "called in plugins/ but not in docs/iam-policy.json"
    assert dict((a, f) for a, f in called.items() if not is_read(a)) == OUR_MUTATING_CALLS


def test_no_boto3_call_is_written_in_a_task():
    """AWS calls go through modules (which take credentials from module_defaults, masked by no_log),
    never through a boto3 one-liner in a command task."""
    assert static_calls.boto3_in_tasks() == []


def test_every_aws_module_the_roles_call_was_reviewed():
    assert sorted(static_calls.aws_modules_used()) == sorted(REVIEWED_MODULES)


def test_not_exercised_is_what_the_reviewed_modules_and_our_plugins_can_call():
    from test_iam_policy import NOT_EXERCISED
    policy = policy_actions(load_policy())
    attributed = set(a for actions in REVIEWED_MODULES.values() for a in actions)
    ours = set(static_calls.called_actions()) & set(NOT_EXERCISED)
    assert sorted(attributed - set(NOT_EXERCISED)) == []
    assert sorted(set(NOT_EXERCISED) - attributed - ours) == [], "in NOT_EXERCISED without a module or plugin that calls it"
    assert set(NOT_EXERCISED) <= policy
    assert sorted(set(NOT_GRANTED) & policy) == [], "granted after all: take it out of NOT_GRANTED (and say why in docs/security.md)"


def scoped():
    with open(SCOPED_POLICY_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def test_scoped_allows_the_same_actions_plus_the_implied_ones():
    doc = scoped()
    assert doc["Version"] == "2012-10-17"
    assert policy_actions(doc) == policy_actions(load_policy()) | set(IMPLIED_IN_SCOPED)
    sids = [s["Sid"] for s in doc["Statement"]]
    assert len(sids) == len(set(sids))


def test_scoped_uses_star_only_for_reads():
    for statement in scoped()["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert resources == ["*"] and all(is_read(a) for a in statement["Action"]), statement["Sid"]
            assert "Condition" not in statement
        for arn in resources:
            if arn == "*":
                continue
            concrete = arn.replace("<REGION>", "ap-northeast-2").replace("<ACCOUNT_ID>", "123456789012")
            assert "<" not in concrete and ">" not in concrete, arn
            assert re.match(r"^arn:aws:(ec2|elasticloadbalancing|autoscaling|ssm|iam|cloudwatch):(ap-northeast-2)?:(123456789012)?:\S+$",
                            concrete), arn


def test_scoped_ties_every_change_to_the_stack_tag():
    """Each mutating action is allowed at least by a statement conditioned on the ha_web:stack tag
    (aws:RequestTag on create, aws:ResourceTag / autoscaling:ResourceTag after), except NOT_TAG_SCOPED."""
    tagged, untagged = set(), set()
    for statement in scoped()["Statement"]:
        condition = json.dumps(statement.get("Condition") or {})
        has_stack = "/ha_web:stack" in condition
        for action in statement["Action"]:
            if is_read(action):
                continue
            (tagged if has_stack else untagged).add(action)
    mutating = set(a for a in policy_actions(scoped()) if not is_read(a))
    assert sorted(mutating - tagged) == sorted(NOT_TAG_SCOPED)
    # the unconditioned statements only add resources that cannot carry the tag (Amazon's AMIs, the
    # new image's snapshot, the builder's network interface, a NAT gateway's interface) or are
    # listed above (listeners, the target group by name)
    for statement in scoped()["Statement"]:
        if "Condition" not in statement and statement["Resource"] != "*":
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert all(re.search(UNTAGGED_OR_BY_NAME, r) for r in resources), statement["Sid"]
