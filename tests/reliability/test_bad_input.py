"""Bad input: each invalid variable set fails site.yml before any mutating AWS call, with a message
naming the variable and the rule.

The whole table runs in one playbook run: the cases are packed onto inventory hosts (their
variables as host vars, which take the place of role defaults as -e does; cases that interact get
hosts of their own), all in parallel. Each host must fail in site.yml's pre_tasks (the input check,
or the check of the AZ letters and instance types against the region after its read-only look-up)
with each of its cases' words in the message, and the whole run must make no mutating AWS call. One
host passes numbers and flags as text that reads as them and must get past the input check. A
second run passes numbers as text on the command line (`-e asg_min_size=abc`). The full scope runs
the table again against a deployed stack (the look-up then finds it): site.yml as a user reruns it
with a typo.
"""
import collections
import json
import os
import re
import tempfile

import pytest

import rel_env as R

Case = collections.namedtuple("Case", "name extra expect")


def subnets(*specs):
    return [{"name": "s%d" % i, "cidr": cidr, "az": az, "tier": tier} for i, (cidr, az, tier) in enumerate(specs)]


LAB_SUBNETS = [("10.0.10.0/24", "a", "public"), ("10.0.100.0/24", "a", "private"),
               ("10.0.20.0/24", "c", "public"), ("10.0.200.0/24", "c", "private")]
