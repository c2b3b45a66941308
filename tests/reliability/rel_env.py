"""Helpers of the reliability suite: scope, a private cloud behind the test proxy, interrupted
playbooks, and an account-wide inventory that sees leaks the stack tag would not.

Reuses tests/integration/lab_env.py (Cloud, playbook, check_lab) and tests/proxy/awsproxy.py.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for path in (os.path.join(ROOT, "tests", "integration"), ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

import boto3  # noqa: E402

from lab_env import BIN, Cloud, check_lab, playbook  # noqa: E402,F401  # pylint: disable=unused-import
from tests.proxy.awsproxy import SLOW_DURATIONS, AwsProxy  # noqa: E402,F401  # pylint: disable=unused-import

REGION = "ap-northeast-2"
# HA_WEB_TEST_SCOPE=full runs every case; unset or `ci` runs a fixed, bounded sample.
SCOPE = os.environ.get("HA_WEB_TEST_SCOPE") or "ci"
FULL = SCOPE == "full"
# Where the playbooks write outputs/<stack>.<region>.json during the tests (not the repository's outputs/).
OUTPUTS = tempfile.mkdtemp(prefix="ha-web-reliability-outputs-")


def pick(full, ci):
    """The cases of this scope: all of `full`, or the fixed sample `ci` (names taken from full)."""
    if FULL:
        return list(full)
    return [case for case in full if case_id(case) in ci]


def case_id(case):
    return getattr(case, "name", None) or str(case)


class Target:
    """What lab_env.playbook() runs against: the proxy in front of a cloud (or the cloud itself)."""

    def __init__(self, cloud, url):
        self.cloud = cloud
        self.url = url

    def env(self, **extra):
        return self.cloud.env(AWS_ENDPOINT_URL=self.url, **extra)


def proxied(cloud, proxy):
    return Target(cloud, proxy.url)


def run(target, name, *args, **env):
    """A playbook run writing its outputs to the test's own directory."""
    return playbook(target, name, "-e", "ha_web_outputs_dir=" + OUTPUTS, *args, **env)


def outputs(stack="lab", region=REGION):
    with open(os.path.join(OUTPUTS, "%s.%s.json" % (stack, region))) as handle:
        return json.load(handle)


def reset(cloud):
    """An empty cloud again (moto's reset), warmed up (its first DescribeImages loads ~1,300 AMIs)."""
    request = urllib.request.Request(cloud.url + "/moto-api/reset", data=b"", method="POST")
    urllib.request.urlopen(request, timeout=30).read()
    client(cloud.url, "ec2").describe_images(Owners=["amazon"], MaxResults=5)
    cloud.baseline = inventory(cloud.url)  # the default VPC and built-in images get new ids


def client(url, service):
    return boto3.client(service, region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


LIVE_INSTANCE = ["pending", "running", "stopping", "stopped", "shutting-down"]


def inventory(url):
    """Every resource of the kinds the lab creates, in the whole account (not only those with the
    stack tag: a resource created by an interrupted call before it was tagged counts too)."""
    ec2, elbv2, autoscaling = client(url, "ec2"), client(url, "elbv2"), client(url, "autoscaling")
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    in_vpcs = [{"Name": "vpc-id", "Values": vpcs}] if vpcs else None
    images = ec2.describe_images(Owners=["self"])["Images"]
    found = {
        "vpc": vpcs,
        "subnet": [s["SubnetId"] for s in ec2.describe_subnets(Filters=in_vpcs)["Subnets"]] if vpcs else [],
        "route_table": [r["RouteTableId"] for r in ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"]] if vpcs else [],
        "security_group": [g["GroupId"] for g in ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]
                           if g["GroupName"] != "default"] if vpcs else [],
        "internet_gateway": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]
                             if not any(a.get("VpcId") not in vpcs for a in g.get("Attachments", []))
                             or not g.get("Attachments")],
        "nat_gateway": [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"]
                        if n["State"] in ("pending", "available", "deleting")],
        "elastic_ip": [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]],
        "instance": [i["InstanceId"] for r in ec2.describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": LIVE_INSTANCE}])["Reservations"] for i in r["Instances"]],
        "image": [i["ImageId"] for i in images],
        # moto's ~1,300 built-in snapshots are slow to list: those of our images, and any tagged
        "snapshot": sorted(set([m["Ebs"]["SnapshotId"] for i in images for m in i.get("BlockDeviceMappings", [])
                                if m.get("Ebs", {}).get("SnapshotId")]
                               + [s["SnapshotId"] for s in ec2.describe_snapshots(
                                   OwnerIds=["self"], Filters=[{"Name": "tag-key", "Values": ["*"]}])["Snapshots"]])),
        "launch_template": [t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]],
        "auto_scaling_group": [g["AutoScalingGroupName"] for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]],
        "load_balancer": [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target_group": [tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]],
    }
    found["listener"] = [li["ListenerArn"] for arn in found["load_balancer"]
                         for li in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]]
    return {kind: sorted(ids) for kind, ids in found.items()}


# What one deployed stack adds to an account: exactly one of everything (route tables: the VPC's
# main one and the lab's two; security groups besides each VPC's default: the load balancer's and
# the instances'; instances: the group's two, no builder).
ONE_STACK = {
    "vpc": 1, "subnet": 4, "route_table": 3, "security_group": 2, "internet_gateway": 1, "nat_gateway": 1,
    "elastic_ip": 1, "instance": 2, "image": 1, "snapshot": 1, "launch_template": 1, "auto_scaling_group": 1,
    "load_balancer": 1, "target_group": 1, "listener": 1,
}


