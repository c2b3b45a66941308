# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web tier of a stack: the instance security group, the launch template, the Auto Scaling
group and its target tracking policy (module web_asg).

Small functions taking boto3 clients (wrapped by stack.aws_client, so every call is made with
aws_retry=True), and one reconciler that runs them in order, in check mode or not.
A no-op present run is five Describe calls and no mutating call. The group's desired capacity
is set when the group is created and never re-asserted (a scale-out survives a rerun).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

try:
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError
except ImportError:  # pragma: no cover - AnsibleAWSModule reports missing botocore
    ClientError = ResponseParserError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import call_until_accepted
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import component_filters
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import error_code
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import poll
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import stack_tags
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG

COMPONENT_SG = "instance-sg"
COMPONENT_LT = "launch-template"
COMPONENT_ASG = "asg"
ASG_NAME_TAG = "aws:autoscaling:groupName"

DEFAULT_METRICS = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
]
METRICS_GRANULARITY = "1Minute"
CPU_METRIC = "ASGAverageCPUUtilization"
LIVE_INSTANCE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]
ACTIVE_REFRESH_STATES = ["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"]
# What an endpoint answers for an API it lacks (moto: HTTP 500 -> ResponseParserError).
UNSUPPORTED_CODES = ["InvalidAction", "NotImplemented", "UnknownOperationException", "UnsupportedOperation"]
LT_NAME_RE = re.compile(r"^[a-zA-Z0-9().\-/_]{3,128}$")
AMI_RE = re.compile(r"^ami-[0-9a-f]{8,17}$")


class AsgError(Exception):
    """A failure the module reports with fail_json (no AWS exception attached)."""


def is_unsupported(exc):
    return isinstance(exc, ResponseParserError) or error_code(exc) in UNSUPPORTED_CODES


# ---------------------------------------------------------------- validation

def validate(params, check_mode=False):
    """Messages for every invalid option (empty when all is well). Runs before any AWS call.

    In check mode the network may itself be only planned (a fresh stack): its subnet ids are
    then null, and count as the subnets the plan would create."""
    errors = []
    p = params
    if p["state"] == "absent":
        _check_names(p, errors)
        _check_non_negative(p, ["wait_timeout"], errors)
        _check_interval(p, errors)
        return errors
    if p["min_size"] < 0:
        errors.append("min_size must be >= 0 (got %d)" % p["min_size"])
    if p["max_size"] < 1:
        errors.append("max_size must be >= 1 (got %d)" % p["max_size"])
    if p["min_size"] > p["max_size"]:
        errors.append("min_size (%d) must be <= max_size (%d)" % (p["min_size"], p["max_size"]))
    elif not p["min_size"] <= p["desired_capacity"] <= p["max_size"]:
        errors.append("desired_capacity (%d) must be between min_size (%d) and max_size (%d)"
                      % (p["desired_capacity"], p["min_size"], p["max_size"]))
    if not 0 < p["cpu_target_value"] <= 100:
        errors.append("cpu_target_value must be > 0 and <= 100 (got %s)" % p["cpu_target_value"])
    if not 0 <= p["refresh_min_healthy_percentage"] <= 100:
        errors.append("refresh_min_healthy_percentage must be between 0 and 100 (got %s)" % p["refresh_min_healthy_percentage"])
    _check_non_negative(p, ["estimated_instance_warmup", "health_check_grace_period", "refresh_instance_warmup", "wait_timeout"], errors)
    _check_interval(p, errors)
    if not [s for s in (p["subnet_ids"] or []) if s or check_mode]:
        errors.append("subnet_ids must list at least one subnet")
    if p["image_id"] and not AMI_RE.match(p["image_id"]):
        errors.append("image_id must look like ami-<8 to 17 hex digits> (got %r)" % p["image_id"])
    if p["root_volume_size"] is not None and p["root_volume_size"] < 1:
        errors.append("root_volume_size must be >= 1 GiB (got %d)" % p["root_volume_size"])
    if not 1 <= p["instance_port"] <= 65535:
        errors.append("instance_port must be between 1 and 65535 (got %d)" % p["instance_port"])
    if not p["metrics"]:
        errors.append("metrics must list at least one group metric")
    _check_names(p, errors)
    if not p["instance_type"]:
        errors.append("instance_type must not be empty")
    if not 1 <= len(p["policy_name"]) <= 255:
        errors.append("policy_name must be 1 to 255 characters (got %d)" % len(p["policy_name"]))
    return errors


def _check_non_negative(p, names, errors):
    for name in names:
        if p[name] is not None and p[name] < 0:
            errors.append("%s must be >= 0 (got %s)" % (name, p[name]))


def _check_interval(p, errors):
    if p["poll_interval"] <= 0:
        errors.append("poll_interval must be > 0 (got %s)" % p["poll_interval"])


