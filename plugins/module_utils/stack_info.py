# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a whole stack by its tags, read-only, in the shapes of the facts roles hand on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import STACK_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import component_filters
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import paginate
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG

SUBNETS = ("public-subnet-a", "public-subnet-c", "private-subnet-a", "private-subnet-c")
LIVE_NAT_STATES = ["pending", "available"]
LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]


def ec2_components(ec2, stack_name):
    """component -> [resource ids] for every EC2 resource tagged with the stack: two calls."""
    filters = [{"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack_name]}]
    ids = [tag["ResourceId"] for tag in paginate(ec2, "describe_tags", Filters=filters).get("Tags", [])]
    components = {}
    if not ids:
        return components
    for start in range(0, len(ids), 200):
        filters = [{"Name": "key", "Values": [COMPONENT_TAG]}, {"Name": "resource-id", "Values": ids[start:start + 200]}]
        for tag in paginate(ec2, "describe_tags", Filters=filters).get("Tags", []):
            components.setdefault(tag["Value"], []).append(tag["ResourceId"])
    return components


def _first(components, name):
    found = components.get(name) or []
    return sorted(found)[0] if found else None


def network_facts(ec2, stack_name, components):
    vpc_id = _first(components, "vpc")
    if not vpc_id:
        return None
    vpcs = ec2.describe_vpcs(VpcIds=[vpc_id], aws_retry=True)["Vpcs"]
    subnets = dict((name, _first(components, name)) for name in SUBNETS)
    nats = ec2.describe_nat_gateways(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "state", "Values": LIVE_NAT_STATES}], aws_retry=True
    )["NatGateways"]
    eip_id = _first(components, "eip")
    eip_ip = None
    if eip_id:
        addresses = ec2.describe_addresses(AllocationIds=[eip_id], aws_retry=True)["Addresses"]
        eip_ip = addresses[0].get("PublicIp") if addresses else None
    return {
        "vpc_id": vpc_id,
        "vpc_cidr": vpcs[0]["CidrBlock"] if vpcs else None,
        "public_subnet_ids": [s for s in (subnets["public-subnet-a"], subnets["public-subnet-c"]) if s],
        "private_subnet_ids": [s for s in (subnets["private-subnet-a"], subnets["private-subnet-c"]) if s],
        "subnets": subnets,
        "igw_id": _first(components, "igw"),
        "nat_gateway_id": nats[0]["NatGatewayId"] if nats else None,
        "nat_gateway_state": nats[0]["State"] if nats else None,
        "eip_allocation_id": eip_id,
        "eip_public_ip": eip_ip,
        "public_route_table_id": _first(components, "public-rt"),
        "private_route_table_id": _first(components, "private-rt"),
    }


# Tags the web_ami role puts on its images (and the builder: fingerprint, image name).
FINGERPRINT_TAG = "ha_web:fingerprint"
BASE_IMAGE_TAG = "ha_web:base-image"
VERSION_TAG = "ha_web:version"
IMAGE_NAME_TAG = "ha_web:image-name"
LIVE_IMAGE_STATES = ("pending", "available")


def _version(image, tags):
    """The N of "<name> vN": the version tag, else the name's suffix, else 0."""
    try:
        return int(tags.get(VERSION_TAG))
    except (TypeError, ValueError):
        match = re.search(r" v(\d+)$", image.get("Name") or "")
        return int(match.group(1)) if match else 0


def _snapshot_ids(image):
    return [mapping["Ebs"]["SnapshotId"] for mapping in image.get("BlockDeviceMappings") or []
            if (mapping.get("Ebs") or {}).get("SnapshotId")]