CASES = [
    # network: CIDRs, the subnets' layout, the region
    Case("invalid VPC CIDR", {"network_vpc_cidr": "10.0.0.0/33"}, ["network_vpc_cidr", "not a valid IPv4 CIDR"]),
    Case("VPC CIDR not a network", {"network_vpc_cidr": "10.0.0.1/16"}, ["network_vpc_cidr", "not a valid IPv4 CIDR"]),
    Case("VPC CIDR too large", {"network_vpc_cidr": "10.0.0.0/8"}, ["network_vpc_cidr", "between /16 and /28"]),
    Case("VPC CIDR given as a list", {"network_vpc_cidr": ["10.0.0.0/16"]}, ["network_vpc_cidr", "not a valid IPv4 CIDR"]),
    Case("invalid subnet CIDR", {"network_subnets": subnets(("10.0.10.0/2x", "a", "public"), *LAB_SUBNETS[1:])},
         ["network_subnets[0].cidr", "not a valid IPv4 CIDR"]),
    Case("subnet outside the VPC", {"network_subnets": subnets(("10.1.10.0/24", "a", "public"), *LAB_SUBNETS[1:])},
         ["network_subnets[0].cidr", "is not inside network_vpc_cidr"]),
    Case("overlapping subnets", {"network_subnets": subnets(LAB_SUBNETS[0], ("10.0.10.128/25", "a", "private"), *LAB_SUBNETS[2:])},
         ["network_subnets[1].cidr", "overlaps network_subnets[0].cidr"]),
    Case("duplicate AZ letter", {"network_subnets": subnets(LAB_SUBNETS[0], LAB_SUBNETS[1], ("10.0.20.0/24", "a", "public"), LAB_SUBNETS[3])},
         ["network_subnets[2]", "repeats tier public in AZ a"]),
    Case("AZ not a letter", {"network_subnets": subnets(("10.0.10.0/24", "ap-northeast-2a", "public"), *LAB_SUBNETS[1:])},
         ["network_subnets[0].az", "one availability zone letter"]),
    Case("unknown AZ letter", {"network_subnets": subnets(LAB_SUBNETS[0], LAB_SUBNETS[1], ("10.0.20.0/24", "z", "public"), LAB_SUBNETS[3])},
         ["network_subnets[2].az", "not an availability zone of region ap-northeast-2"]),
    Case("empty subnet list", {"network_subnets": []}, ["network_subnets", "at least one subnet"]),
    Case("no public subnet", {"network_subnets": subnets(LAB_SUBNETS[1], LAB_SUBNETS[3])},
         ["network_subnets", "no public subnet to host the NAT gateway"]),
    Case("subnets all in one AZ", {"network_subnets": subnets(LAB_SUBNETS[0], LAB_SUBNETS[1])},
         ["network_subnets has public subnets in 1 AZ (a)", "the load balancer needs public subnets in at least two AZs"]),
    Case("no private subnet", {"network_subnets": subnets(LAB_SUBNETS[0], LAB_SUBNETS[2])},
         ["network_subnets has no private subnet for the Auto Scaling group"]),
    Case("no public subnet in AZ a", {"network_subnets": subnets(("10.0.10.0/24", "b", "public"), LAB_SUBNETS[1], *LAB_SUBNETS[2:])},
         ["network_subnets has no public subnet in AZ a", "builder runs in Public subnet A"]),
    Case("subnet key misspelt", {"network_subnets": [{"cidr": "10.0.10.0/24", "az": "a", "tire": "public"}] + subnets(*LAB_SUBNETS[1:])},
         ["network_subnets[0] has unknown keys tire", "network_subnets[0].tier is required"]),
    Case("unknown region", {"aws_region": "xx-fake-1"},
         ['network_region (aws_region) "xx-fake-1" is not a region where botocore knows EC2']),
    Case("region with a trailing newline", {"aws_region": "ap-northeast-2\n"},
         ['network_region (aws_region) "ap-northeast-2\\n" is not a region', "did you mean ap-northeast-2?"]),
    Case("network region apart from the others", {"network_region": "us-east-1"},
         ['network_region "us-east-1" differs from aws_region "ap-northeast-2"']),
    Case("network tags not a dict", {"network_tags": "owner=me"}, ['network_tags "owner=me" must be a dict']),
    Case("a tag key the collection sets", {"network_tags": {"Name": "mine"}}, ['network_tags key "Name" is reserved']),
    Case("negative network timeout", {"network_wait_timeout": -5}, ["network_wait_timeout -5", ">= 0"]),
    # the stack name
    Case("stack name with characters AWS rejects", {"stack_name": "my_lab!"},
         ["stack_name", "\"my_lab!\"", "letters, digits and hyphens"]),
    Case("stack name too long for the load balancer name", {"stack_name": "a-very-long-stack-name-of-30ch"},
         ["stack_name", "1 to 24"]),
    Case("stack name with a trailing newline", {"stack_name": "lab\n"}, ['stack_name "lab\\n" must be 1 to 24']),
    Case("empty stack name", {"stack_name": ""}, ['stack_name "" must be 1 to 24']),
    # types: no `| int` coercion of text
    Case("min size text", {"asg_min_size": "abc"}, ['asg_min_size "abc" must be a whole number >= 0']),
    Case("min size a fraction", {"asg_min_size": "2.5"}, ['asg_min_size "2.5" must be a whole number >= 0']),
    Case("max size a list", {"asg_max_size": [4]}, ["asg_max_size [4] must be a whole number >= 1"]),
    Case("desired capacity a bool", {"asg_desired_capacity": True}, ["asg_desired_capacity true must be a whole number"]),
    Case("CPU target text", {"asg_cpu_target_value": "high"}, ['asg_cpu_target_value "high" must be a number > 0']),
    Case("flag neither true nor false", {"web_ami_probe_http": "maybe"}, ['web_ami_probe_http "maybe" must be true or false']),
    Case("health check interval with a unit", {"alb_health_check_interval": "10s"},
         ['alb_health_check_interval "10s" must be a whole number from 5 to 300']),
    # web_ami
    Case("negative image timeout", {"web_ami_wait_timeout": -1}, ["web_ami_wait_timeout -1", ">= 0"]),
    Case("zero image poll interval", {"web_ami_poll_interval": 0}, ["web_ami_poll_interval 0", "> 0"]),
    Case("negative images kept", {"web_ami_keep_previous": -1}, ["web_ami_keep_previous -1", ">= 0"]),
    Case("load test longer than the app allows", {"web_ami_load_seconds": 7200}, ["web_ami_load_seconds 7200", "from 1 to 3600"]),
    Case("app port out of range", {"web_ami_app_port": 70000}, ["web_ami_app_port 70000", "from 1 to 65535"]),
    Case("image name with a character AMI names refuse", {"web_ami_image_name": "Web Server!"},
         ['web_ami_image_name "Web Server!" (11 characters) must be 1 to 120 letters']),
    Case("base image id malformed", {"web_ami_base_image_id": "ami-xyz"}, ['web_ami_base_image_id "ami-xyz"', "must be an AMI id"]),
    Case("builder type empty", {"web_ami_instance_type": ""}, ['web_ami_instance_type "" (0 characters) must be an EC2 instance type']),
    # alb
    Case("load balancer name longer than 32", {"alb_name": "Web-ALB-" + "x" * 30}, ["alb_name", "(38 characters)", "1 to 32"]),
    Case("target group name longer than 32", {"alb_target_group_name": "Web-TG-" + "y" * 30},
         ["alb_target_group_name", "(37 characters)", "1 to 32"]),
    Case("load balancer name with an underscore", {"alb_name": "Web_ALB"}, ["alb_name", "letters, digits and hyphens"]),
    Case("load balancer name with a trailing newline", {"alb_name": "Web-ALB\n"}, ['alb_name "Web-ALB\\n"', "1 to 32"]),
    Case("load balancer name a list", {"alb_name": ["Web-ALB"]}, ['alb_name ["Web-ALB"]', "1 to 32"]),
    Case("empty target group name", {"alb_target_group_name": ""}, ['alb_target_group_name ""', "1 to 32"]),
    Case("health check timeout not below its interval", {"alb_health_check_timeout": 10},
         ["alb_health_check_timeout 10", "less than alb_health_check_interval 10"]),
    Case("health check path without its slash", {"alb_health_check_path": "health"}, ['alb_health_check_path "health"', "must be a path that starts with /"]),
    Case("health check matcher a class", {"alb_health_check_matcher": "2xx"}, ['alb_health_check_matcher "2xx"', "must be HTTP codes"]),
    Case("ingress CIDR given as text", {"alb_ingress_cidrs": "0.0.0.0/0"}, ['alb_ingress_cidrs "0.0.0.0/0" must be a list']),
    Case("ingress CIDR with host bits", {"alb_ingress_cidrs": ["10.0.0.1/16"]}, ['alb_ingress_cidrs ["10.0.0.1/16"] must be IPv4 or IPv6']),
    Case("security group name AWS reserves", {"alb_security_group_name": "sg-web"}, ['alb_security_group_name "sg-web"', "not starting with sg-"]),
    Case("certificate that is not an ARN", {"alb_certificate_arn": "my-cert"}, ['alb_certificate_arn "my-cert"', "must be an ACM or IAM certificate ARN"]),
    Case("load balancer tag ELB refuses", {"alb_tags": {"Owner": "<me>"}}, ['alb_tags["Owner"] "<me>" must be at most 256 letters']),
    Case("negative load balancer timeout", {"alb_wait_timeout": -1}, ["alb_wait_timeout -1", ">= 0"]),
    # asg
    Case("min greater than max", {"asg_min_size": 5, "asg_max_size": 4}, ["asg_min_size 5", "<= asg_max_size 4"]),
    Case("desired above max", {"asg_desired_capacity": 5}, ["asg_desired_capacity 5", "between asg_min_size 2 and asg_max_size 4"]),
    Case("desired below min", {"asg_desired_capacity": 1}, ["asg_desired_capacity 1", "between asg_min_size 2 and asg_max_size 4"]),
    Case("CPU target zero", {"asg_cpu_target_value": 0}, ["asg_cpu_target_value 0", "> 0 and <= 100"]),
    Case("CPU target above 100", {"asg_cpu_target_value": 150}, ["asg_cpu_target_value 150", "> 0 and <= 100"]),
    Case("negative group timeout", {"asg_wait_timeout": -10}, ["asg_wait_timeout -10", ">= 0"]),
    Case("refresh healthy percentage above 100", {"asg_refresh_min_healthy_percentage": 150},
         ["asg_refresh_min_healthy_percentage 150", "from 0 to 100"]),
    Case("unknown group metric", {"asg_metrics": ["GroupInService"]}, ['asg_metrics ["GroupInService"] must be a list of Auto Scaling group metrics']),
    Case("health check type in lower case", {"asg_health_check_type": "elb"}, ['asg_health_check_type "elb" must be one of ELB, EC2']),
    Case("root volume type that cannot boot", {"asg_root_volume_type": "sc1"}, ['asg_root_volume_type "sc1" must be one of gp3, gp2, standard']),
    Case("instance port apart from the target group's", {"asg_instance_port": 8080}, ["asg_instance_port 8080 must be 80"]),
    Case("launch template name with a trailing newline", {"asg_launch_template_name": "Web\n"}, ['asg_launch_template_name "Web\\n"', "must be 3 to 128"]),
    Case("security group description with an en dash", {"asg_security_group_description": "HTTP \u2013 allow"},
         ['asg_security_group_description "HTTP \\u2013 allow"', "must be at most 255 letters"]),
    Case("group tags a list", {"asg_tags": ["owner"]}, ['asg_tags ["owner"] must be a dict']),
    Case("instance type in capitals", {"asg_instance_type": "T2.Micro"}, ['asg_instance_type "T2.Micro"', "must be an EC2 instance type"]),
    # what only the region can answer (the pre_tasks' read-only look-up)
    Case("instance type the region does not have", {"asg_instance_type": "t2.nonsense"},
         ["asg_instance_type t2.nonsense is not offered in ap-northeast-2a, ap-northeast-2c", "no zone: is the type right?"]),
    Case("instance type not offered in a chosen AZ", {"asg_instance_type": "p5.48xlarge"},
         ["asg_instance_type p5.48xlarge is not offered in ap-northeast-2c (this region offers it in ap-northeast-2a)"]),
    Case("builder type not offered in AZ a", {"web_ami_instance_type": "t2.nonsense"},
         ["web_ami_instance_type t2.nonsense is not offered in ap-northeast-2a"]),
]
# The pre_tasks of site.yml a case fails in: the input check, or (after its read-only look-up) the
# check of the AZ letters and instance types against the region. Nothing of a role has run there.
STATIC, LOOKUP = "Check the input of every role", "Check the AZ letters and the instance types against the region"
NEEDS_THE_REGION = {"unknown AZ letter", "instance type the region does not have", "instance type not offered in a chosen AZ",
                    "builder type not offered in AZ a"}
