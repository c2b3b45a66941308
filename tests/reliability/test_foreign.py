"""Issue 19, findings 1 and 2, on one cloud where stack `blue` stays deployed from first to last.

1. Teardown touches only its own stack: a stack name with wildcards (EC2 tag filters take * and ?
   as wildcards: `teardown.yml -e stack_name='bl*'` deregistered blue's AMI) is refused before any
   AWS call, and the roles' look-ups compare the tag exactly even when that check is skipped; a
   look-alike name that passes the rule (BLUE) finds nothing of blue. blue is checked with
   check_lab.py present after every case.
2. A resource with one of the stack's names and without its exact tag is someone else's: a deploy
   stops before its first change, naming it and the variable that sets the name; a teardown
   removes what is the stack's (NAT gateway, Elastic IP, AMI, network), names the foreign ones and
   leaves them as they were, without waiting for their instances.

The tests run in order; each needs the ones before. CI runs a sample (HA_WEB_TEST_SCOPE=full: all).
"""
import json

import pytest

import rel_env as R

STACK_NAME_RULE = "must be 1 to 24 letters, digits and hyphens"
# moto answers at once: poll every second instead of the roles' 5-10 s (a builder starts pending).
FAST = ["-e", "web_ami_poll_interval=1", "-e", "alb_poll_interval=1", "-e", "asg_poll_interval=1"]
OTHER = [{"Key": "ha_web:stack", "Value": "other"}, {"Key": "Name", "Value": "not ours"}]

# The stack's lock (stack_lock: an SSM parameter of the run, taken before the first change and
# released at the end) is not a change of the stack.
LOCK_CALLS = ("PutParameter", "DeleteParameter")


@pytest.fixture(scope="module")
def blue(cloud):
    """Stack blue, deployed (the default host `lab` with stack_name=blue), as it is before any case."""
    run = R.run(cloud, "site.yml", "-e", "stack_name=blue", *FAST)
    assert run.rc == 0, run.output[-4000:]
    return {"inventory": R.inventory_of_stack(cloud.url, "blue"), "account": R.inventory(cloud.url)}


def blue_untouched(cloud, blue):
    assert R.inventory_of_stack(cloud.url, "blue") == blue["inventory"]
    look = R.check_lab(cloud, "present", "--stack", "blue")
    assert look.returncode == 0, look.stdout


def text(run):
    # The YAML callback folds long messages and doubles the quote in 'stack''s'.
    return " ".join(run.output.split()).replace("''", "'")


# --- finding 1: wildcard and look-alike stack names on teardown

WILDCARDS = R.pick(["bl*", "blu?", "*", "b?ue", "blue*", "blue "], ["bl*"])


@pytest.mark.parametrize("name", WILDCARDS, ids=[repr(n) for n in WILDCARDS])
def test_teardown_refuses_a_stack_name_that_breaks_the_rule_before_any_aws_call(cloud, blue, name):
    with R.AwsProxy(cloud.url) as proxy:
        run = R.run(R.proxied(cloud, proxy), "teardown.yml", "-e", json.dumps({"stack_name": name}))
        calls = list(proxy.record)
    assert run.rc != 0 and run.recap["lab"]["failed"] == 1, run.output[-3000:]
    assert "stack_name %s %s" % (json.dumps(name), STACK_NAME_RULE) in text(run), run.output[-3000:]
    assert calls == []
    blue_untouched(cloud, blue)


if R.FULL:  # defined only in the full scope (a skipped test would prove nothing)
    LOOK_ALIKES = ["BLUE", "Blue", "blu", "blue2", "bluee", "blue-2"]

    @pytest.mark.parametrize("name", LOOK_ALIKES)
    def test_teardown_of_a_look_alike_stack_removes_nothing_of_blue(cloud, blue, name):
        with R.AwsProxy(cloud.url) as proxy:
            run = R.run(R.proxied(cloud, proxy), "teardown.yml", "-e", "stack_name=" + name)
            mutating = [r["action"] for r in proxy.record if r["mutating"] and r["action"] not in LOCK_CALLS]
        assert run.rc == 0 and run.changed() == 0, run.output[-3000:]
        assert mutating == []
        blue_untouched(cloud, blue)

    def test_load_test_refuses_a_wildcard_stack_name(cloud, blue):
        with R.AwsProxy(cloud.url) as proxy:
            run = R.run(R.proxied(cloud, proxy), "load_test.yml", "-e", "stack_name=bl*")
            calls = list(proxy.record)
        assert run.rc != 0 and 'stack_name "bl*" %s' % STACK_NAME_RULE in text(run), run.output[-3000:]
        assert calls == []