def image_view(image, tagged_snapshots, tags=None):
    """One image in the role's terms. tags: the image's own, or what its builder recorded."""
    tags = tags_of(image) if tags is None else tags
    snapshots = _snapshot_ids(image)
    return {
        "image_id": image["ImageId"],
        "name": image.get("Name"),
        "state": image.get("State"),
        "creation_date": image.get("CreationDate"),
        "fingerprint": tags.get(FINGERPRINT_TAG),
        "base_image_id": tags.get(BASE_IMAGE_TAG),
        "version": _version(image, tags),
        "tagged": tags_of(image).get(STACK_TAG) is not None,
        "snapshot_ids": snapshots,
        "untagged_snapshot_ids": [snapshot for snapshot in snapshots if snapshot not in tagged_snapshots],
    }


def _newest_first(images):
    return sorted(images, key=lambda image: (image["version"], image.get("creation_date") or ""), reverse=True)


def image_facts(ec2, stack_name, components=None):
    """The stack's image (the newest available, else the newest) as ha_web_image, plus every image
    of the stack (newest first) with what the web_ami role decides on."""
    images = ec2.describe_images(
        Owners=["self"], Filters=component_filters(stack_name, "image"), aws_retry=True
    )["Images"]
    images = [image for image in images if image.get("State") != "deregistered"]
    if not images:
        return None
    tagged_snapshots = set((components or {}).get("image") or [])
    views = _newest_first([image_view(image, tagged_snapshots) for image in images])
    available = [view for view in views if view["state"] == "available"]
    current = (available or views)[0]
    return {
        "image_id": current["image_id"],
        "name": current["name"],
        "fingerprint": current["fingerprint"],
        "state": current["state"],
        "image_ids": [view["image_id"] for view in views],
        "images": views,
    }


def _elbv2_tagged(elbv2, arns, stack_name, component):
    for start in range(0, len(arns), 20):
        for description in elbv2.describe_tags(ResourceArns=arns[start:start + 20], aws_retry=True)["TagDescriptions"]:
            tags = tags_of(description)
            if tags.get(STACK_TAG) == stack_name and tags.get(COMPONENT_TAG) == component:
                return description["ResourceArn"]
    return None


def alb_facts(elbv2, stack_name, components):
    balancers = paginate(elbv2, "describe_load_balancers").get("LoadBalancers", [])
    alb_arn = _elbv2_tagged(elbv2, [lb["LoadBalancerArn"] for lb in balancers], stack_name, "alb")
    groups = paginate(elbv2, "describe_target_groups").get("TargetGroups", [])
    tg_arn = _elbv2_tagged(elbv2, [tg["TargetGroupArn"] for tg in groups], stack_name, "target-group")
    sg_id = _first(components, "alb-sg")
    if not (alb_arn or tg_arn or sg_id):
        return None
    facts = {"load_balancer_arn": alb_arn, "target_group_arn": tg_arn, "security_group_id": sg_id,
             "dns_name": None, "url": None, "listener_arn": None, "state": None}
    if alb_arn:
        balancer = [lb for lb in balancers if lb["LoadBalancerArn"] == alb_arn][0]
        facts["dns_name"] = balancer["DNSName"]
        facts["url"] = "http://%s/" % balancer["DNSName"]
        facts["state"] = balancer.get("State", {}).get("Code")
        listeners = elbv2.describe_listeners(LoadBalancerArn=alb_arn, aws_retry=True)["Listeners"]
        http = [listener for listener in listeners if listener["Port"] == 80]
        facts["listener_arn"] = (http or listeners or [{}])[0].get("ListenerArn")
    return facts


def asg_facts(autoscaling, stack_name, components):
    groups = autoscaling.describe_auto_scaling_groups(
        Filters=component_filters(stack_name, "asg"), aws_retry=True
    )["AutoScalingGroups"]
    template_id = _first(components, "launch-template")
    sg_id = _first(components, "instance-sg")
    if not (groups or template_id or sg_id):
        return None
    facts = {"group_name": None, "launch_template_id": template_id, "launch_template_version": None,
             "security_group_id": sg_id, "instances": [], "desired_capacity": None, "min_size": None, "max_size": None}
    if groups:
        group = groups[0]
        template = group.get("LaunchTemplate") or {}
        facts.update(
            group_name=group["AutoScalingGroupName"],
            launch_template_id=template.get("LaunchTemplateId", template_id),
            launch_template_version=template.get("Version"),
            desired_capacity=group["DesiredCapacity"],
            min_size=group["MinSize"],
            max_size=group["MaxSize"],
            instances=[
                {"instance_id": i["InstanceId"], "availability_zone": i["AvailabilityZone"],
                 "lifecycle_state": i["LifecycleState"], "health_status": i["HealthStatus"]}
                for i in group.get("Instances", [])
            ],
        )
    return facts