def _check_names(p, errors):
    if not LT_NAME_RE.match(p["launch_template_name"] or ""):
        errors.append("launch_template_name must be 3 to 128 characters of letters, digits and ( ) . - / _ (got %r)"
                      % p["launch_template_name"])
    name = p["group_name"] or ""
    if not 1 <= len(name) <= 255 or ":" in name or name != name.strip():
        errors.append("group_name must be 1 to 255 characters, without ':' or surrounding spaces (got %r)" % name)
    sg = p["security_group_name"] or ""
    if not 1 <= len(sg) <= 255 or sg.lower().startswith("sg-"):
        errors.append("security_group_name must be 1 to 255 characters and must not start with 'sg-' (got %r)" % sg)


# ---------------------------------------------------------------- finding by tags

def find_security_group(ec2, stack_name):
    groups = ec2.describe_security_groups(Filters=component_filters(stack_name, COMPONENT_SG), aws_retry=True)["SecurityGroups"]
    return groups[0] if groups else None


def find_launch_template(ec2, stack_name):
    templates = ec2.describe_launch_templates(Filters=component_filters(stack_name, COMPONENT_LT), aws_retry=True)["LaunchTemplates"]
    return templates[0] if templates else None


def find_group(asg, stack_name):
    groups = asg.describe_auto_scaling_groups(Filters=component_filters(stack_name, COMPONENT_ASG), aws_retry=True)["AutoScalingGroups"]
    return groups[0] if groups else None


def describe_group(asg, name):
    groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name], aws_retry=True)["AutoScalingGroups"]
    return groups[0] if groups else None


def template_versions(ec2, template_id, versions):
    """{version number: LaunchTemplateData} for the given versions ('$Latest' allowed), latest number."""
    resp = ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=versions, aws_retry=True)
    found = dict((v["VersionNumber"], v.get("LaunchTemplateData") or {}) for v in resp["LaunchTemplateVersions"])
    return found


def image_root_device(ec2, image_id):
    """(root device name, root volume size in GiB or None) of an AMI."""
    images = ec2.describe_images(ImageIds=[image_id], aws_retry=True)["Images"]
    if not images:
        raise AsgError("image_id %s not found" % image_id)
    image = images[0]
    root = image.get("RootDeviceName") or "/dev/xvda"
    size = None
    for mapping in image.get("BlockDeviceMappings") or []:
        if mapping.get("DeviceName") == root:
            size = (mapping.get("Ebs") or {}).get("VolumeSize")
    return root, size


# ---------------------------------------------------------------- desired shapes