SKIPPED_CHECK = R.pick(["bl*", "*", "blu?", "?lue"], ["bl*"])


@pytest.mark.parametrize("name", SKIPPED_CHECK, ids=[repr(n) for n in SKIPPED_CHECK])
def test_without_the_name_check_the_roles_compare_the_tag_exactly(cloud, blue, name):
    """--skip-tags always skips teardown.yml's stack name check: the roles' look-ups run with the
    wildcard, and remove nothing (before the exact compare, this deregistered blue's AMI)."""
    with R.AwsProxy(cloud.url) as proxy:
        run = R.run(R.proxied(cloud, proxy), "teardown.yml", "--skip-tags", "always", "-e", json.dumps({"stack_name": name}))
        mutating = [r["action"] for r in proxy.record if r["mutating"] and r["action"] not in LOCK_CALLS]
    assert run.rc == 0 and run.changed() == 0, run.output[-3000:]
    assert mutating == []
    blue_untouched(cloud, blue)


# --- finding 2: foreign resources with the stack's names


def create_foreign(url):
    """Resources with stack lab's default names that are not lab's: untagged or tagged with another
    stack, in the default VPC. The group runs an instance."""
    ec2, elbv2, autoscaling = R.client(url, "ec2"), R.client(url, "elbv2"), R.client(url, "autoscaling")
    image = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]][:2]
    ec2.create_launch_template(LaunchTemplateName="Web", LaunchTemplateData={"ImageId": image, "InstanceType": "t2.micro"},
                               TagSpecifications=[{"ResourceType": "launch-template", "Tags": OTHER}])
    ec2.create_launch_template(LaunchTemplateName="Someone-Else", LaunchTemplateData={"ImageId": image, "InstanceType": "t2.micro"})
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="Web-ASG", LaunchTemplate={"LaunchTemplateName": "Someone-Else"},
                                          MinSize=1, MaxSize=2, DesiredCapacity=1, VPCZoneIdentifier=subnets[0])
    group = ec2.create_security_group(GroupName="Web-ALB-SG", Description="not ours", VpcId=vpc)["GroupId"]
    ec2.create_security_group(GroupName="ASG-Web-Inst-SG", Description="not ours", VpcId=vpc,
                              TagSpecifications=[{"ResourceType": "security-group", "Tags": OTHER}])
    elbv2.create_load_balancer(Name="Web-ALB", Subnets=subnets, SecurityGroups=[group])
    elbv2.create_target_group(Name="Web-TG", Protocol="HTTP", Port=80, VpcId=vpc, Tags=OTHER)


def foreign_state(url):
    """What a run must leave as it was: the foreign resources, their tags, the group's instances."""
    ec2, elbv2, autoscaling = R.client(url, "ec2"), R.client(url, "elbv2"), R.client(url, "autoscaling")
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["Web-ASG"])["AutoScalingGroups"]
    templates = ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": ["Web", "Someone-Else"]}])
    balancers = elbv2.describe_load_balancers(Names=["Web-ALB"])["LoadBalancers"]
    groups = elbv2.describe_target_groups(Names=["Web-TG"])["TargetGroups"]
    tags = elbv2.describe_tags(ResourceArns=[balancers[0]["LoadBalancerArn"], groups[0]["TargetGroupArn"]])["TagDescriptions"]
    security_groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["Web-ALB-SG", "ASG-Web-Inst-SG"]}])
    return {
        "group": [(g["AutoScalingGroupName"], g["DesiredCapacity"], sorted(i["InstanceId"] for i in g["Instances"]), g.get("Tags")) for g in group],
        "instances": sorted((i["InstanceId"], i["State"]["Name"]) for r in ec2.describe_instances(
            InstanceIds=[i["InstanceId"] for g in group for i in g["Instances"]])["Reservations"] for i in r["Instances"]),
        "templates": sorted((t["LaunchTemplateId"], t["LatestVersionNumber"]) for t in templates["LaunchTemplates"]),
        "load_balancers": [(b["LoadBalancerArn"], b["State"]["Code"]) for b in balancers],
        "target_groups": [g["TargetGroupArn"] for g in groups],
        "elbv2_tags": sorted((d["ResourceArn"], json.dumps(d["Tags"], sort_keys=True)) for d in tags),
        "security_groups": sorted((g["GroupId"], g["GroupName"], json.dumps(g.get("Tags", []), sort_keys=True))
                                  for g in security_groups["SecurityGroups"]),
    }