def name_clashes(ec2, stack_name, image_name_base, ours):
    """Own images named "<image_name_base> vN" that are not the stack's (no stack tag of it, not in
    `ours`): a bake of that name would fail, so the role stops before any change."""
    pattern = re.compile(r"^%s v\d+$" % re.escape(image_name_base))
    images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [image_name_base + " v*"]}], aws_retry=True)["Images"]
    return sorted(({"image_id": image["ImageId"], "name": image.get("Name")} for image in images
                   if pattern.match(image.get("Name") or "") and tags_of(image).get(STACK_TAG) != stack_name
                   and image["ImageId"] not in ours and image.get("State") != "deregistered"),
                  key=lambda clash: clash["name"])


def builder_facts(ec2, components):
    """What an interrupted bake or image removal left behind: live builder instances, builder
    security groups, images made from a live builder that do not carry the stack tag yet (the bake
    stopped between CreateImage and tagging), and image snapshots of the stack that no image of it
    owns any more (the removal stopped between DeregisterImage and DeleteSnapshot)."""
    instance_ids = components.get("builder") or []
    live = []
    if instance_ids:
        reservations = ec2.describe_instances(
            Filters=[{"Name": "instance-id", "Values": instance_ids}, {"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}],
            aws_retry=True,
        )["Reservations"]
        live = [i for r in reservations for i in r["Instances"]]
    builders = [{
        "instance_id": i["InstanceId"],
        "state": i["State"]["Name"],
        "fingerprint": tags_of(i).get(FINGERPRINT_TAG),
        "image_name": tags_of(i).get(IMAGE_NAME_TAG),
        "base_image_id": i.get("ImageId"),
        "public_ip": i.get("PublicIpAddress"),
    } for i in live]
    images = []
    tagged_snapshots = set(components.get("image") or [])
    if live:
        made = ec2.describe_images(
            Owners=["self"], Filters=[{"Name": "source-instance-id", "Values": [b["instance_id"] for b in builders]}], aws_retry=True
        )["Images"]
        by_instance = dict((b["instance_id"], b) for b in builders)
        for image in made:
            builder = by_instance.get(image.get("SourceInstanceId"))
            if tags_of(image).get(STACK_TAG) or image.get("State") not in LIVE_IMAGE_STATES or not builder:
                continue
            recorded = {FINGERPRINT_TAG: builder["fingerprint"], BASE_IMAGE_TAG: builder["base_image_id"]}
            images.append(image_view(image, tagged_snapshots, recorded))
    # A deleted group's tags may still be listed (moto keeps them): keep the groups that exist.
    group_ids = components.get("builder-sg") or []
    if group_ids:
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": group_ids}], aws_retry=True)["SecurityGroups"]
        group_ids = sorted(group["GroupId"] for group in groups)
    return {
        "instance_ids": [b["instance_id"] for b in builders],
        "security_group_ids": group_ids,
        "instances": builders,
        "images": _newest_first(images),
    }


def orphan_snapshot_ids(ec2, components, images):
    """Snapshots tagged as the stack's image snapshots that none of its images owns. DescribeTags
    found them (DescribeSnapshots of one's own snapshots filtered by tag lists every snapshot of
    the account first); DescribeSnapshots by id then keeps those that still exist (a deleted
    resource's tags may still be listed), and a filter, unlike SnapshotIds, does not fail on a
    snapshot deleted meanwhile."""
    owned = set(snapshot for image in images for snapshot in image["snapshot_ids"])
    candidates = sorted(i for i in components.get("image") or [] if i.startswith("snap-") and i not in owned)
    if not candidates:
        return []
    snapshots = ec2.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "snapshot-id", "Values": candidates}], aws_retry=True)["Snapshots"]
    return sorted(snapshot["SnapshotId"] for snapshot in snapshots)