def ingress_permissions(port, source_group_id):
    return [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": source_group_id}]}]


def _flatten_permissions(permissions):
    """A set of (protocol, from, to, kind, source) for comparing rules."""
    rules = set()
    for perm in permissions or []:
        key = (perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"))
        for r in perm.get("IpRanges") or []:
            rules.add(key + ("cidr", r.get("CidrIp")))
        for r in perm.get("Ipv6Ranges") or []:
            rules.add(key + ("cidr6", r.get("CidrIpv6")))
        for r in perm.get("UserIdGroupPairs") or []:
            rules.add(key + ("group", r.get("GroupId")))
        for r in perm.get("PrefixListIds") or []:
            rules.add(key + ("prefix", r.get("PrefixListId")))
    return rules


def _expand_rules(rules):
    perms = []
    for proto, from_port, to_port, kind, source in sorted(rules, key=str):
        perm = {"IpProtocol": proto}
        if from_port is not None:
            perm["FromPort"] = from_port
            perm["ToPort"] = to_port
        if kind == "cidr":
            perm["IpRanges"] = [{"CidrIp": source}]
        elif kind == "cidr6":
            perm["Ipv6Ranges"] = [{"CidrIpv6": source}]
        elif kind == "group":
            perm["UserIdGroupPairs"] = [{"GroupId": source}]
        else:
            perm["PrefixListIds"] = [{"PrefixListId": source}]
        perms.append(perm)
    return perms


def ingress_changes(current_permissions, desired_permissions):
    """(to authorize, to revoke) as IpPermissions lists."""
    current = _flatten_permissions(current_permissions)
    desired = _flatten_permissions(desired_permissions)
    return _expand_rules(desired - current), _expand_rules(current - desired)


def describe_rules(permissions):
    return sorted("%s %s-%s from %s" % (r[0], r[1], r[2], r[4]) for r in _flatten_permissions(permissions))


def launch_template_data(image_id, instance_type, security_group_id, root_device, root_volume_size, p, instance_tags):
    ebs = {"Encrypted": True, "DeleteOnTermination": True, "VolumeType": p["root_volume_type"]}
    if root_volume_size:
        ebs["VolumeSize"] = root_volume_size
    if p["kms_key_id"]:
        ebs["KmsKeyId"] = p["kms_key_id"]
    return {
        "ImageId": image_id,
        "InstanceType": instance_type,
        "NetworkInterfaces": [{
            "DeviceIndex": 0,
            "AssociatePublicIpAddress": False,
            "DeleteOnTermination": True,
            "Groups": [security_group_id],
        }],
        # Hop limit 1: the instance itself reaches the metadata service, a container on it does not.
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
        "Monitoring": {"Enabled": p["detailed_monitoring"]},
        "BlockDeviceMappings": [{"DeviceName": root_device, "Ebs": ebs}],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": ansible_dict_to_boto3_tag_list(instance_tags)},
            {"ResourceType": "volume", "Tags": ansible_dict_to_boto3_tag_list(instance_tags)},
        ],
    }


def normalize_template_data(data):
    """The parts of LaunchTemplateData this module manages, in a comparable form."""
    data = data or {}
    nics = []
    for nic in data.get("NetworkInterfaces") or []:
        nics.append({
            "DeviceIndex": nic.get("DeviceIndex"),
            "AssociatePublicIpAddress": nic.get("AssociatePublicIpAddress"),
            "DeleteOnTermination": nic.get("DeleteOnTermination"),
            "Groups": sorted(nic.get("Groups") or []),
        })
    bdms = []
    for bdm in data.get("BlockDeviceMappings") or []:
        ebs = bdm.get("Ebs") or {}
        bdms.append({
            "DeviceName": bdm.get("DeviceName"),
            "Ebs": dict((k, ebs.get(k)) for k in ("Encrypted", "DeleteOnTermination", "VolumeType", "VolumeSize", "KmsKeyId")),
        })
    meta = data.get("MetadataOptions") or {}
    specs = {}
    for spec in data.get("TagSpecifications") or []:
        # Only what instances launch with (moto also files the template's own tags here).
        if spec.get("ResourceType") in ("instance", "volume"):
            specs[spec.get("ResourceType")] = tags_of(spec)
    return {
        "ImageId": data.get("ImageId"),
        "InstanceType": data.get("InstanceType"),
        "SecurityGroupIds": sorted(data.get("SecurityGroupIds") or []),
        "NetworkInterfaces": nics,
        "MetadataOptions": dict((k, meta.get(k)) for k in ("HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit")),
        "Monitoring": bool((data.get("Monitoring") or {}).get("Enabled")),
        "BlockDeviceMappings": bdms,
        "TagSpecifications": specs,
    }


def template_differences(current, desired):
    a, b = normalize_template_data(current), normalize_template_data(desired)
    return sorted(k for k in b if a.get(k) != b[k])


def group_tags(group_name, tags):
    """[(Key, Value, PropagateAtLaunch)] for the group: all propagate but the component tag."""
    out = []
    for key in sorted(tags):
        out.append({
            "ResourceId": group_name,
            "ResourceType": "auto-scaling-group",
            "Key": key,
            "Value": tags[key],
            "PropagateAtLaunch": key != COMPONENT_TAG,
        })
    return out


def group_tag_changes(current_tags, desired_tags):
    current = dict((t["Key"], (t.get("Value"), bool(t.get("PropagateAtLaunch")))) for t in current_tags or [])
    return [t for t in desired_tags if current.get(t["Key"]) != (t["Value"], t["PropagateAtLaunch"])]


def policy_arguments(group_name, p):
    return {
        "AutoScalingGroupName": group_name,
        "PolicyName": p["policy_name"],
        "PolicyType": "TargetTrackingScaling",
        "EstimatedInstanceWarmup": p["estimated_instance_warmup"],
        "TargetTrackingConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": CPU_METRIC},
            "TargetValue": float(p["cpu_target_value"]),
            "DisableScaleIn": False,
        },
    }


