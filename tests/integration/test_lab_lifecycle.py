"""The whole lab on a fresh embedded cloud: deploy, look, rerun, scale-out rerun, teardown.

The tests of this module run in order against one cloud; each step needs the previous one.
"""
import json
import os
import re
import sys

import boto3
import pytest

from lab_env import ROOT, check_lab, playbook

REGION = "ap-northeast-2"
OUTPUTS = os.path.join(ROOT, "outputs", "lab.%s.json" % REGION)
# What the dashboard lab-ha-web plots (issue 20), as (namespace, metric, dimension names).
DASHBOARD_METRICS = {
    ("AWS/AutoScaling", "GroupInServiceInstances", ("AutoScalingGroupName",)),
    ("AWS/AutoScaling", "GroupDesiredCapacity", ("AutoScalingGroupName",)),
    ("AWS/EC2", "CPUUtilization", ("AutoScalingGroupName",)),
    ("AWS/ApplicationELB", "RequestCount", ("LoadBalancer",)),
    ("AWS/ApplicationELB", "TargetResponseTime", ("LoadBalancer",)),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ("LoadBalancer",)),
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", ("LoadBalancer",)),
    ("AWS/ApplicationELB", "HealthyHostCount", ("AvailabilityZone", "LoadBalancer", "TargetGroup")),
}


def client(cloud, service):
    return boto3.client(service, region_name=REGION, endpoint_url=cloud.url, aws_access_key_id="testing", aws_secret_access_key="testing")


def dashboards(cloud):
    return [d["DashboardName"] for d in client(cloud, "cloudwatch").list_dashboards()["DashboardEntries"]]


def changed_tasks(output):
    """The names of the tasks that reported a change."""
    chunks = re.split(r"^TASK \[", output, flags=re.M)[1:]
    return [chunk.split("] ", 1)[0] for chunk in chunks if "\nchanged: [" in chunk]


if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tests.proxy.awsproxy import AwsProxy  # noqa: E402

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
                    "would create Auto Scaling group plan-only-Web-ASG", "would create CloudWatch dashboard plan-only-ha-web"):
        assert planned in run.output, planned
    # network: the Elastic IP, the VPC and the plan of what needs their ids; alb, web_ami: one each;
    # asg: its security group, launch template, group, policy and dashboard; the outputs file
    assert run.changed() == 3 + 1 + 1 + 5 + 1, run.output[-4000:]
    ec2, elbv2, autoscaling = (boto3.client(service, region_name=REGION, endpoint_url=lab["cloud"].url,
                                            aws_access_key_id="testing", aws_secret_access_key="testing")
                               for service in ("ec2", "elbv2", "autoscaling"))
    tagged = [{"Name": "tag:ha_web:stack", "Values": ["plan-only"]}]
    assert ec2.describe_vpcs(Filters=tagged)["Vpcs"] == []
    assert ec2.describe_addresses(Filters=tagged)["Addresses"] == []
    assert not [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"].startswith("plan-only")]
    assert not [g for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
                if g["AutoScalingGroupName"].startswith("plan-only")]
    assert "plan-only-ha-web" not in dashboards(lab["cloud"])


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


def test_the_dashboard_plots_the_group_and_the_load_balancer(lab):
    body = json.loads(client(lab["cloud"], "cloudwatch").get_dashboard(DashboardName="lab-ha-web")["DashboardBody"])
    plotted = {}
    for widget in body["widgets"]:
        for metric in widget["properties"].get("metrics", []):
            fields = [f for f in metric if not isinstance(f, dict)]
            plotted.setdefault((fields[0], fields[1], tuple(sorted(fields[2::2]))), []).append(dict(zip(fields[2::2], fields[3::2])))
    assert set(plotted) == DASHBOARD_METRICS
    assert plotted[("AWS/AutoScaling", "GroupInServiceInstances", ("AutoScalingGroupName",))] == [{"AutoScalingGroupName": "Web-ASG"}]
    healthy = plotted[("AWS/ApplicationELB", "HealthyHostCount", ("AvailabilityZone", "LoadBalancer", "TargetGroup"))]
    assert sorted(d["AvailabilityZone"] for d in healthy) == ["ap-northeast-2a", "ap-northeast-2c"]
    assert all(d["LoadBalancer"].startswith("app/Web-ALB/") and d["TargetGroup"].startswith("targetgroup/Web-TG/") for d in healthy)
    cpu = [w["properties"] for w in body["widgets"] if "CPUUtilization" in json.dumps(w)][0]
    assert cpu["annotations"]["horizontal"][0]["value"] == 30
    # The outputs file and the summary name it and price the stack.
    with open(OUTPUTS) as f:
        outputs = json.load(f)
    url = "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2#dashboards:name=lab-ha-web"
    assert outputs["dashboard"] == {"name": "lab-ha-web", "url": url}
    cost = outputs["cost"]
    assert cost["priced"] and cost["usage"]["nat_gateways"] == 1 and cost["usage"]["instances"] == 2
    assert abs(cost["monthly"] - cost["hourly"] * 730) < 0.05  # the hourly total is rounded to 4 places
    fresh = lab["fresh"].output
    assert url in fresh and "Cost estimate: $%.4f/hour, $%.2f/month" % (cost["hourly"], cost["monthly"]) in fresh


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
    # No resource changes; the outputs file's cost estimate now counts 4 InService instances.
    assert changed_tasks(run.output) == ["Write the outputs file of lab"], run.output[-4000:]
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["Web-ASG"])["AutoScalingGroups"][0]
    assert group["DesiredCapacity"] == 4
    with open(OUTPUTS) as f:
        assert json.load(f)["cost"]["usage"]["instances"] == 4


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
    assert "lab-ha-web" not in dashboards(lab["cloud"])


def test_second_teardown_is_a_no_op(lab):
    run = playbook(lab["cloud"], "teardown.yml")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]
