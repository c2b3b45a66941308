"""The policy documents themselves: docs/iam-policy.json against the code (no AWS needed), and the
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
}
# Mutating actions the scoped variant cannot tie to the stack tag, and what narrows them instead.
NOT_TAG_SCOPED = {
    "elasticloadbalancing:ModifyListener": "listeners carry no tags here: limited to listeners of load balancers named *Web-ALB",
    "elasticloadbalancing:DeleteListener": "listeners carry no tags here: limited to listeners of load balancers named *Web-ALB",
    "iam:CreateServiceLinkedRole": "limited to the two service-linked roles, by ARN and iam:AWSServiceName",
}
PLACEHOLDERS = ("<REGION>", "<ACCOUNT_ID>")


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


def test_policy_equals_what_the_code_can_call():
    """Every AWS operation named in plugins/ (a boto3 method on a client, mapped through botocore's
    model) is in the policy, and every action of the policy is named in plugins/."""
    assert static_calls.unknown_receivers() == []
    assert static_calls.services_created() == {"ec2", "elbv2", "autoscaling", "ssm"}
    called = set(static_calls.called_actions())
    policy = policy_actions(load_policy())
    assert sorted(called - policy) == [], "called in plugins/ but not in docs/iam-policy.json"
    assert sorted(policy - called) == [], "in docs/iam-policy.json but called nowhere in plugins/"


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
            assert re.match(r"^arn:aws:(ec2|elasticloadbalancing|autoscaling|ssm|iam):(ap-northeast-2)?:(123456789012)?:\S+$", concrete), arn


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
    # new image's snapshot, the builder's network interface) or are listed above
    for statement in scoped()["Statement"]:
        if "Condition" not in statement and statement["Resource"] != "*":
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert all(re.search(r"(::image/\*|::snapshot/\*|:network-interface/\*|:listener/app/|:parameter/aws/service/)", r)
                       for r in resources), statement["Sid"]