# Numbers and flags as text, all accepted: the host gets past the input check and fails on the
# instance type only (as -e passes them: -e asg_min_size=2 is the text "2").
AS_TEXT = Case("numbers and flags given as text that reads as them", dict(
    asg_min_size="2", asg_max_size="4", asg_desired_capacity="3", asg_cpu_target_value="30.5", asg_poll_interval="0.5",
    web_ami_probe_http="no", asg_wait_healthy="yes", alb_health_check_interval="10", alb_health_check_matcher=200,
    network_wait_timeout="600", web_ami_app_port="80", asg_instance_type="t2.nonsense"),
    ["asg_instance_type t2.nonsense is not offered in ap-northeast-2a, ap-northeast-2c (this region offers it in no zone: is the type right?)"])


def test_the_table_covers_the_rules():
    assert len(CASES) >= 40
    assert len(set(c.name for c in CASES)) == len(CASES)
    prefixes = set(re.match(r"[a-z]+", key).group(0) for c in CASES for key in c.extra)
    assert {"network", "web", "alb", "asg", "stack", "aws"} <= prefixes


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOT_INPUT = {"ha_web_network", "ha_web_alb", "ha_web_cloud_is_emulated"}


@pytest.mark.parametrize("role", ["network", "web_ami", "alb", "asg"])
def test_every_option_of_a_role_has_a_rule(role):
    """Each variable a role documents is checked by its vars/main.yml (a variable without a check
    would be read with `| int` or `| bool` after the network exists)."""
    import yaml

    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    with open(os.path.join(ROOT, "roles", role, "vars", "main.yml")) as handle:
        rules = handle.read()
    rules = rules.split("\n# ---")[0]  # the checks come first, then what the role plans (if it plans in vars)
    missing = sorted(name for name in options if name not in NOT_INPUT and not re.search(r"\b%s\b" % name, rules))
    assert missing == []


