# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting until an Auto Scaling group has N instances InService and Healthy (and healthy in its
target group), with a timeline of what was seen and the group's scaling activities."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import stack

# An account or endpoint that refuses these calls must not fail the wait.
REFUSED_CODES = (
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "NotImplemented",
    "InvalidAction",
    "UnsupportedOperation",
    "OptInRequired",
)


class CapacityError(Exception):
    def __init__(self, message, last=None, timed_out=False):
        super(CapacityError, self).__init__(message)
        self.last = last
        self.timed_out = timed_out


def describe_group(asg, group_name):
    resp = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name], aws_retry=True)
    groups = resp.get("AutoScalingGroups") or []
    return groups[0] if groups else None


def target_health(elbv2, target_group_arn):
    """{instance id: (state, reason)} of the target group's registered targets."""
    resp = elbv2.describe_target_health(TargetGroupArn=target_group_arn, aws_retry=True)
    health = {}
    for d in resp.get("TargetHealthDescriptions") or []:
        state = d.get("TargetHealth") or {}
        health[d["Target"]["Id"]] = (state.get("State"), state.get("Reason"))
    return health


def wanted_count(group, desired):
    """The number to wait for: an int, 'max', 'min' or None/'desired' (the group's DesiredCapacity, read live)."""
    if desired is None or desired == "desired":
        return group["DesiredCapacity"]
    if desired == "max":
        return group["MaxSize"]
    if desired == "min":
        return group["MinSize"]
    return int(desired)


def foreign_group_error(group, stack_name):
    """A message when the group's tags do not carry exactly stack_name (someone else's group: never
    waited for), else None."""
    if stack.carries_stack(group.get("Tags"), stack_name):
        return None
    holder = stack.tag_value(group.get("Tags"), stack.STACK_TAG)
    return "Auto Scaling group %s is not stack %s's (its tag %s is %s): not waiting for someone else's group" % (
        group["AutoScalingGroupName"], stack_name, stack.STACK_TAG, "missing" if holder is None else repr(holder))


def snapshot(asg, elbv2, group_name, target_group_arn=None, stack_name=None):
    """The group and its instances as seen now. With stack_name, a group whose tags do not carry
    exactly that stack raises CapacityError (no last state: nothing of it is reported)."""
    group = describe_group(asg, group_name)
    if group is None:
        raise CapacityError("Auto Scaling group %s not found" % group_name)
    foreign = foreign_group_error(group, stack_name) if stack_name else None
    if foreign:
        raise CapacityError(foreign)
    health = target_health(elbv2, target_group_arn) if target_group_arn else None
    instances = []
    for i in sorted(group.get("Instances") or [], key=lambda x: x["InstanceId"]):
        in_target_group = (None, None) if health is None else health.get(i["InstanceId"], ("unregistered", None))
        instances.append({
            "instance_id": i["InstanceId"],
            "availability_zone": i.get("AvailabilityZone"),
            "lifecycle_state": i.get("LifecycleState"),
            "health_status": i.get("HealthStatus"),
            "target_health": in_target_group[0],
            "target_health_reason": in_target_group[1],
        })
    return {
        "group_name": group["AutoScalingGroupName"],
        "desired_capacity": group["DesiredCapacity"],
        "min_size": group["MinSize"],
        "max_size": group["MaxSize"],
        "group": group,
        "instances": instances,
    }


def is_ready(instance):
    return (instance["lifecycle_state"] == "InService" and instance["health_status"] == "Healthy"
            and instance["target_health"] in (None, "healthy"))


def counts(state):
    inst = state["instances"]
    return {
        "in_service": sum(1 for i in inst if i["lifecycle_state"] == "InService"),
        "healthy": sum(1 for i in inst if is_ready(i)),
        "desired_capacity": state["desired_capacity"],
        "instances": len(inst),
    }


def not_ready(instances):
    """Why each instance that is not ready is not, in words (lifecycle, health, target health and its reason)."""
    out = []
    for i in instances:
        if is_ready(i):
            continue
        why = [i["lifecycle_state"] or "?", i["health_status"] or "?"]
        if i["target_health"] is not None:
            why.append("target %s%s" % (i["target_health"], (" (%s)" % i["target_health_reason"]) if i.get("target_health_reason") else ""))
        out.append("%s %s" % (i["instance_id"], ", ".join(why)))
    return out


def progress_message(state, wanted, group_name, target_group_arn=None):
    """What the wait waits for and what the last poll saw: counts, and why each instance is not ready yet."""
    c = counts(state)
    waiting = not_ready(state["instances"])
    return "waiting for %d instances InService and healthy in group %s%s: %d ready, %d in service, desired capacity %d%s" % (
        wanted, group_name, " and its target group" if target_group_arn else "", c["healthy"], c["in_service"],
        c["desired_capacity"], ("; not ready: " + "; ".join(waiting)) if waiting else "")


def per_az(instances, ready_only=True):
    out = {}
    for i in instances:
        if ready_only and not is_ready(i):
            continue
        az = i.get("availability_zone") or "unknown"
        out[az] = out.get(az, 0) + 1
    return out