@pytest.fixture(scope="module")
def foreign(cloud, blue):
    create_foreign(cloud.url)
    state = foreign_state(cloud.url)
    assert len(state["instances"]) == 1 and state["instances"][0][1] in ("pending", "running")
    return state


EXPECTED_CLASHES = [
    'load balancer "Web-ALB" (alb_name) has no tag ha_web:stack',
    'target group "Web-TG" (alb_target_group_name) is stack "other"\'s',
    'Auto Scaling group "Web-ASG" (asg_group_name) has no tag ha_web:stack',
    'launch template "Web" (asg_launch_template_name) is stack "other"\'s',
]


def test_a_deploy_among_foreign_names_stops_before_any_change(cloud, blue, foreign):
    before = R.inventory(cloud.url)
    with R.AwsProxy(cloud.url) as proxy:
        run = R.run(R.proxied(cloud, proxy), "site.yml")
        mutating = [r["action"] for r in proxy.record if r["mutating"] and r["action"] not in LOCK_CALLS]
    assert run.rc != 0 and run.recap["lab"]["failed"] == 1, run.output[-3000:]
    for clash in EXPECTED_CLASHES:
        assert clash in text(run), "%r not in:\n%s" % (clash, run.output[-3000:])
    # security group names are per VPC: those in the default VPC are no clash for lab's new VPC
    assert "Web-ALB-SG" not in text(run) and "ASG-Web-Inst-SG" not in text(run)
    assert mutating == []
    assert R.inventory(cloud.url) == before  # nothing of lab's was created
    assert foreign_state(cloud.url) == foreign
    blue_untouched(cloud, blue)


def test_teardown_removes_what_is_the_stacks_and_leaves_the_foreign_resources(cloud, blue, foreign):
    """lab's network (NAT gateway, Elastic IP: billable) and, in the full scope, its AMI beside someone
    else's Web-ASG (with an instance), Web, Web-ALB, Web-TG: the teardown names those, leaves them and
    removes lab's."""
    # The roles whose names no one else holds (CI: the network alone, its NAT gateway and Elastic IP).
    run = R.run(cloud, "site.yml", "--tags", "network,web_ami" if R.FULL else "network", *FAST)
    assert run.rc == 0, run.output[-4000:]
    built = R.counts(R.added(blue["account"], R.inventory(cloud.url)))
    assert (built["nat_gateway"], built["elastic_ip"], built["image"], built["vpc"]) == (1, 1, 1 if R.FULL else 0, 1)
    # Every wait of the run is short: waiting for the foreign group's instances, or for a dependency
    # that someone else's resource holds, would fail the run (before, it waited out 600 s and failed).
    run = R.run(cloud, "teardown.yml", "-e", "asg_wait_timeout=30", "-e", "network_wait_timeout=30", "-e", "alb_wait_timeout=30")
    assert run.rc == 0, run.output[-4000:]
    for line in ('Auto Scaling group "Web-ASG" has no tag ha_web:stack: not stack lab\'s, left alone',
                 'launch template "Web" is stack "other"\'s (tag ha_web:stack): not stack lab\'s, left alone',
                 'load balancer "Web-ALB" has no tag ha_web:stack: not stack lab\'s, left alone',
                 'target group "Web-TG" is stack "other"\'s (tag ha_web:stack): not stack lab\'s, left alone'):
        assert line in text(run), "%r not in:\n%s" % (line, run.output[-4000:])
    # check_lab finds the group, load balancer and target group by name too (an untagged leftover of
    # a killed run would be lab's): there those are the foreign ones, checked untouched below.
    look = R.check_lab(cloud, "absent")
    assert sorted(line for line in look.stdout.splitlines() if line.startswith("FAIL")) == [
        "FAIL Auto Scaling groups left: expected 0, found 1", "FAIL load balancers left: expected 0, found 1",
        "FAIL target groups left: expected 0, found 1"], look.stdout
    left = R.counts(R.added(blue["account"], R.inventory(cloud.url)))
    assert (left["nat_gateway"], left["elastic_ip"], left["image"], left["vpc"]) == (0, 0, 0, 0)
    assert foreign_state(cloud.url) == foreign
    blue_untouched(cloud, blue)