# The stack's lock (stack_lock), taken after the static checks and released at the end: the hosts
# that reach the look-up (under the lock) take and release it. Not a change of the stack.
LOCK_CALLS = ("PutParameter", "DeleteParameter")


# Cases share a host when they set unrelated variables: each host's message lists every mistake, and
# each case's words are looked for in it. Variables of one domain interact (a bad VPC CIDR stops
# the subnet checks, min and max are compared...); a bad stack name hides the messages of the names
# built from it; a case that needs the region's answer shares only with its kind.
DOMAINS = {"network_vpc_cidr": "network", "network_subnets": "network", "network_nat_subnet": "network",
           "asg_min_size": "sizes", "asg_max_size": "sizes", "asg_desired_capacity": "sizes",
           "alb_health_check_timeout": "health check", "alb_health_check_interval": "health check",
           "asg_instance_port": "port", "web_ami_app_port": "port", "aws_region": "region", "network_region": "region"}


def pack(cases):
    """[(task the host must fail in, [cases])], the cases packed onto as few hosts as may share."""
    hosts = []
    for case in cases:
        task = LOOKUP if case.name in NEEDS_THE_REGION or case is AS_TEXT else STATIC
        domains = set(DOMAINS.get(key, key) for key in case.extra)
        alone = "stack_name" in case.extra or case is AS_TEXT
        for host in hosts:
            if not alone and not host["alone"] and host["task"] == task and not host["domains"] & domains:
                host["domains"] |= domains
                host["cases"].append(case)
                break
        else:
            hosts.append({"task": task, "domains": domains, "alone": alone, "cases": [case]})
    return [(host["task"], host["cases"]) for host in hosts]


