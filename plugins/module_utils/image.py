# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The custom AMI of a stack: waiting for an image, baking one from a builder instance
(found again by tags and a fingerprint of what goes into it), cleaning up and pruning.

Small functions taking boto3 clients wrapped by stack.aws_client (every call aws_retry=True);
the modules ami_wait and web_image are thin layers over them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re
import time

from ansible.module_utils.urls import open_url
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import STACK_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import call_until_accepted
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import component_filters
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import paginate
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import poll
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import stack_filter
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import stack_tags
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tag_specifications
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG

FINGERPRINT_TAG = "ha_web:fingerprint"
BASE_IMAGE_TAG = "ha_web:base-image"
VERSION_TAG = "ha_web:version"
# Set on an image once its snapshots carry the stack tags (they are tagged after creation:
# a snapshot TagSpecification in CreateImage is not implemented by moto).
SNAPSHOTS_TAGGED_TAG = "ha_web:snapshots-tagged"

IMAGE = "image"
BUILDER = "builder"
BUILDER_SG = "builder-sg"

FAILED_STATES = ("failed", "invalid", "error", "deregistered")
# Instance states a builder can still be terminated from (moto errors on terminated ones).
LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped"]
BUILDER_DEAD_STATES = ("shutting-down", "terminated", "stopping", "stopped")

ROOT_VOLUME_TYPE = "gp3"
HTTP_TOKENS = "required"


# --------------------------------------------------------------------------- reading images

def get_image(ec2, image_id=None, name=None):
    """One image by id, or the newest self-owned image with this name; None when not (yet) visible."""
    if image_id:
        try:
            images = ec2.describe_images(ImageIds=[image_id], aws_retry=True)["Images"]
        except is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"]):
            return None
    else:
        images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}], aws_retry=True)["Images"]
    if not images:
        return None
    return sorted(images, key=lambda image: image.get("CreationDate", ""))[-1]


def image_facts(image):
    """The image as Ansible facts: snake_case keys, tags as a dict."""
    if not image:
        return {}
    return boto3_resource_to_ansible_dict(image)


def image_failure(image):
    """A message when the image is in a state it never leaves for `available`, else None."""
    if not image or image.get("State") not in FAILED_STATES:
        return None
    reason = image.get("StateReason") or {}
    detail = ": ".join(part for part in (reason.get("Code"), reason.get("Message")) if part)
    return "Image %s (%s) is %s%s" % (
        image.get("ImageId"), image.get("Name"), image["State"], (": " + detail) if detail else " (AWS gave no state reason)")


def describe_target(image_id, name):
    return image_id if image_id else "named %r" % name


def wait_for_image(ec2, image_id=None, name=None, timeout=1200, interval=15, sleep=time.sleep, clock=time.monotonic):
    """Poll until the image is available. An image not visible yet (eventual consistency right
    after CreateImage) is waited for until the timeout; throttling is retried by the client.
    Raises WaitFailed (failed/invalid/error/deregistered, with AWS's state reason) or WaitTimeout."""
    try:
        return poll(
            lambda: get_image(ec2, image_id, name),
            lambda image: image is not None and image.get("State") == "available",
            timeout, interval, failed=image_failure, sleep=sleep, clock=clock,
        )
    except WaitTimeout as e:
        if e.last is None:
            message = "Timed out after %s s waiting for image %s: it was never found" % (timeout, describe_target(image_id, name))
        else:
            message = "Timed out after %s s waiting for image %s (%s) to become available: it is still %s" % (
                timeout, e.last.get("ImageId"), e.last.get("Name"), e.last.get("State"))
        raise WaitTimeout(message, e.last)


# --------------------------------------------------------------------------- fingerprint and versions