def policy_state(policy):
    if not policy:
        return None
    ttc = policy.get("TargetTrackingConfiguration") or {}
    return {
        "name": policy.get("PolicyName"),
        "type": policy.get("PolicyType"),
        "metric": (ttc.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType"),
        "target_value": float(ttc["TargetValue"]) if ttc.get("TargetValue") is not None else None,
        "disable_scale_in": bool(ttc.get("DisableScaleIn")),
        "estimated_instance_warmup": policy.get("EstimatedInstanceWarmup"),
    }


def group_state(group):
    """The managed settings of a group, for diff and comparison."""
    if not group:
        return None
    lt = group.get("LaunchTemplate") or {}
    return {
        "name": group["AutoScalingGroupName"],
        "launch_template_id": lt.get("LaunchTemplateId"),
        "launch_template_version": lt.get("Version"),
        "min_size": group.get("MinSize"),
        "max_size": group.get("MaxSize"),
        "desired_capacity": group.get("DesiredCapacity"),
        "subnet_ids": sorted(s for s in (group.get("VPCZoneIdentifier") or "").split(",") if s),
        "target_group_arns": sorted(group.get("TargetGroupARNs") or []),
        "health_check_type": group.get("HealthCheckType"),
        "health_check_grace_period": group.get("HealthCheckGracePeriod"),
        "metrics": sorted(m["Metric"] for m in group.get("EnabledMetrics") or []),
        "tags": dict((t["Key"], t.get("Value")) for t in group.get("Tags") or []),
    }


def instances_of(group):
    return [{
        "instance_id": i["InstanceId"],
        "availability_zone": i.get("AvailabilityZone"),
        "lifecycle_state": i.get("LifecycleState"),
        "health_status": i.get("HealthStatus"),
    } for i in (group or {}).get("Instances") or []]


def in_service(group):
    return [i for i in (group or {}).get("Instances") or [] if i.get("LifecycleState") == "InService"]


def clamp(value, low, high):
    return max(low, min(high, value))


# ---------------------------------------------------------------- instance refresh

def active_refresh(asg, group_name):
    """The refresh in progress (dict) or None. Raises what the endpoint raises."""
    resp = asg.describe_instance_refreshes(AutoScalingGroupName=group_name, MaxRecords=10, aws_retry=True)
    for refresh in resp.get("InstanceRefreshes") or []:
        if refresh.get("Status") in ACTIVE_REFRESH_STATES:
            return refresh
    return None


def refresh_arguments(group_name, p):
    return {
        "AutoScalingGroupName": group_name,
        "Strategy": "Rolling",
        "Preferences": {
            "MinHealthyPercentage": p["refresh_min_healthy_percentage"],
            "InstanceWarmup": p["refresh_instance_warmup"],
        },
    }


def start_refresh(asg, group_name, p, check_mode):
    """Start an instance refresh unless one runs; {status, id?} and a warning or None.

    status: started | would_start | in_progress | unsupported.
    """
    try:
        running = active_refresh(asg, group_name)
    except Exception as e:  # noqa: BLE001 - only 'unsupported' is swallowed
        if is_unsupported(e):
            return {"status": "unsupported"}, ("the endpoint does not support instance refresh (DescribeInstanceRefreshes: %s);"
                                               " running instances keep their launch template version until they are replaced" % _short(e))
        raise
    if running:
        return {"status": "in_progress", "id": running.get("InstanceRefreshId")}, (
            "instance refresh %s is already in progress; not starting another" % running.get("InstanceRefreshId"))
    if check_mode:
        return {"status": "would_start"}, None
    try:
        resp = asg.start_instance_refresh(aws_retry=True, **refresh_arguments(group_name, p))
    except Exception as e:  # noqa: BLE001
        if error_code(e) == "InstanceRefreshInProgress":
            return {"status": "in_progress"}, "an instance refresh is already in progress; not starting another"
        if is_unsupported(e):
            return {"status": "unsupported"}, "the endpoint does not support StartInstanceRefresh (%s)" % _short(e)
        raise
    return {"status": "started", "id": resp.get("InstanceRefreshId")}, None


def _short(exc):
    if isinstance(exc, ResponseParserError):
        return "the endpoint answered with a non-AWS error page"
    code = error_code(exc)
    if code:
        return code
    return str(exc).splitlines()[0][:120]


# ---------------------------------------------------------------- present

class Reconciler(object):
    """Runs the steps in order; collects changes, warnings and diff. check_mode mutates nothing."""

    def __init__(self, ec2, asg, params, check_mode=False, sleep=None, clock=None):
        self.ec2 = ec2
        self.asg = asg
        self.p = params
        self.check_mode = check_mode
        self.sleep = sleep
        self.clock = clock
        self.changes = []
        self.warnings = []
        self.before = {}
        self.after = {}

    @property
    def changed(self):
        return bool(self.changes)

    def _clock(self):
        """The sleep and clock a unit test injected, as keyword arguments for the polling helpers."""
        kwargs = {}
        if self.sleep is not None:
            kwargs["sleep"] = self.sleep
        if self.clock is not None:
            kwargs["clock"] = self.clock
        return kwargs

    def _poll(self, fetch, done, what):
        try:
            return poll(fetch, done, self.p["wait_timeout"], self.p["poll_interval"], **self._clock())
        except WaitTimeout:
            raise AsgError("timed out after %ss waiting for %s" % (self.p["wait_timeout"], what))

    def tags(self, name, component):
        return stack_tags(self.p["stack_name"], name, dict(self.p["tags"] or {}, **{COMPONENT_TAG: component}))

    # -- security group
    def ensure_security_group(self):
        p = self.p
        desired = ingress_permissions(p["instance_port"], p["load_balancer_security_group_id"])
        sg = find_security_group(self.ec2, p["stack_name"])
        self.before["security_group"] = None if sg is None else {
            "id": sg["GroupId"], "name": sg["GroupName"], "ingress": describe_rules(sg.get("IpPermissions"))}
        self.after["security_group"] = {"id": sg["GroupId"] if sg else None, "name": p["security_group_name"],
                                        "ingress": describe_rules(desired)}
        if sg is None:
            self.changes.append("create security group %s" % p["security_group_name"])
            if self.check_mode:
                return None
            sg_id = self.ec2.create_security_group(
                GroupName=p["security_group_name"], Description=p["security_group_description"], VpcId=p["vpc_id"],
                TagSpecifications=[{"ResourceType": "security-group",
                                    "Tags": ansible_dict_to_boto3_tag_list(self.tags(p["security_group_name"], COMPONENT_SG))}],
                aws_retry=True)["GroupId"]
            self.ec2.authorize_security_group_ingress(GroupId=sg_id, IpPermissions=desired, aws_retry=True)
            self.after["security_group"]["id"] = sg_id
            return sg_id
        if sg.get("VpcId") != p["vpc_id"]:
            raise AsgError("security group %s of stack %s is in %s, not in vpc_id %s; remove the stack's web tier (state=absent) first"
                           % (sg["GroupId"], p["stack_name"], sg.get("VpcId"), p["vpc_id"]))
        if sg["GroupName"] != p["security_group_name"] or sg.get("Description") != p["security_group_description"]:
            self.warnings.append("security group %s is named %r (%r); a group's name and description cannot change in place"
                                 % (sg["GroupId"], sg["GroupName"], sg.get("Description")))
        authorize, revoke = ingress_changes(sg.get("IpPermissions"), desired)
        if authorize:
            self.changes.append("authorize ingress %s on %s" % (", ".join(describe_rules(authorize)), sg["GroupId"]))
            if not self.check_mode:
                self.ec2.authorize_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=authorize, aws_retry=True)
        if revoke:
            self.changes.append("revoke ingress %s on %s" % (", ".join(describe_rules(revoke)), sg["GroupId"]))
            if not self.check_mode:
                self.ec2.revoke_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=revoke, aws_retry=True)
        self._ensure_ec2_tags(sg["GroupId"], tags_of(sg), self.tags(p["security_group_name"], COMPONENT_SG))
        return sg["GroupId"]

    def _ensure_ec2_tags(self, resource_id, current, desired):
        missing = dict((k, v) for k, v in desired.items() if current.get(k) != v)
        if missing:
            self.changes.append("tag %s with %s" % (resource_id, ", ".join(sorted(missing))))
            if not self.check_mode:
                self.ec2.create_tags(Resources=[resource_id], Tags=ansible_dict_to_boto3_tag_list(missing), aws_retry=True)

    # -- launch template
    def ensure_launch_template(self, sg_id, group):
        """(template id, version number) the group should use; may create a template or a version."""
        p = self.p
        lt = find_launch_template(self.ec2, p["stack_name"])
        instance_tags = stack_tags(p["stack_name"], p["instance_name"], p["tags"])
        sg_ref = sg_id or "(new security group)"
        if lt is None:
            if p["image_id"] or not self.check_mode:
                root, size = image_root_device(self.ec2, p["image_id"])
            else:  # check mode on a fresh stack: the image is only planned, its root device unknown
                root, size = "/dev/xvda", None
            data = launch_template_data(p["image_id"], p["instance_type"], sg_ref, root, p["root_volume_size"] or size, p, instance_tags)
            self.before["launch_template"] = None
            self.after["launch_template"] = {"name": p["launch_template_name"], "version": 1, "data": normalize_template_data(data)}
            self.changes.append("create launch template %s (version 1, %s)" % (p["launch_template_name"], p["image_id"]))
            if self.check_mode:
                return None, 1
            resp = self.ec2.create_launch_template(
                LaunchTemplateName=p["launch_template_name"], VersionDescription=p["launch_template_description"], LaunchTemplateData=data,
                TagSpecifications=[{"ResourceType": "launch-template",
                                    "Tags": ansible_dict_to_boto3_tag_list(self.tags(p["launch_template_name"], COMPONENT_LT))}],
                aws_retry=True)["LaunchTemplate"]
            return resp["LaunchTemplateId"], int(resp.get("LatestVersionNumber") or 1)

        lt_id = lt["LaunchTemplateId"]
        if lt["LaunchTemplateName"] != p["launch_template_name"]:
            self.warnings.append("launch template %s is named %r; a launch template cannot be renamed" % (lt_id, lt["LaunchTemplateName"]))
        latest = int(lt["LatestVersionNumber"])
        current_version = latest
        group_lt = (group or {}).get("LaunchTemplate") or {}
        if group_lt.get("LaunchTemplateId") == lt_id and str(group_lt.get("Version", "")).isdigit():
            current_version = int(group_lt["Version"])
        wanted = sorted(set([current_version, latest]))
        versions = template_versions(self.ec2, lt_id, [str(v) for v in wanted])
        current = versions.get(current_version, {})
        root, size = _root_of(current)
        if current.get("ImageId") != p["image_id"] or not root:
            root, size = image_root_device(self.ec2, p["image_id"])
        data = launch_template_data(p["image_id"], p["instance_type"], sg_ref, root, p["root_volume_size"] or size, p, instance_tags)
        self.before["launch_template"] = {"id": lt_id, "name": lt["LaunchTemplateName"], "version": current_version,
                                          "data": normalize_template_data(current)}
        self.after["launch_template"] = {"id": lt_id, "name": lt["LaunchTemplateName"], "version": current_version,
                                         "data": normalize_template_data(data)}
        self._ensure_ec2_tags(lt_id, tags_of(lt), self.tags(p["launch_template_name"], COMPONENT_LT))
        if not template_differences(current, data):
            return lt_id, current_version
        if latest != current_version and not template_differences(versions.get(latest, {}), data):
            # An earlier run created the version but did not get to point the group at it.
            self.after["launch_template"]["version"] = latest
            return lt_id, latest
        diffs = template_differences(current, data)
        new_version = latest + 1
        self.after["launch_template"]["version"] = new_version
        self.changes.append("create launch template %s version %d (%s changed)" % (lt["LaunchTemplateName"], new_version, ", ".join(diffs)))
        if self.check_mode:
            return lt_id, new_version
        resp = self.ec2.create_launch_template_version(
            LaunchTemplateId=lt_id, VersionDescription=p["launch_template_description"], LaunchTemplateData=data,
            aws_retry=True)["LaunchTemplateVersion"]
        new_version = int(resp["VersionNumber"])
        self.after["launch_template"]["version"] = new_version
        # The default version follows, so the console and $Default show what the group runs.
        self.ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion=str(new_version), aws_retry=True)
        return lt_id, new_version

    # -- group
    def create_group(self, lt_id, version):
        p = self.p
        args = {
            "AutoScalingGroupName": p["group_name"],
            "LaunchTemplate": {"LaunchTemplateId": lt_id, "Version": str(version)},
            "MinSize": p["min_size"],
            "MaxSize": p["max_size"],
            "DesiredCapacity": p["desired_capacity"],
            "VPCZoneIdentifier": ",".join(p["subnet_ids"]),
            "TargetGroupARNs": [p["target_group_arn"]],
            "HealthCheckType": p["health_check_type"],
            "HealthCheckGracePeriod": p["health_check_grace_period"],
            "Tags": group_tags(p["group_name"], self.group_tag_dict()),
        }
        self.changes.append("create group %s (min %d, max %d, desired %d, launch template version %s)"
                            % (p["group_name"], p["min_size"], p["max_size"], p["desired_capacity"], version))
        self.changes.append("enable group metrics collection")
        self.changes.append("put scaling policy %s (%s at %s)" % (p["policy_name"], CPU_METRIC, p["cpu_target_value"]))
        self.before["group"] = None
        self.after["group"] = dict(group_state_from_args(args), metrics=sorted(p["metrics"]))
        self.before["policy"] = None
        self.after["policy"] = policy_state(policy_arguments(p["group_name"], p))
        if self.check_mode:
            return
        self.asg.create_auto_scaling_group(aws_retry=True, **args)
        self.asg.enable_metrics_collection(AutoScalingGroupName=p["group_name"], Metrics=list(p["metrics"]),
                                           Granularity=METRICS_GRANULARITY, aws_retry=True)
        self.asg.put_scaling_policy(aws_retry=True, **policy_arguments(p["group_name"], p))

    def group_tag_dict(self):
        p = self.p
        return stack_tags(p["stack_name"], p["instance_name"], dict(p["tags"] or {}, **{COMPONENT_TAG: COMPONENT_ASG}))

    def update_group(self, group, lt_id, version):
        """Bring an existing group in line; never re-assert desired capacity. Returns True when the version changed."""
        p = self.p
        name = group["AutoScalingGroupName"]
        before = group_state(group)
        self.before["group"] = before
        after = copy.deepcopy(before)
        update = {}
        lt_ref = {"LaunchTemplateId": lt_id, "Version": str(version)}
        version_changed = before["launch_template_id"] != lt_id or before["launch_template_version"] != str(version)
        if version_changed:
            update["LaunchTemplate"] = lt_ref
            after["launch_template_id"], after["launch_template_version"] = lt_id, str(version)
        for key, option, field in (("min_size", "min_size", "MinSize"), ("max_size", "max_size", "MaxSize"),
                                   ("health_check_type", "health_check_type", "HealthCheckType"),
                                   ("health_check_grace_period", "health_check_grace_period", "HealthCheckGracePeriod")):
            if before[key] != p[option]:
                update[field] = p[option]
                after[key] = p[option]
        if before["subnet_ids"] != sorted(p["subnet_ids"]):
            update["VPCZoneIdentifier"] = ",".join(p["subnet_ids"])
            after["subnet_ids"] = sorted(p["subnet_ids"])
        desired = before["desired_capacity"]
        clamped = clamp(desired, p["min_size"], p["max_size"])
        if clamped != desired:
            update["DesiredCapacity"] = clamped
            after["desired_capacity"] = clamped
            self.warnings.append("desired capacity %d of group %s is outside min_size %d..max_size %d: set to %d"
                                 % (desired, name, p["min_size"], p["max_size"], clamped))
        if update:
            self.changes.append("update group %s (%s)" % (name, ", ".join(sorted(update))))
            if not self.check_mode:
                self.asg.update_auto_scaling_group(AutoScalingGroupName=name, aws_retry=True, **update)
        wanted_tgs = [p["target_group_arn"]]
        attach = [a for a in wanted_tgs if a not in before["target_group_arns"]]
        detach = [a for a in before["target_group_arns"] if a not in wanted_tgs]
        if attach:
            self.changes.append("attach target group %s" % ", ".join(attach))
            if not self.check_mode:
                self.asg.attach_load_balancer_target_groups(AutoScalingGroupName=name, TargetGroupARNs=attach, aws_retry=True)
        if detach:
            self.changes.append("detach target group %s" % ", ".join(detach))
            if not self.check_mode:
                self.asg.detach_load_balancer_target_groups(AutoScalingGroupName=name, TargetGroupARNs=detach, aws_retry=True)
        after["target_group_arns"] = sorted(wanted_tgs)
        enabled = dict((m["Metric"], m.get("Granularity")) for m in group.get("EnabledMetrics") or [])
        if any(enabled.get(m) != METRICS_GRANULARITY for m in p["metrics"]):
            self.changes.append("enable group metrics collection (%s)" % ", ".join(m for m in p["metrics"] if m not in enabled))
            after["metrics"] = sorted(set(before["metrics"]) | set(p["metrics"]))
            if not self.check_mode:
                self.asg.enable_metrics_collection(AutoScalingGroupName=name, Metrics=list(p["metrics"]),
                                                   Granularity=METRICS_GRANULARITY, aws_retry=True)
        tag_updates = group_tag_changes(group.get("Tags"), group_tags(name, self.group_tag_dict()))
        if tag_updates:
            self.changes.append("tag group %s with %s" % (name, ", ".join(t["Key"] for t in tag_updates)))
            after["tags"].update(dict((t["Key"], t["Value"]) for t in tag_updates))
            if not self.check_mode:
                self.asg.create_or_update_tags(Tags=tag_updates, aws_retry=True)
        self.after["group"] = after
        return version_changed

    def ensure_policy(self, group_name):
        p = self.p
        resp = self.asg.describe_policies(AutoScalingGroupName=group_name, PolicyNames=[p["policy_name"]], aws_retry=True)
        current = (resp.get("ScalingPolicies") or [None])[0]
        args = policy_arguments(group_name, p)
        self.before["policy"] = policy_state(current)
        self.after["policy"] = policy_state(args)
        if policy_state(current) != policy_state(args):
            self.changes.append("put scaling policy %s (%s at %s)" % (p["policy_name"], CPU_METRIC, p["cpu_target_value"]))
            if not self.check_mode:
                self.asg.put_scaling_policy(aws_retry=True, **args)
        return current

    def stale_instances(self, group, version):
        """InService instances launched from another template version than the group's."""
        stale = []
        for inst in in_service(group):
            lt = inst.get("LaunchTemplate") or {}
            if lt.get("Version") and lt.get("Version") != str(version):
                stale.append(inst["InstanceId"])
        return stale

    def present(self):
        p = self.p
        group = find_group(self.asg, p["stack_name"])
        if group and group["AutoScalingGroupName"] != p["group_name"]:
            raise AsgError("the Auto Scaling group of stack %s is named %s, not %s; a group cannot be renamed: remove it (state=absent) first"
                           % (p["stack_name"], group["AutoScalingGroupName"], p["group_name"]))
        if group and group.get("Status"):
            raise AsgError("Auto Scaling group %s is being deleted (%s); rerun when it is gone" % (group["AutoScalingGroupName"], group["Status"]))
        sg_id = self.ensure_security_group()
        lt_id, version = self.ensure_launch_template(sg_id, group)
        refresh = {"status": "not_needed"}
        created = False
        if group is None:
            created = True
            self.create_group(lt_id, version)
            if not self.check_mode:
                if p["wait"]:
                    group = self.wait_in_service(p["group_name"], p["desired_capacity"])
                else:
                    group = describe_group(self.asg, p["group_name"])
        else:
            version_changed = self.update_group(group, lt_id, version)
            self.ensure_policy(group["AutoScalingGroupName"])
            stale = [] if version_changed else self.stale_instances(group, version)
            if p["instance_refresh"] and (version_changed or stale):
                if stale:
                    self.warnings.append("instances %s run an older launch template version than %s" % (", ".join(stale), version))
                refresh, warning = start_refresh(self.asg, group["AutoScalingGroupName"], p, self.check_mode)
                if warning:
                    self.warnings.append(warning)
                if refresh["status"] == "started":
                    self.changes.append("start instance refresh %s (min healthy %s%%)"
                                        % (refresh.get("id"), p["refresh_min_healthy_percentage"]))
                elif refresh["status"] == "would_start":
                    self.changes.append("start instance refresh (min healthy %s%%)" % p["refresh_min_healthy_percentage"])
            if self.changes and not self.check_mode:
                group = describe_group(self.asg, group["AutoScalingGroupName"]) or group
        policy = self.after.get("policy")
        return {
            "group_name": p["group_name"],
            "launch_template_id": lt_id,
            "launch_template_version": str(version),
            "security_group_id": sg_id,
            "instances": instances_of(group),
            "desired_capacity": (group or {}).get("DesiredCapacity", p["desired_capacity"]),
            "min_size": p["min_size"],
            "max_size": p["max_size"],
            "created": created,
            "policy": policy,
            "instance_refresh": refresh,
        }

    def wait_in_service(self, name, count):
        return self._poll(lambda: describe_group(self.asg, name), lambda g: len(in_service(g)) >= count,
                          "%d InService instances in group %s" % (count, name))

    # -- absent
    def absent(self):
        p = self.p
        deleted = {}
        group = find_group(self.asg, p["stack_name"])
        name = group["AutoScalingGroupName"] if group else p["group_name"]
        self.before["group"] = group_state(group)
        self.after["group"] = None
        if group:
            deleted["group"] = name
            self.changes.append("delete group %s (%d instances)" % (name, len(group.get("Instances") or [])))
            if not self.check_mode and not group.get("Status"):
                self.asg.delete_auto_scaling_group(AutoScalingGroupName=name, ForceDelete=True, aws_retry=True)
        if not self.check_mode and p["wait"]:
            if group:
                self._poll(lambda: describe_group(self.asg, name), lambda g: g is None, "group %s to be deleted" % name)
            self._poll(lambda: self.live_instances(name), lambda ids: not ids, "the instances of group %s to terminate" % name)
        lt = find_launch_template(self.ec2, p["stack_name"])
        self.before["launch_template"] = None if lt is None else {"id": lt["LaunchTemplateId"], "name": lt["LaunchTemplateName"]}
        self.after["launch_template"] = None
        if lt:
            deleted["launch_template"] = lt["LaunchTemplateId"]
            self.changes.append("delete launch template %s" % lt["LaunchTemplateName"])
            if not self.check_mode:
                try:
                    self.ec2.delete_launch_template(LaunchTemplateId=lt["LaunchTemplateId"], aws_retry=True)
                except ClientError as e:
                    if error_code(e) != "InvalidLaunchTemplateId.NotFound":
                        raise
        sg = find_security_group(self.ec2, p["stack_name"])
        self.before["security_group"] = None if sg is None else {"id": sg["GroupId"], "name": sg["GroupName"]}
        self.after["security_group"] = None
        if sg:
            deleted["security_group"] = sg["GroupId"]
            self.changes.append("delete security group %s" % sg["GroupId"])
            if not self.check_mode:
                self.delete_security_group(sg["GroupId"])
        return {"group_name": name, "launch_template_id": None, "launch_template_version": None, "security_group_id": None,
                "instances": [], "policy": None, "instance_refresh": {"status": "not_needed"}, "deleted": deleted}

    def live_instances(self, group_name):
        filters = [{"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES},
                   {"Name": "tag:" + ASG_NAME_TAG, "Values": [group_name]}]
        ids = []
        kwargs = {"Filters": filters}
        while True:
            page = self.ec2.describe_instances(aws_retry=True, **kwargs)
            for res in page.get("Reservations") or []:
                ids.extend(i["InstanceId"] for i in res.get("Instances") or [])
            if not page.get("NextToken"):
                return ids
            kwargs["NextToken"] = page["NextToken"]

    def delete_security_group(self, sg_id):
        """Delete; while instances or ENIs still use it (DependencyViolation), poll until wait_timeout."""
        try:
            call_until_accepted(
                lambda: self.ec2.delete_security_group(GroupId=sg_id, aws_retry=True),
                ("DependencyViolation",) if self.p["wait"] else (),
                self.p["wait_timeout"], self.p["poll_interval"],
                "deleting security group %s (instances or network interfaces still use it)" % sg_id,
                done_codes=("InvalidGroup.NotFound",), **self._clock()
            )
        except WaitTimeout as e:
            raise AsgError(str(e))


def _root_of(data):
    """(device name, volume size) of the root mapping stored in a template version."""
    for bdm in (data or {}).get("BlockDeviceMappings") or []:
        return bdm.get("DeviceName"), (bdm.get("Ebs") or {}).get("VolumeSize")
    return None, None


def group_state_from_args(args):
    return {
        "name": args["AutoScalingGroupName"],
        "launch_template_id": args["LaunchTemplate"]["LaunchTemplateId"],
        "launch_template_version": args["LaunchTemplate"]["Version"],
        "min_size": args["MinSize"],
        "max_size": args["MaxSize"],
        "desired_capacity": args["DesiredCapacity"],
        "subnet_ids": sorted(args["VPCZoneIdentifier"].split(",")),
        "target_group_arns": sorted(args["TargetGroupARNs"]),
        "health_check_type": args["HealthCheckType"],
        "health_check_grace_period": args["HealthCheckGracePeriod"],
        "tags": dict((t["Key"], t["Value"]) for t in args["Tags"]),
    }