def recorded_base_image(images):
    """The base recorded on the newest image of the stack that has one (tag ha_web:base-image)."""
    for image in images:
        if image.get("base_image_id"):
            return image["base_image_id"]
    return None


def base_image_facts(ec2, ssm_factory, images, image_id=None, ssm_parameter=None, track_latest=False):
    """The base AMI of the next bake, with its root device (name, snapshot size): image_id when
    given; else, unless track_latest, the base recorded on the stack's newest image (so that a newer
    AMI in SSM does not make a new image); else the SSM parameter's value. Fields are null when the
    parameter or the image is not found. ssm_factory makes the SSM client, only when it is needed."""
    source = "option" if image_id else None
    if not image_id and not track_latest:
        image_id = recorded_base_image(images)
        source = "recorded" if image_id else None
    if not image_id and ssm_parameter:
        source = "ssm"
        try:
            image_id = ssm_factory().get_parameter(Name=ssm_parameter, aws_retry=True)["Parameter"]["Value"]
        except is_boto3_error_code("ParameterNotFound"):
            image_id = None
    facts = {"image_id": image_id, "source": source, "ssm_parameter": ssm_parameter if source == "ssm" else None,
             "name": None, "state": None, "root_device_name": None, "root_volume_size": None}
    if not image_id:
        return facts
    try:
        found = ec2.describe_images(ImageIds=[image_id], aws_retry=True)["Images"]
    except is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"]):
        found = []
    if found:
        image = found[0]
        root = [m for m in image.get("BlockDeviceMappings") or [] if m.get("DeviceName") == image.get("RootDeviceName")]
        facts.update(name=image.get("Name"), state=image.get("State"), root_device_name=image.get("RootDeviceName"),
                     root_volume_size=((root[0].get("Ebs") or {}).get("VolumeSize") if root else None))
    return facts


def describe_stack(ec2, elbv2, autoscaling, stack_name, parts, ssm_factory=None, base_image=None, image_name_base=None):
    """The requested parts of the stack. base_image: dict(image_id=..., ssm_parameter=...,
    track_latest=...) for the part base_image (ssm_factory: makes an SSM client, called only to read
    the parameter); image_name_base: with the part builder, look for images whose names clash."""
    components = ec2_components(ec2, stack_name)
    result = {}
    if "network" in parts:
        result["network"] = network_facts(ec2, stack_name, components)
    # The builder and base_image parts need the images too (their snapshots, their recorded base).
    image = image_facts(ec2, stack_name, components) if set(parts) & set(["image", "builder", "base_image"]) else None
    if "image" in parts:
        result["image"] = image
    if "alb" in parts:
        result["alb"] = alb_facts(elbv2, stack_name, components)
    if "asg" in parts:
        result["asg"] = asg_facts(autoscaling, stack_name, components)
    if "builder" in parts:
        builder = builder_facts(ec2, components)
        builder["snapshot_ids"] = orphan_snapshot_ids(ec2, components, (image or {}).get("images", []) + builder["images"])
        builder["name_clashes"] = name_clashes(ec2, stack_name, image_name_base, set(i["image_id"] for i in builder["images"])) \
            if image_name_base else []
        result["builder"] = builder
    if "base_image" in parts:
        result["base_image"] = base_image_facts(ec2, ssm_factory, (image or {}).get("images", []), **(base_image or {}))
    result["exists"] = bool(components) or any(result.get(part) for part in ("alb", "asg"))
    return result