def added(before, after):
    """kind -> ids present after and not before."""
    return {kind: sorted(set(after[kind]) - set(before.get(kind, []))) for kind in after}


def counts(ids_by_kind):
    return {kind: len(ids) for kind, ids in ids_by_kind.items()}


def left_over(before, after):
    """kinds with resources present after that were not there before (must be empty after a teardown)."""
    return {kind: ids for kind, ids in added(before, after).items() if ids}


# --- interrupted runs ------------------------------------------------------------------------

def start(target, name, *args, log_path):
    """ansible-playbook in a session of its own, so that its whole process group can be killed."""
    log = open(log_path, "w")
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", "inventories/local", "playbooks/" + name,
           "-e", "ha_web_outputs_dir=" + OUTPUTS] + list(args)
    env = target.env()
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    process.endpoint = env["AWS_ENDPOINT_URL"]
    process.log = log
    process.log_path = log_path
    return process


def _proc_stat(pid):
    """(state, ppid, session) of a process, or None once it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields after the command: state ppid pgrp session ...
    return fields[0], int(fields[1]), int(fields[3])


def run_sessions(top):
    """The sessions of the playbook's processes: its own and those its workers made.

    ansible-core's WorkerProcess calls setsid() (to detach from the terminal), so a worker, and a
    module it runs, are not in the playbook's process group. Killing "the run" means them too,
    as when a machine dies or a CI job is cancelled.
    """
    children = {}
    for pid in os.listdir("/proc"):
        stat = pid.isdigit() and _proc_stat(pid)
        if stat:
            children.setdefault(stat[1], []).append(int(pid))
    sessions, todo = {top}, [top]
    while todo:
        for child in children.get(todo.pop(), []):
            stat = _proc_stat(child)
            if stat:
                sessions.add(stat[2])
                todo.append(child)
    return sessions


def session_members(sessions):
    members = []
    for pid in os.listdir("/proc"):
        stat = pid.isdigit() and _proc_stat(pid)
        if stat and stat[2] in sessions and stat[0] != "Z":
            members.append(int(pid))
    return members


def detached_jobs(endpoint):
    """The run's async jobs: ansible-core's async_wrapper daemonizes them (fork, setsid, fork), so
    they descend from no process of the run; they carry its environment, whose endpoint is unique."""
    marker = ("AWS_ENDPOINT_URL=%s" % endpoint).encode()
    found = set()
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/environ" % pid, "rb") as handle:
                if marker in handle.read().split(b"\0"):
                    stat = _proc_stat(pid)
                    if stat:
                        found.add(stat[2])
        except (OSError, ValueError):
            continue
    return found


def kill_group(process):
    """SIGKILL the whole run, as when a machine dies or a CI job is cancelled: the playbook's
    process group, its workers' sessions and its async jobs. Returns the pids of those sessions
    still alive after."""
    try:
        os.killpg(process.pid, signal.SIGSTOP)  # no new worker (and session) while we look
    except ProcessLookupError:
        pass
    sessions = run_sessions(process.pid) | detached_jobs(process.endpoint)
    for sid in sessions:
        try:
            os.killpg(sid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(30)
    process.log.close()
    deadline = time.monotonic() + 3
    while True:
        alive = session_members(sessions)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def wait_for(process, proxy, matcher, timeout):
    """Watch the proxy's record until matcher(record) returns a true value; the value, or None if the
    playbook ended or the timeout passed first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hit = matcher(list(proxy.record))
        if hit:
            return hit
        if process.poll() is not None:
            return matcher(list(proxy.record)) or None
        time.sleep(0.01)
    return None


def tail(path, chars=3000):
    with open(path, errors="replace") as handle:
        return handle.read()[-chars:]


def inventory_of_stack(url, stack):
    """Ids and tags of every resource carrying the stack tag (EC2 tags, load balancing, Auto Scaling),
    plus the state that a teardown of another stack could disturb (instances, group capacity)."""
    ec2, elbv2, autoscaling = client(url, "ec2"), client(url, "elbv2"), client(url, "autoscaling")
    tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["ha_web:stack"]}, {"Name": "value", "Values": [stack]}])["Tags"]
    ids = sorted(t["ResourceId"] for t in tags)
    arns = [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]]
    arns += [tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]]
    mine = sorted(d["ResourceArn"] for start in range(0, len(arns), 20)
                  for d in elbv2.describe_tags(ResourceArns=arns[start:start + 20])["TagDescriptions"] if arns
                  if {"Key": "ha_web:stack", "Value": stack} in d.get("Tags", []))
    groups = sorted((g["AutoScalingGroupName"], g["DesiredCapacity"], len(g["Instances"]))
                    for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
                    if {"Key": "ha_web:stack", "Value": stack} in [{"Key": t["Key"], "Value": t["Value"]} for t in g.get("Tags", [])])
    instances = sorted((i["InstanceId"], i["State"]["Name"]) for r in ec2.describe_instances(
        Filters=[{"Name": "tag:ha_web:stack", "Values": [stack]},
                 {"Name": "instance-state-name", "Values": LIVE_INSTANCE}])["Reservations"] for i in r["Instances"])
    return {"ec2": ids, "elbv2": mine, "groups": groups, "instances": instances}