def fingerprint(app_fingerprint, user_data, base_image_id, root_volume_size, encrypted, http_tokens=HTTP_TOKENS,
                http_put_response_hop_limit=1, root_volume_type=ROOT_VOLUME_TYPE):
    """sha256 of what goes into the image. The instance type is left out: it does not change the image."""
    payload = {
        "app": app_fingerprint or "",
        "user_data": user_data or "",
        "base_image_id": base_image_id,
        "root_volume": {"size": root_volume_size, "type": root_volume_type, "encrypted": bool(encrypted)},
        "metadata": {"http_tokens": http_tokens, "hop_limit": http_put_response_hop_limit},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def version_of(image):
    tags = tags_of(image)
    try:
        return int(tags.get(VERSION_TAG))
    except (TypeError, ValueError):
        match = re.search(r" v(\d+)$", image.get("Name") or "")
        return int(match.group(1)) if match else 0


def image_name(base, version):
    return "%s v%d" % (base, version)


def sort_images(images):
    """Oldest first, by version then creation date."""
    return sorted(images, key=lambda image: (version_of(image), image.get("CreationDate", "")))


def stack_images(ec2, stack_name):
    """Every image of the stack (not deregistered), oldest first."""
    images = ec2.describe_images(
        Owners=["self"], Filters=[stack_filter(stack_name), {"Name": "tag:" + COMPONENT_TAG, "Values": [IMAGE]}], aws_retry=True
    )["Images"]
    return sort_images([image for image in images if image.get("State") != "deregistered"])


def find_image(images, image_fingerprint):
    """The newest image with this fingerprint that is available or on its way to it."""
    matching = [image for image in images
                if tags_of(image).get(FINGERPRINT_TAG) == image_fingerprint and image.get("State") in ("available", "pending")]
    return matching[-1] if matching else None


def pinned_base_image(images):
    """The base image recorded on the newest image of the stack, if any."""
    for image in reversed(images):
        base = tags_of(image).get(BASE_IMAGE_TAG)
        if base:
            return base
    return None


def resolve_base_image(ssm_factory, images, base_image_id=None, ssm_parameter=None, track_latest_base=False):
    """(image id, source): the given id; else the base pinned on the stack's newest image unless
    tracking the latest; else the SSM parameter's value. ssm_factory makes the SSM client only if needed."""
    if base_image_id:
        return base_image_id, "option"
    if not track_latest_base:
        pinned = pinned_base_image(images)
        if pinned:
            return pinned, "pinned"
    value = ssm_factory().get_parameter(Name=ssm_parameter, aws_retry=True)["Parameter"]["Value"]
    return value, "ssm"


def image_summary(image, default_fingerprint=None):
    """The ha_web_image fact."""
    if not image:
        return None
    return {
        "image_id": image.get("ImageId"),
        "name": image.get("Name"),
        "fingerprint": tags_of(image).get(FINGERPRINT_TAG, default_fingerprint),
        "state": image.get("State"),
    }


# --------------------------------------------------------------------------- builder resources

def builder_security_groups(ec2, stack_name, vpc_id=None):
    filters = ([{"Name": "vpc-id", "Values": [vpc_id]}] if vpc_id else []) + component_filters(stack_name, BUILDER_SG)
    return ec2.describe_security_groups(Filters=filters, aws_retry=True)["SecurityGroups"]


def builder_instances(ec2, stack_name):
    """Builder instances of the stack that are not shutting down or terminated."""
    filters = [{"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}] + component_filters(stack_name, BUILDER)
    reservations = ec2.describe_instances(Filters=filters, aws_retry=True)["Reservations"]
    return [instance for reservation in reservations for instance in reservation["Instances"]]


def http_rule(port):
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTP"}]}


def has_http_rule(group, port):
    for permission in group.get("IpPermissions") or []:
        if (permission.get("IpProtocol") == "tcp" and permission.get("FromPort") == port and permission.get("ToPort") == port
                and any(r.get("CidrIp") == "0.0.0.0/0" for r in permission.get("IpRanges") or [])):
            return True
    return False


def ensure_builder_sg(ec2, stack_name, vpc_id, name, port):
    """The builder's security group (HTTP only), found by tags or created. Returns (group id, changed)."""
    groups = builder_security_groups(ec2, stack_name, vpc_id)
    changed = False
    if groups:
        group = groups[0]
        group_id = group["GroupId"]
    else:
        tags = stack_tags(stack_name, name, {COMPONENT_TAG: BUILDER_SG})
        group_id = ec2.create_security_group(
            GroupName=name, Description="HTTP to the web server baked into the custom AMI", VpcId=vpc_id,
            TagSpecifications=tag_specifications("security-group", tags), aws_retry=True,
        )["GroupId"]
        group = {}
        changed = True
    if not has_http_rule(group, port):
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[http_rule(port)], aws_retry=True)
        changed = True
    return group_id, changed


def find_subnet(ec2, stack_name, component):
    """(subnet id, vpc id) of the stack's subnet tagged with this component; fails when missing."""
    subnets = ec2.describe_subnets(Filters=component_filters(stack_name, component), aws_retry=True)["Subnets"]
    if not subnets:
        raise WaitFailed("No subnet tagged %s=%s, %s=%s: deploy the network first, or pass subnet_id and vpc_id" % (
            STACK_TAG, stack_name, COMPONENT_TAG, component))
    return subnets[0]["SubnetId"], subnets[0]["VpcId"]


def run_instance_params(stack_name, base_image, instance_type, subnet_id, group_id, user_data, instance_name,
                        image_fingerprint, root_volume_size, encrypted, http_put_response_hop_limit=1):
    """RunInstances arguments of the builder: public IP, IMDSv2 only, encrypted gp3 root, no key pair."""
    tags = stack_tags(stack_name, instance_name, {COMPONENT_TAG: BUILDER, FINGERPRINT_TAG: image_fingerprint})
    root = base_image.get("RootDeviceName") or "/dev/xvda"
    return dict(
        ImageId=base_image["ImageId"],
        InstanceType=instance_type,
        MinCount=1,
        MaxCount=1,
        UserData=user_data or "",
        NetworkInterfaces=[{
            "DeviceIndex": 0, "SubnetId": subnet_id, "Groups": [group_id],
            "AssociatePublicIpAddress": True, "DeleteOnTermination": True,
        }],
        MetadataOptions={"HttpTokens": HTTP_TOKENS, "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": http_put_response_hop_limit},
        BlockDeviceMappings=[{
            "DeviceName": root,
            "Ebs": {"VolumeSize": root_volume_size, "VolumeType": ROOT_VOLUME_TYPE, "Encrypted": bool(encrypted), "DeleteOnTermination": True},
        }],
        TagSpecifications=tag_specifications("instance", tags) + tag_specifications("volume", tags),
    )


def base_root_size(base_image):
    for mapping in base_image.get("BlockDeviceMappings") or []:
        if mapping.get("DeviceName") == base_image.get("RootDeviceName"):
            return (mapping.get("Ebs") or {}).get("VolumeSize")
    return None


def get_instance(ec2, instance_id):
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id], aws_retry=True)["Reservations"]
    except is_boto3_error_code("InvalidInstanceID.NotFound"):
        return None  # not visible yet right after RunInstances
    instances = [instance for reservation in reservations for instance in reservation["Instances"]]
    return instances[0] if instances else None