def test_packing_keeps_interacting_cases_apart():
    hosts = pack(CASES + [AS_TEXT])
    assert sorted(c.name for _task, cases in hosts for c in cases) == sorted(c.name for c in CASES + [AS_TEXT])
    for task, cases in hosts:
        domains = [d for c in cases for d in set(DOMAINS.get(key, key) for key in c.extra)]
        assert len(domains) == len(set(domains)), [c.name for c in cases]
        assert len(cases) == 1 or not any("stack_name" in c.extra for c in cases)
    assert len(hosts) < len(CASES) / 2


def inventory_of(hosts, stack_name="lab"):
    """One inventory host per packed host (group stacks), the cases' variables as host vars."""
    variables = {}
    for index, (_task, cases) in enumerate(hosts):
        # Hosts past the static checks take the stack's lock: one stack each (one run may not hold a lock twice).
        stack = stack_name if _task == STATIC else "%s-%02d" % (stack_name, index)
        variables["case-%02d" % index] = dict({"stack_name": stack}, **dict(kv for c in cases for kv in c.extra.items()))
    handle, path = tempfile.mkstemp(prefix="ha-web-bad-input-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump({"stacks": {"hosts": variables}}, out)
    return path


FATAL = re.compile(r"^fatal: \[([^\]]+)\]: FAILED! => (\{.*\})$")
TASK = re.compile(r"^TASK \[(.*)\] \*+$")


def failures(output):
    """host -> (task name, msg) of each failure (the json result format: one line per result)."""
    found, task = {}, None
    for line in output.splitlines():
        header = TASK.match(line)
        if header:
            task = header.group(1)
            continue
        fatal = FATAL.match(line)
        if fatal:
            found[fatal.group(1)] = (task, json.loads(fatal.group(2)).get("msg", ""))
    return found


def run_table(target, proxy, cases):
    hosts = pack(cases)
    inventory = inventory_of(hosts)
    try:
        run = R.run(target, "site.yml", "-i", inventory, "--limit", "case-*", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    finally:
        os.unlink(inventory)
    failed = failures(run.output)
    problems = []
    for index, (task, host_cases) in enumerate(hosts):
        host = "case-%02d" % index
        if host not in failed:
            problems.append("%s: accepted %s" % (host, [c.name for c in host_cases]))
            continue
        failed_in, msg = failed[host]
        if failed_in != task:
            problems.append("%s %s: failed in %r, not in %r: %s" % (host, [c.name for c in host_cases], failed_in, task, msg))
        for case in host_cases:
            missing = [e for e in case.expect if e not in msg]
            if missing:
                problems.append("%s %s: %r not in %s" % (host, case.name, missing, msg))
            if case is AS_TEXT and msg != case.expect[0]:
                problems.append("%s %s: more than the instance type refused: %s" % (host, case.name, msg))
    mutating = [r["action"] for r in proxy.record if r["mutating"] and r["action"] not in LOCK_CALLS]
    locks = [r["action"] for r in proxy.record if r["action"] in LOCK_CALLS]
    assert locks.count("PutParameter") == locks.count("DeleteParameter"), "a lock was not released: %s" % locks
    assert problems == [] and mutating == [], "%s\nmutating calls: %s\n%s" % ("\n".join(problems), mutating, run.output[-3000:])
    assert run.rc != 0
    return run


def test_every_bad_input_fails_before_any_change(cloud):
    with R.AwsProxy(cloud.url) as proxy:
        run_table(R.proxied(cloud, proxy), proxy, CASES + [AS_TEXT])
        # the hosts past the static checks looked up the network and the offerings, nothing else
        # (and who holds the names the roles would create: load balancer, target group, group, template, security groups)
        assert set(r["action"] for r in proxy.record) <= {"DescribeTags", "DescribeAvailabilityZones", "DescribeInstanceTypeOfferings",
                                                          "DescribeLoadBalancers", "DescribeTargetGroups", "DescribeAutoScalingGroups",
                                                          "DescribeLaunchTemplates", "DescribeSecurityGroups", "GetParameter"} | set(LOCK_CALLS)


def test_numbers_given_as_text_on_the_command_line(cloud):
    """-e key=value passes text: "abc", "2.5" and "-1" are refused for a count, each named."""
    with R.AwsProxy(cloud.url) as proxy:
        run = R.run(R.proxied(cloud, proxy), "site.yml", "-e", "asg_min_size=abc", "-e", "asg_max_size=2.5",
                    "-e", "asg_health_check_grace_period=-1", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
        assert [r for r in proxy.record if r["mutating"]] == []
    task, msg = failures(run.output)["lab"]
    assert run.rc != 0 and task == STATIC
    for expected in ['asg_min_size "abc" must be a whole number >= 0', 'asg_max_size "2.5" must be a whole number >= 1',
                     'asg_health_check_grace_period "-1" must be a whole number >= 0']:
        assert expected in msg, run.output[-3000:]


def test_the_bad_inputs_left_nothing(cloud):
    assert R.left_over(cloud.baseline, R.inventory(cloud.url)) == {}


if R.FULL:  # defined only in the full scope (a skipped test would prove nothing)
    def test_every_bad_input_on_a_deployed_stack_fails_before_any_change(cloud):
        run = R.run(cloud, "site.yml")
        assert run.rc == 0, run.output[-4000:]
        try:
            with R.AwsProxy(cloud.url) as proxy:
                run_table(R.proxied(cloud, proxy), proxy, CASES + [AS_TEXT])
        finally:
            run = R.run(cloud, "teardown.yml")
            assert run.rc == 0, run.output[-4000:]