def scaling_activities(asg, group_name, max_records=50):
    """(activities, error): a refused or unimplemented call gives ([], reason) instead of failing."""
    try:
        resp = asg.describe_scaling_activities(AutoScalingGroupName=group_name, MaxRecords=max_records, aws_retry=True)
    except botocore.exceptions.ClientError as e:
        code = stack.error_code(e)
        if code in REFUSED_CODES:
            return [], "DescribeScalingActivities refused (%s): %s" % (code, (e.response.get("Error") or {}).get("Message", ""))
        raise
    except NotImplementedError as e:
        return [], "DescribeScalingActivities is not implemented by this endpoint: %s" % e
    out = []
    for a in resp.get("Activities") or []:
        out.append({
            "activity_id": a.get("ActivityId"),
            "description": a.get("Description"),
            "cause": a.get("Cause"),
            "status_code": a.get("StatusCode"),
            "progress": a.get("Progress"),
            "start_time": _iso(a.get("StartTime")),
            "end_time": _iso(a.get("EndTime")),
        })
    return out, None


def launch_times(ec2, instance_ids):
    """({instance id: ISO launch time}, error) from DescribeInstances; refused -> ({}, reason)."""
    if not instance_ids:
        return {}, None
    try:
        resp = ec2.describe_instances(InstanceIds=list(instance_ids), aws_retry=True)
    except botocore.exceptions.ClientError as e:
        code = stack.error_code(e)
        if code in REFUSED_CODES or code == "InvalidInstanceID.NotFound":
            return {}, "DescribeInstances: %s" % code
        raise
    out = {}
    for r in resp.get("Reservations") or []:
        for i in r.get("Instances") or []:
            out[i["InstanceId"]] = _iso(i.get("LaunchTime"))
    return out, None


def _iso(value):
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class Tracker:
    """Keeps the timeline (one entry per change of the counts) and when each instance was first
    seen InService and ready, in seconds since the wait started."""

    def __init__(self, clock=time.monotonic, wall=time.time):
        self.clock, self.wall = clock, wall
        self.start = clock()
        self.start_epoch = wall()
        self.timeline = []
        self.first_in_service = {}
        self.first_ready = {}
        self.polls = 0

    def observe(self, state):
        self.polls += 1
        t = round(self.clock() - self.start, 3)
        c = counts(state)
        entry = {"t": t, "epoch": round(self.start_epoch + t, 3), "in_service": c["in_service"], "healthy": c["healthy"],
                 "desired_capacity": c["desired_capacity"]}
        key = (entry["in_service"], entry["healthy"], entry["desired_capacity"])
        if self.timeline and self.timeline[-1].get("_key") == key:
            self.timeline[-1]["last_seen"] = t
        else:
            entry["_key"] = key
            self.timeline.append(entry)
        for i in state["instances"]:
            if i["lifecycle_state"] == "InService":
                self.first_in_service.setdefault(i["instance_id"], t)
            if is_ready(i):
                self.first_ready.setdefault(i["instance_id"], t)
        return state

    def public_timeline(self):
        return [dict((k, v) for k, v in e.items() if k != "_key") for e in self.timeline]


def wait_for_capacity(asg, elbv2, group_name, target_group_arn=None, desired=None, timeout=600, interval=15,
                      sleep=None, clock=None, wall=None, stack_name=None):
    """Poll until wanted_count() instances are ready. Returns (state, tracker, wanted). With
    stack_name, only a group that carries exactly that stack's tag is waited for.

    sleep/clock/wall default to time.sleep/time.monotonic/time.time, looked up at call time (patchable).
    Raises CapacityError (last state attached) on timeout or when the count can never be reached."""
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    wall = wall or time.time
    tracker = Tracker(clock, wall)
    wanted = {}

    def fetch():
        return tracker.observe(snapshot(asg, elbv2, group_name, target_group_arn, stack_name))

    def failed(state):
        n = wanted_count(state["group"], desired)
        wanted["n"] = n
        if n > state["max_size"]:
            return "waiting for %d instances can never succeed: the group %s has MaxSize %d" % (n, group_name, state["max_size"])
        return None

    def done(state):
        return counts(state)["healthy"] >= wanted["n"]

    try:
        state = stack.poll(fetch, done, timeout, interval, failed=failed, sleep=sleep, clock=clock)
    except stack.WaitTimeout as e:
        raise CapacityError("timed out after %ss %s" % (timeout, progress_message(e.last, wanted["n"], group_name, target_group_arn)),
                            (e.last, tracker, wanted["n"]), timed_out=True)
    except stack.WaitFailed as e:
        raise CapacityError(str(e), (e.last, tracker, wanted.get("n")))
    return state, tracker, wanted["n"]


def describe_result(state, tracker, wanted, launched=None):
    """The module's return values for a state."""
    launched = launched or {}
    instances = []
    for i in state["instances"]:
        item = dict(i)
        item["launch_time"] = launched.get(i["instance_id"])
        item["in_service_at"] = tracker.first_in_service.get(i["instance_id"])
        item["ready_at"] = tracker.first_ready.get(i["instance_id"])
        instances.append(item)
    c = counts(state)
    return {
        "group_name": state["group_name"],
        "wanted": wanted,
        "desired_capacity": state["desired_capacity"],
        "min_size": state["min_size"],
        "max_size": state["max_size"],
        "in_service": c["in_service"],
        "healthy": c["healthy"],
        "instances": instances,
        "per_az": per_az(state["instances"]),
        "timeline": tracker.public_timeline(),
        "started_epoch": round(tracker.start_epoch, 3),
        "elapsed_seconds": round(tracker.clock() - tracker.start, 3),
        "polls": tracker.polls,
    }