def builder_failure(instance):
    if instance and instance["State"]["Name"] in BUILDER_DEAD_STATES:
        reason = (instance.get("StateReason") or {}).get("Message") or "no reason given"
        return "Builder instance %s is %s: %s" % (instance["InstanceId"], instance["State"]["Name"], reason)
    return None


def wait_running(ec2, instance_id, timeout, interval, need_public_ip=False, sleep=time.sleep, clock=time.monotonic):
    def done(instance):
        return bool(instance) and instance["State"]["Name"] == "running" and (instance.get("PublicIpAddress") or not need_public_ip)
    return poll(lambda: get_instance(ec2, instance_id), done, timeout, interval, failed=builder_failure, sleep=sleep, clock=clock)


def http_probe(url, timeout=5, opener=open_url):
    """True when the URL answers 200; any error (refused, timeout, 5xx) is False: keep waiting."""
    try:
        response = opener(url, method="GET", timeout=timeout, validate_certs=False, follow_redirects="none")
        return response.getcode() == 200
    except Exception:  # pylint: disable=broad-except
        return False


def wait_http(url, timeout, interval, opener=open_url, sleep=time.sleep, clock=time.monotonic):
    try:
        poll(lambda: http_probe(url, opener=opener), bool, timeout, interval, sleep=sleep, clock=clock)
    except WaitTimeout:
        raise WaitTimeout("The web page of the builder did not answer at %s within %s s" % (url, timeout))


def create_image(ec2, stack_name, instance_id, name, version, image_fingerprint, base_image_id, no_reboot=False):
    """CreateImage with the image's tags (image only: snapshots are tagged once the image is available)."""
    tags = stack_tags(stack_name, name, {
        COMPONENT_TAG: IMAGE, FINGERPRINT_TAG: image_fingerprint, BASE_IMAGE_TAG: base_image_id, VERSION_TAG: str(version)})
    return ec2.create_image(
        InstanceId=instance_id, Name=name, NoReboot=no_reboot,
        Description="ha_web stack %s web server %s" % (stack_name, name),
        TagSpecifications=tag_specifications("image", tags), aws_retry=True,
    )["ImageId"]