if R.FULL:
    def remove_foreign(url):
        ec2, elbv2, autoscaling = R.client(url, "ec2"), R.client(url, "elbv2"), R.client(url, "autoscaling")
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName="Web-ASG", ForceDelete=True)
        for name in ("Web", "Someone-Else"):
            ec2.delete_launch_template(LaunchTemplateName=name)
        for balancer in elbv2.describe_load_balancers(Names=["Web-ALB"])["LoadBalancers"]:
            elbv2.delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
        for group in elbv2.describe_target_groups(Names=["Web-TG"])["TargetGroups"]:
            elbv2.delete_target_group(TargetGroupArn=group["TargetGroupArn"])

    def test_someone_elses_security_group_in_the_stacks_vpc(cloud, blue, foreign):
        """Security group names are unique per VPC: a group named Web-ALB-SG without lab's tag in lab's
        own VPC stops the deploy before any change; teardown removes the rest (NAT gateway, Elastic
        IP...) at once and stops, naming the group that keeps the VPC."""
        remove_foreign(cloud.url)
        run = R.run(cloud, "site.yml", "--tags", "network", *FAST)
        assert run.rc == 0, run.output[-4000:]
        ec2 = R.client(cloud.url, "ec2")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["Vpcs"][0]["VpcId"]
        group = ec2.create_security_group(GroupName="Web-ALB-SG", Description="not ours", VpcId=vpc)["GroupId"]
        before = R.inventory(cloud.url)
        with R.AwsProxy(cloud.url) as proxy:
            run = R.run(R.proxied(cloud, proxy), "site.yml")
            mutating = [r["action"] for r in proxy.record if r["mutating"] and r["action"] not in LOCK_CALLS]
        assert run.rc != 0, run.output[-3000:]
        assert 'security group "Web-ALB-SG" (alb_security_group_name, in the stack\'s VPC %s) has no tag ha_web:stack' % vpc in text(run)
        assert mutating == [] and R.inventory(cloud.url) == before

        run = R.run(cloud, "teardown.yml", "-e", "network_wait_timeout=600")
        # at once, not after retrying DependencyViolation for network_wait_timeout
        assert run.rc != 0 and run.seconds < 300, run.output[-3000:]
        assert 'security group "Web-ALB-SG" (%s in VPC %s) has no tag ha_web:stack: not stack lab\'s, left alone' % (group, vpc) in text(run)
        assert "its VPC %s stays: it holds security group(s) %s Web-ALB-SG" % (vpc, group) in text(run)
        left = R.added(blue["account"], R.inventory(cloud.url))
        network = ("vpc", "subnet", "internet_gateway", "nat_gateway", "elastic_ip", "security_group")
        assert {kind: left[kind] for kind in network if left[kind]} == {"vpc": [vpc], "security_group": [group]}
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        assert [[a.get("Main") for a in t["Associations"]] for t in tables] == [[True]]  # the VPC's own main table only
        ec2.delete_security_group(GroupId=group)
        run = R.run(cloud, "teardown.yml")
        assert run.rc == 0, run.output[-3000:]
        assert R.check_lab(cloud, "absent").returncode == 0
        blue_untouched(cloud, blue)