# --------------------------------------------------------------------------- cleanup and removal

def snapshot_ids(image):
    return [mapping["Ebs"]["SnapshotId"] for mapping in image.get("BlockDeviceMappings") or []
            if (mapping.get("Ebs") or {}).get("SnapshotId")]


def tag_snapshots(ec2, stack_name, image):
    """Tag the snapshots of an available image once; the image records that it was done."""
    if tags_of(image).get(SNAPSHOTS_TAGGED_TAG) == "true":
        return False
    snapshots = snapshot_ids(image)
    if snapshots:
        tags = stack_tags(stack_name, image.get("Name"), {COMPONENT_TAG: IMAGE})
        ec2.create_tags(Resources=snapshots, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())], aws_retry=True)
    ec2.create_tags(Resources=[image["ImageId"]], Tags=[{"Key": SNAPSHOTS_TAGGED_TAG, "Value": "true"}], aws_retry=True)
    return True


def delete_snapshot(ec2, snapshot_id, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Delete a snapshot, waiting while AWS still counts it in use by the image just deregistered."""
    call_until_accepted(
        lambda: ec2.delete_snapshot(SnapshotId=snapshot_id, aws_retry=True), ("InvalidSnapshot.InUse",),
        timeout, interval, "deleting snapshot %s" % snapshot_id, done_codes=("InvalidSnapshot.NotFound",), sleep=sleep, clock=clock,
    )


def remove_image(ec2, image, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Deregister an image, then delete its snapshots. Returns the snapshot ids deleted."""
    try:
        ec2.deregister_image(ImageId=image["ImageId"], aws_retry=True)
    except is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"]):
        pass
    snapshots = snapshot_ids(image)
    for snapshot_id in snapshots:
        delete_snapshot(ec2, snapshot_id, timeout, interval, sleep=sleep, clock=clock)
    return snapshots


def images_to_prune(images, current, keep_previous):
    """Images beyond the current one and the keep_previous newest others."""
    others = [image for image in images if not current or image["ImageId"] != current["ImageId"]]
    return others[:max(len(others) - max(keep_previous, 0), 0)]


def terminate_builders(ec2, instances, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Terminate builder instances and wait until they are terminated (their SG is then free)."""
    ids = [instance["InstanceId"] for instance in instances]
    if not ids:
        return []
    ec2.terminate_instances(InstanceIds=ids, aws_retry=True)

    def states():
        try:
            reservations = ec2.describe_instances(InstanceIds=ids, aws_retry=True)["Reservations"]
        except is_boto3_error_code("InvalidInstanceID.NotFound"):
            return []
        return [instance["State"]["Name"] for reservation in reservations for instance in reservation["Instances"]]

    try:
        poll(states, lambda names: all(name == "terminated" for name in names), timeout, interval, sleep=sleep, clock=clock)
    except WaitTimeout:
        raise WaitTimeout("Builder instances %s were not terminated within %s s" % (", ".join(ids), timeout))
    return ids


def delete_security_group(ec2, group_id, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Delete a group, polling while a terminating instance's network interface still holds it."""
    call_until_accepted(
        lambda: ec2.delete_security_group(GroupId=group_id, aws_retry=True), ("DependencyViolation",),
        timeout, interval, "deleting security group %s" % group_id, done_codes=("InvalidGroup.NotFound",), sleep=sleep, clock=clock,
    )


def remove_builders(ec2, stack_name, check_mode, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Terminate every builder instance of the stack, then delete its builder security groups."""
    instances = builder_instances(ec2, stack_name)
    groups = builder_security_groups(ec2, stack_name)
    result = {
        "terminated_instance_ids": [instance["InstanceId"] for instance in instances],
        "deleted_security_group_ids": [group["GroupId"] for group in groups],
    }
    if check_mode:
        return result
    terminate_builders(ec2, instances, timeout, interval, sleep=sleep, clock=clock)
    for group in groups:
        delete_security_group(ec2, group["GroupId"], timeout, interval, sleep=sleep, clock=clock)
    return result


def orphan_snapshots(ec2, stack_name, known):
    """Image snapshots of the stack other than `known` (left by an interrupted removal).

    Found through their stack tag first: DescribeSnapshots of one's own snapshots filtered by tag
    lists every snapshot of the account (moto's built-in images alone bring ~1,300, 0.6 s) before
    it filters; the stack's few ids then narrow it. A filter, unlike SnapshotIds, does not fail on
    an id deleted meanwhile."""
    tagged = paginate(ec2, "describe_tags", Filters=[
        {"Name": "resource-type", "Values": ["snapshot"]}, {"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack_name]},
    ]).get("Tags", [])
    candidates = sorted(set(tag["ResourceId"] for tag in tagged) - known)
    if not candidates:
        return []
    filters = [{"Name": "snapshot-id", "Values": candidates}] + component_filters(stack_name, IMAGE)
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=filters, aws_retry=True)["Snapshots"]
    return sorted(snapshot["SnapshotId"] for snapshot in snapshots)


# --------------------------------------------------------------------------- the two states

class Timing(object):
    """Timeouts, poll interval and the injectable sleep/clock of one module run."""

    def __init__(self, timeout=600, interval=5, sleep=time.sleep, clock=time.monotonic):
        self.timeout = timeout
        self.interval = interval
        self.sleep = sleep
        self.clock = clock

    def kwargs(self):
        return {"sleep": self.sleep, "clock": self.clock}


def cleanup(ec2, stack_name, current, images, keep_previous, check_mode, timing):
    """Once the image is available: tag its snapshots, remove the builder, prune older images."""
    changed = False
    if not check_mode:
        changed = tag_snapshots(ec2, stack_name, current) or changed
    removed = remove_builders(ec2, stack_name, check_mode, timing.timeout, timing.interval, **timing.kwargs())
    changed = changed or bool(removed["terminated_instance_ids"] or removed["deleted_security_group_ids"])
    pruned = images_to_prune(images, current, keep_previous)
    deleted_snapshots = []
    for image in pruned:
        if check_mode:
            deleted_snapshots.extend(snapshot_ids(image))
        else:
            deleted_snapshots.extend(remove_image(ec2, image, timing.timeout, timing.interval, **timing.kwargs()))
    return {
        "changed": changed or bool(pruned),
        "builder": dict(removed, state="removed" if removed["terminated_instance_ids"] else "absent"),
        "pruned_image_ids": [image["ImageId"] for image in pruned],
        "deleted_snapshot_ids": deleted_snapshots,
    }


def present(ec2, ssm_factory, params, check_mode=False, timing=None, opener=open_url):
    """Reconcile the image of a stack. params: the web_image module's options. Without subnet_id
    or vpc_id, a bake finds the stack's subnet tagged subnet_component (and its VPC).

    No-op path: DescribeImages, DescribeInstances, DescribeSecurityGroups (and GetParameter only
    when tracking the latest base or before the first bake)."""
    timing = timing or Timing()
    stack_name = params["stack_name"]
    images = stack_images(ec2, stack_name)
    base_image_id, base_source = resolve_base_image(
        ssm_factory, images, params.get("base_image_id"), params.get("base_image_ssm_parameter"), params.get("track_latest_base"))
    image_fingerprint = fingerprint(
        params.get("app_fingerprint"), params.get("user_data"), base_image_id, params.get("root_volume_size"),
        params.get("root_volume_encrypted"), http_put_response_hop_limit=params.get("http_put_response_hop_limit", 1))
    result = {
        "changed": False, "fingerprint": image_fingerprint,
        "base_image": {"image_id": base_image_id, "source": base_source},
        "builder": {"state": "absent"}, "probe": {"status": "not-run", "msg": "no image was baked"},
        "pruned_image_ids": [], "deleted_snapshot_ids": [],
    }
    before = {"image": image_summary(images[-1]) if images else None}

    current = find_image(images, image_fingerprint)
    if current:
        result["image"] = image_summary(current)
        result["version"] = version_of(current)
        if current["State"] == "available" and params.get("cleanup", True):
            result.update(cleanup(ec2, stack_name, current, images, params.get("keep_previous", 1), check_mode, timing))
        elif current["State"] == "pending":
            result["builder"] = {"state": "kept", "msg": "the image is still pending; clean up once it is available"}
        else:
            result["builder"] = {"state": "not-checked", "msg": "cleanup=false"}
        result["diff"] = {"before": before, "after": {"image": result["image"]}}
        return result

    version = max([version_of(image) for image in images] + [0]) + 1
    name = image_name(params.get("image_name_base") or "Web Server", version)
    result.update(changed=True, version=version)
    result["image"] = {"image_id": None, "name": name, "fingerprint": image_fingerprint, "state": "absent" if check_mode else "pending"}
    result["diff"] = {"before": before, "after": {"image": result["image"]}}
    if check_mode:
        result["builder"] = {"state": "would be launched"}
        result["probe"] = {"status": "not-run", "msg": "check mode"}
        return result

    base_image = get_image(ec2, image_id=base_image_id)
    if not base_image:
        raise WaitFailed("Base image %s (from %s) was not found" % (base_image_id, base_source))
    root_size = params.get("root_volume_size") or base_root_size(base_image) or 8
    base_size = base_root_size(base_image)
    if base_size and root_size < base_size:
        raise WaitFailed("root_volume_size %s GiB is smaller than the base image's %s GiB snapshot" % (root_size, base_size))

    subnet_id, vpc_id = params.get("subnet_id"), params.get("vpc_id")
    if not subnet_id or not vpc_id:
        found_subnet, found_vpc = find_subnet(ec2, stack_name, params.get("subnet_component") or "public-subnet-a")
        subnet_id, vpc_id = subnet_id or found_subnet, vpc_id or found_vpc
    group_id, _sg_changed = ensure_builder_sg(ec2, stack_name, vpc_id, params["builder_security_group_name"], params["app_port"])
    instance = None
    stale = []
    for candidate in builder_instances(ec2, stack_name):
        if (instance is None and tags_of(candidate).get(FINGERPRINT_TAG) == image_fingerprint
                and candidate["State"]["Name"] in ("pending", "running")):
            instance = candidate
        else:
            stale.append(candidate)
    if stale:
        # Builders of an older fingerprint: no need to wait for them here, cleanup does.
        ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in stale], aws_retry=True)
    reused = instance is not None
    if instance is None:
        instance = ec2.run_instances(aws_retry=True, **run_instance_params(
            stack_name, base_image, params["instance_type"], subnet_id, group_id, params.get("user_data"),
            params["builder_instance_name"], image_fingerprint, root_size, params.get("root_volume_encrypted", True),
            params.get("http_put_response_hop_limit", 1)))["Instances"][0]
    probe = params.get("probe", False)
    instance = wait_running(ec2, instance["InstanceId"], params.get("builder_timeout", timing.timeout), timing.interval,
                            need_public_ip=probe, **timing.kwargs())
    public_ip = instance.get("PublicIpAddress")
    result["builder"] = {"state": "running", "instance_id": instance["InstanceId"], "public_ip": public_ip,
                         "security_group_id": group_id, "reused": reused}
    if probe:
        url = "http://%s:%s/health" % (public_ip, params["app_port"])
        wait_http(url, params.get("probe_timeout", 600), timing.interval, opener=opener, **timing.kwargs())
        result["probe"] = {"status": "passed", "url": url, "msg": "the builder answered at %s" % url}
    else:
        result["probe"] = {"status": "skipped", "url": None,
                           "msg": "HTTP probe skipped (probe=false): the page of the builder was not checked before imaging"}
    image_id = create_image(ec2, stack_name, instance["InstanceId"], name, version, image_fingerprint, base_image_id,
                            params.get("no_reboot", False))
    result["image"]["image_id"] = image_id
    return result


def absent(ec2, stack_name, check_mode=False, timing=None):
    """Remove every image of the stack with its snapshots, and any builder left behind."""
    timing = timing or Timing()
    images = stack_images(ec2, stack_name)
    deleted = []
    for image in images:
        deleted.extend(snapshot_ids(image) if check_mode else remove_image(ec2, image, timing.timeout, timing.interval, **timing.kwargs()))
    orphans = orphan_snapshots(ec2, stack_name, set(deleted))
    if not check_mode:
        for snapshot_id in orphans:
            delete_snapshot(ec2, snapshot_id, timing.timeout, timing.interval, **timing.kwargs())
    removed = remove_builders(ec2, stack_name, check_mode, timing.timeout, timing.interval, **timing.kwargs())
    changed = bool(images or orphans or removed["terminated_instance_ids"] or removed["deleted_security_group_ids"])
    return {
        "changed": changed,
        "image": None,
        "removed_image_ids": [image["ImageId"] for image in images],
        "deleted_snapshot_ids": deleted + orphans,
        "builder": dict(removed, state="removed" if removed["terminated_instance_ids"] else "absent"),
        "diff": {"before": {"images": [image_summary(image) for image in images]}, "after": {"images": []}},
    }
