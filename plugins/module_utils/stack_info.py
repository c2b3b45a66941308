# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a whole stack by its tags, read-only, in the shapes of the facts roles hand on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.immersionday.ha_web.plugins.module_utils.cloudwatch_dashboard import get_dashboard
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import STACK_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import carries_stack
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import component_filters
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import of_stack
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import paginate
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import dashboard_name
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack_dashboard import dashboard_view
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import UNTAGGED

SUBNETS = ("public-subnet-a", "public-subnet-c", "private-subnet-a", "private-subnet-c")
LIVE_NAT_STATES = ["pending", "available"]
LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]
# A subnet's component is <tier>-subnet-<AZ letter> (the network role's network__components).
SUBNET_COMPONENT = re.compile(r"^(public|private)-subnet-[a-z]$")
# Route tables: public-rt, private-rt (modes single and regional), private-rt-<AZ letter> (per_az).
ROUTE_TABLE_COMPONENT = re.compile(r"^(public|private)-rt(-[a-z])?$")
PRIVATE_TABLE_COMPONENT = re.compile(r"^private-rt(-[a-z])?$")
# Elastic IPs: eip (single), eip-<AZ letter> (per_az), eip-regional-<AZ letter> (regional).
EIP_COMPONENT = re.compile(r"^eip(-regional)?(-[a-z])?$")
ANYWHERE = "0.0.0.0/0"
ROUTE_TARGETS = ("GatewayId", "NatGatewayId", "NetworkInterfaceId", "InstanceId", "TransitGatewayId", "VpcPeeringConnectionId")


def ec2_components(ec2, stack_name):
    """component -> [resource ids] for every EC2 resource tagged with the stack: two calls.

    moto keeps the tags of deleted resources: callers describe the ids with a filter (an id
    filter answers nothing for a gone resource, where an id list would fail with NotFound).
    The value filter takes * and ? as wildcards: only tags whose value is the stack name count."""
    filters = [{"Name": "key", "Values": [STACK_TAG]}, {"Name": "value", "Values": [stack_name]}]
    ids = [tag["ResourceId"] for tag in paginate(ec2, "describe_tags", Filters=filters).get("Tags", [])
           if carries_stack([tag], stack_name)]
    components = {}
    if not ids:
        return components
    for start in range(0, len(ids), 200):
        filters = [{"Name": "key", "Values": [COMPONENT_TAG]}, {"Name": "resource-id", "Values": ids[start:start + 200]}]
        for tag in paginate(ec2, "describe_tags", Filters=filters).get("Tags", []):
            if tag.get("Key") == COMPONENT_TAG:
                components.setdefault(tag["Value"], []).append(tag["ResourceId"])
    return components


def _first(components, name):
    found = components.get(name) or []
    return sorted(found)[0] if found else None


def _ids(components, names):
    return sorted(set(i for name in names for i in components.get(name) or []))


def _by_component(resources, id_key, components, names):
    """{component: resource} for the described resources, the first id of each component."""
    by_id = dict((resource[id_key], resource) for resource in resources)
    found = {}
    for name in names:
        live = [i for i in sorted(components.get(name) or []) if i in by_id]
        if live:
            found[name] = by_id[live[0]]
    return found


def _vpc_details(ec2, vpc):
    attribute = dict(
        (name, ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=name, aws_retry=True)[name[0].upper() + name[1:]]["Value"])
        for name in ("enableDnsSupport", "enableDnsHostnames")
    )
    return {"id": vpc["VpcId"], "cidr": vpc["CidrBlock"], "dns_support": attribute["enableDnsSupport"],
            "dns_hostnames": attribute["enableDnsHostnames"], "tags": tags_of(vpc)}


def _eip_details(address):
    return {"allocation_id": address["AllocationId"], "public_ip": address.get("PublicIp"),
            "association_id": address.get("AssociationId"), "network_interface_id": address.get("NetworkInterfaceId"),
            "tags": tags_of(address)}


def _subnet_details(subnet):
    return {"id": subnet["SubnetId"], "vpc_id": subnet["VpcId"], "cidr": subnet["CidrBlock"], "zone": subnet["AvailabilityZone"],
            "map_public": bool(subnet.get("MapPublicIpOnLaunch")), "tags": tags_of(subnet)}


def _igw_details(igw):
    return {"id": igw["InternetGatewayId"], "tags": tags_of(igw),
            "vpc_ids": [a["VpcId"] for a in igw.get("Attachments") or [] if a.get("State") in ("attached", "available", "attaching")]}


def _nat_details(nat):
    addresses = nat.get("NatGatewayAddresses") or []
    tags = tags_of(nat)
    return {"id": nat["NatGatewayId"], "state": nat["State"], "subnet_id": nat.get("SubnetId"), "tags": tags,
            "component": tags.get(COMPONENT_TAG),
            # zonal (one subnet) or regional (the whole VPC); endpoints that predate the field answer none
            "availability_mode": nat.get("AvailabilityMode") or "zonal",
            "allocation_ids": [a["AllocationId"] for a in addresses if a.get("AllocationId")],
            "network_interface_ids": [a["NetworkInterfaceId"] for a in addresses if a.get("NetworkInterfaceId")],
            # a regional gateway's addresses, zone by zone
            "zone_addresses": sorted([a.get("AvailabilityZone"), a["AllocationId"]] for a in addresses
                                     if a.get("AllocationId") and a.get("Status") not in ("failed", "disassociating", "unassigning")
                                     and a.get("AvailabilityZone")),
            "failure_message": nat.get("FailureMessage")}


def _nat_mode(tables, nats):
    """The NAT mode the private route tables show: regional when they route to a regional gateway,
    per_az when there are per-zone tables, single when the one table routes to a zonal gateway;
    None without a private table routing to a live gateway of the stack, mixed during a switch."""
    by_id = dict((nat["id"], nat) for nat in nats)
    modes = set()
    for name, table in tables.items():
        target = by_id.get(table["routes"].get(ANYWHERE))
        if not PRIVATE_TABLE_COMPONENT.match(name) or target is None:
            continue
        if target["availability_mode"] == "regional":
            modes.add("regional")
        else:
            modes.add("per_az" if name != "private-rt" else "single")
    return (modes.pop() if len(modes) == 1 else "mixed") if modes else None


def route_target(route):
    """The target id of a route, None for a blackhole (its target is gone)."""
    if route.get("State") == "blackhole":
        return None
    for key in ROUTE_TARGETS:
        if route.get(key):
            return route[key]
    return None


def _route_table_details(table):
    associations = [a for a in table.get("Associations") or []
                    if a.get("SubnetId") and not a.get("Main") and a.get("AssociationState", {}).get("State", "associated") == "associated"]
    return {"id": table["RouteTableId"], "vpc_id": table["VpcId"], "tags": tags_of(table),
            "routes": dict((r["DestinationCidrBlock"], route_target(r)) for r in table.get("Routes") or [] if r.get("DestinationCidrBlock")),
            "subnet_ids": sorted(a["SubnetId"] for a in associations)}


def vpc_security_groups(ec2, stack_name, vpc_id, names=None):
    """The VPC's security groups but its default one (those named `names` only, when given), each
    {id, name, stack}: stack is the holder (the stack's own name only when its tag is exactly
    that, UNTAGGED without a stack tag). Security group names are unique per VPC."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    if names:
        filters.append({"Name": "group-name", "Values": sorted(names)})
    groups = paginate(ec2, "describe_security_groups", Filters=filters).get("SecurityGroups", [])
    return sorted(({"id": group["GroupId"], "name": group["GroupName"], "stack": _holder(tags_of(group))} for group in groups
                   if group["GroupName"] != "default" and (not names or group["GroupName"] in names)),
                  key=lambda group: group["name"])


def zone_names(ec2):
    """The region's available zones (the network role checks its AZ letters against them)."""
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}], aws_retry=True)["AvailabilityZones"]
    return sorted(z["ZoneName"] for z in zones if z.get("ZoneType", "availability-zone") == "availability-zone")


def instance_type_errors(ec2, checks, zones):
    """One message per instance type not offered in one of its zones, naming the variable that
    sets it; one read-only call (DescribeInstanceTypeOfferings of the types, region-wide, so that
    the message can say where the type is offered). checks: [{variable, instance_type, zones}];
    zones: the region's available zones (a zone that is not one of them is the AZ letter check's
    to report, not this one's)."""
    checks = [c for c in checks if c.get("instance_type")]
    if not checks:
        return []
    types = sorted(set(c["instance_type"] for c in checks))
    offerings = paginate(ec2, "describe_instance_type_offerings", LocationType="availability-zone",
                         Filters=[{"Name": "instance-type", "Values": types}]).get("InstanceTypeOfferings", [])
    offered = set((o["InstanceType"], o["Location"]) for o in offerings)
    errors = []
    for check in checks:
        kind = check["instance_type"]
        missing = [z for z in check.get("zones") or [] if z in zones and (kind, z) not in offered]
        if missing:
            where = sorted(z for t, z in offered if t == kind)
            errors.append("%s %s is not offered in %s (this region offers it in %s)"
                          % (check["variable"], kind, ", ".join(missing), ", ".join(where) if where else "no zone: is the type right?"))
    return errors


def network_facts(ec2, stack_name, components):
    """The stack's network in the shape of the ha_web_network fact, plus what the network role
    compares with its input (vpc, eip, subnet_details, igw, nat_gateways, route_tables).
    None when the stack has no network resource; vpc_id None when only a remnant without its
    VPC is left (an Elastic IP allocated by an interrupted run)."""
    subnet_names = sorted(name for name in components if SUBNET_COMPONENT.match(name))
    eip_names = sorted(name for name in components if EIP_COMPONENT.match(name))
    table_names = sorted(name for name in components if ROUTE_TABLE_COMPONENT.match(name))

    def described(call, key, id_key, id_filter, names):
        ids = _ids(components, names)
        if not ids:
            return {}
        resources = getattr(ec2, call)(Filters=[{"Name": id_filter, "Values": ids}], aws_retry=True)[key]
        return _by_component(resources, id_key, components, names)

    vpc = described("describe_vpcs", "Vpcs", "VpcId", "vpc-id", ["vpc"]).get("vpc")
    eips = described("describe_addresses", "Addresses", "AllocationId", "allocation-id", eip_names)
    eip = eips.get("eip")
    subnets = described("describe_subnets", "Subnets", "SubnetId", "subnet-id", subnet_names)
    igw = described("describe_internet_gateways", "InternetGateways", "InternetGatewayId", "internet-gateway-id", ["igw"]).get("igw")
    tables = described("describe_route_tables", "RouteTables", "RouteTableId", "route-table-id", table_names)
    if not (vpc or eips or subnets or igw or tables):
        return None
    nats = []
    if vpc:
        # Every state: a deleted NAT gateway's interface may still hold the Elastic IP on moto.
        nats = [_nat_details(n) for n in paginate(ec2, "describe_nat_gateways", Filter=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
                .get("NatGateways", [])]
    # The stack's live gateways, in component order (nat, nat-a, nat-c, nat-regional): the mode's.
    # (an untagged one counts when it holds an address of the stack)
    our_allocations = set(address["AllocationId"] for address in eips.values())
    live = sorted((n for n in nats if n["state"] in LIVE_NAT_STATES and (
        n["tags"].get(STACK_TAG) == stack_name or (STACK_TAG not in n["tags"] and our_allocations & set(n["allocation_ids"])))),
        key=lambda n: (n["component"] or "~", n["id"]))
    table_details = dict((name, _route_table_details(table)) for name, table in tables.items())
    private_tables = [table_details[name]["id"] for name in sorted(table_details) if PRIVATE_TABLE_COMPONENT.match(name)]
    addresses = [eips[name] for name in sorted(eips)]
    groups = vpc_security_groups(ec2, stack_name, vpc["VpcId"]) if vpc else []
    ids = dict((name, subnets[name]["SubnetId"] if name in subnets else None) for name in SUBNETS + tuple(subnet_names))
    return {
        "vpc_id": vpc["VpcId"] if vpc else None,
        "vpc_cidr": vpc["CidrBlock"] if vpc else None,
        "public_subnet_ids": [s for s in (ids["public-subnet-a"], ids["public-subnet-c"]) if s],
        "private_subnet_ids": [s for s in (ids["private-subnet-a"], ids["private-subnet-c"]) if s],
        "subnets": ids,  # the lab's four (null when missing), then any other found
        "igw_id": igw["InternetGatewayId"] if igw else None,
        "nat_mode": _nat_mode(table_details, nats),
        # The first of each list (AZ a's in mode per_az): the keys of mode single.
        "nat_gateway_id": live[0]["id"] if live else None,
        # available once every gateway is
        "nat_gateway_state": ([n["state"] for n in live if n["state"] != "available"] + [live[0]["state"]])[0] if live else None,
        "nat_gateway_ids": [n["id"] for n in live],
        "eip_allocation_id": addresses[0]["AllocationId"] if addresses else None,
        "eip_public_ip": addresses[0].get("PublicIp") if addresses else None,
        "eip_allocation_ids": [a["AllocationId"] for a in addresses],
        "eip_public_ips": [a.get("PublicIp") for a in addresses],
        "public_route_table_id": tables["public-rt"]["RouteTableId"] if "public-rt" in tables else None,
        "private_route_table_id": private_tables[0] if private_tables else None,
        "private_route_table_ids": private_tables,
        # What the network role compares with its input.
        "vpc": _vpc_details(ec2, vpc) if vpc else None,
        "eip": _eip_details(eip) if eip else None,
        "eips": dict((name, _eip_details(address)) for name, address in eips.items()),
        "subnet_details": dict((name, _subnet_details(subnet)) for name, subnet in subnets.items()),
        "igw": _igw_details(igw) if igw else None,
        "nat_gateways": nats,
        "route_tables": table_details,
        # Every security group in the VPC (the default one aside), with its holder: one that is not
        # the stack's is someone else's, and keeps the VPC from being deleted.
        "security_groups": groups,
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


def _snapshot_gb(image):
    """GB of the image's snapshots, at their volumes' full size (the cost estimate's upper bound)."""
    return sum(int(mapping["Ebs"].get("VolumeSize") or 0) for mapping in image.get("BlockDeviceMappings") or []
               if (mapping.get("Ebs") or {}).get("SnapshotId"))


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
        "snapshot_gb": _snapshot_gb(image),
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
    images = [image for image in of_stack(images, stack_name, "image") if image.get("State") != "deregistered"]
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
        "snapshot_gb": sum(view["snapshot_gb"] for view in views),
        "image_ids": [view["image_id"] for view in views],
        "images": views,
    }


def _elbv2_tagged(elbv2, arns, stack_name, component):
    """(ARN, tags) of the first ELBv2 resource among arns that carries the stack's and the
    component's tags; (None, {}) when none does."""
    for start in range(0, len(arns), 20):
        for description in elbv2.describe_tags(ResourceArns=arns[start:start + 20], aws_retry=True)["TagDescriptions"]:
            if carries_stack(description.get("Tags"), stack_name, component):
                return description["ResourceArn"], tags_of(description)
    return None, {}


def ingress_rules(group):
    """A security group's ingress rules, one string per source: '<protocol> <port or from-to> <source>'
    (e.g. 'tcp 80 0.0.0.0/0', '-1 all sg-0123'), sorted: the alb role compares them with its own."""
    rules = []
    for perm in group.get("IpPermissions") or []:
        start, end = perm.get("FromPort"), perm.get("ToPort")
        if start is None or (start == -1 and end == -1):
            ports = "all"
        else:
            ports = str(start) if start == end else "%s-%s" % (start, end)
        sources = [r["CidrIp"] for r in perm.get("IpRanges") or []]
        sources += [r["CidrIpv6"] for r in perm.get("Ipv6Ranges") or []]
        sources += [p["GroupId"] for p in perm.get("UserIdGroupPairs") or []]
        sources += [p["PrefixListId"] for p in perm.get("PrefixListIds") or []]
        rules.extend("%s %s %s" % (perm.get("IpProtocol"), ports, source) for source in sources)
    return sorted(rules)


def _default_action(action, group_names):
    """One default action as the `listeners` option of amazon.aws.elb_application_lb takes it: a
    simple forward names its target group (AWS answers both TargetGroupArn and ForwardConfig)."""
    action = dict((key, value) for key, value in action.items() if key != "Order")
    if action.get("Type") != "forward":
        return action
    config = action.get("ForwardConfig") or {}
    arns = set([action["TargetGroupArn"]] if action.get("TargetGroupArn") else [])
    arns.update(group["TargetGroupArn"] for group in config.get("TargetGroups") or [])
    sticky = (config.get("TargetGroupStickinessConfig") or {}).get("Enabled")
    if len(arns) != 1 or sticky:
        return action
    arn = arns.pop()
    return {"Type": "forward", "TargetGroupName": group_names[arn]} if arn in group_names else {"Type": "forward", "TargetGroupArn": arn}


def listener_spec(listener, group_names):
    """A listener as the `listeners` option of amazon.aws.elb_application_lb takes it (Protocol,
    Port, SslPolicy and Certificates of a secure listener, DefaultActions): the role compares it
    with the listeners it passes. group_names maps target group ARNs to names."""
    spec = {
        "Protocol": listener.get("Protocol"),
        "Port": listener["Port"],
        "DefaultActions": [
            _default_action(action, group_names) for action in sorted(listener.get("DefaultActions") or [], key=lambda a: a.get("Order", 0))
        ],
    }
    # AWS answers no policy for HTTP (moto answers one): only a secure listener's counts.
    if spec["Protocol"] in ("HTTPS", "TLS"):
        spec["SslPolicy"] = listener.get("SslPolicy")
        spec["Certificates"] = [{"CertificateArn": c["CertificateArn"]} for c in (listener.get("Certificates") or [])[:1]]
    return spec


def _security_group(ec2, group_ids):
    """The first live group among group_ids, or None. Filtered by group-id rather than asked by
    GroupIds: DescribeTags may still name a deleted group (moto keeps the tags of deleted
    resources), and GroupIds fails the whole call on one missing group."""
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": group_ids}], aws_retry=True)["SecurityGroups"]
    if not groups:
        return None
    group = sorted(groups, key=lambda g: g["GroupId"])[0]
    return {
        "group_id": group["GroupId"],
        "name": group.get("GroupName"),
        "description": group.get("Description"),
        "vpc_id": group.get("VpcId"),
        "ingress": ingress_rules(group),
        "tags": tags_of(group),
    }


def _target_group(group, tags):
    return {
        "arn": group["TargetGroupArn"],
        "name": group["TargetGroupName"],
        "protocol": group.get("Protocol"),
        "port": group.get("Port"),
        "vpc_id": group.get("VpcId"),
        "target_type": group.get("TargetType"),
        "health_check": {
            "protocol": group.get("HealthCheckProtocol"),
            "port": group.get("HealthCheckPort"),
            "path": group.get("HealthCheckPath"),
            "interval": group.get("HealthCheckIntervalSeconds"),
            "timeout": group.get("HealthCheckTimeoutSeconds"),
            "healthy_threshold": group.get("HealthyThresholdCount"),
            "unhealthy_threshold": group.get("UnhealthyThresholdCount"),
            "matcher": (group.get("Matcher") or {}).get("HttpCode"),
        },
        "tags": tags,
    }


def _load_balancer(elbv2, balancer, tags, listeners, group_names):
    attributes = dict(
        (a["Key"], a["Value"])
        for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=balancer["LoadBalancerArn"], aws_retry=True)["Attributes"]
    )
    zones = sorted(balancer.get("AvailabilityZones") or [], key=lambda zone: zone.get("ZoneName", ""))
    return {
        "arn": balancer["LoadBalancerArn"],
        "name": balancer["LoadBalancerName"],
        "dns_name": balancer.get("DNSName"),
        "state": (balancer.get("State") or {}).get("Code"),
        "state_reason": (balancer.get("State") or {}).get("Reason"),
        "scheme": balancer.get("Scheme"),
        "type": balancer.get("Type"),
        "vpc_id": balancer.get("VpcId"),
        "subnet_ids": [zone["SubnetId"] for zone in zones],
        "security_group_ids": sorted(balancer.get("SecurityGroups") or []),
        "ip_address_type": balancer.get("IpAddressType"),
        "attributes": attributes,
        "deletion_protection": attributes.get("deletion_protection.enabled") == "true",
        "drop_invalid_header_fields": attributes.get("routing.http.drop_invalid_header_fields.enabled") == "true",
        "listeners": sorted((listener_spec(listener, group_names) for listener in listeners), key=lambda listener: listener["Port"]),
        "tags": tags,
    }


def _untagged_target_groups(elbv2, groups, vpc_ids):
    """Target groups in the stack's VPC that carry no stack tag at all: community.aws.elb_target_group
    creates a group, then tags it in another call, so a run killed in between leaves one."""
    candidates = dict((tg["TargetGroupArn"], tg) for tg in groups if tg.get("VpcId") in vpc_ids)
    arns = sorted(candidates)
    untagged = []
    for start in range(0, len(arns), 20):
        for description in elbv2.describe_tags(ResourceArns=arns[start:start + 20], aws_retry=True)["TagDescriptions"]:
            tags = tags_of(description)
            if STACK_TAG not in tags:
                untagged.append(_target_group(candidates[description["ResourceArn"]], tags))
    return sorted(untagged, key=lambda tg: tg["name"])


def alb_facts(elbv2, stack_name, components, ec2):
    """The alb part: the keys of the ha_web_alb fact, plus what the role compares with what it
    wants (security_group, target_group, load_balancer: rules, health check, subnets,
    attributes, listeners, tags); null for what the stack does not have. When the stack has no
    tagged target group, untagged_target_groups lists those of its VPC without a stack tag."""
    balancers = paginate(elbv2, "describe_load_balancers").get("LoadBalancers", [])
    alb_arn, alb_tags = _elbv2_tagged(elbv2, [lb["LoadBalancerArn"] for lb in balancers], stack_name, "alb")
    groups = paginate(elbv2, "describe_target_groups").get("TargetGroups", [])
    tg_arn, tg_tags = _elbv2_tagged(elbv2, [tg["TargetGroupArn"] for tg in groups], stack_name, "target-group")
    sg_ids = components.get("alb-sg") or []
    group = _security_group(ec2, sg_ids) if sg_ids else None
    vpc_ids = set(components.get("vpc") or [])
    untagged = _untagged_target_groups(elbv2, groups, vpc_ids) if vpc_ids and not tg_arn else []
    if not (alb_arn or tg_arn or group or untagged):
        return None
    facts = {"load_balancer_arn": alb_arn, "target_group_arn": tg_arn, "security_group_id": group["group_id"] if group else None,
             "dns_name": None, "url": None, "listener_arn": None, "https_listener_arn": None, "state": None,
             "security_group": group, "target_group": None, "load_balancer": None, "untagged_target_groups": untagged}
    if tg_arn:
        facts["target_group"] = _target_group([tg for tg in groups if tg["TargetGroupArn"] == tg_arn][0], tg_tags)
    if alb_arn:
        balancer = [lb for lb in balancers if lb["LoadBalancerArn"] == alb_arn][0]
        listeners = elbv2.describe_listeners(LoadBalancerArn=alb_arn, aws_retry=True)["Listeners"]
        http = [listener for listener in listeners if listener["Port"] == 80]
        https = [listener for listener in listeners if listener["Port"] == 443 and listener.get("Protocol") == "HTTPS"]
        facts["dns_name"] = balancer["DNSName"]
        facts["url"] = "%s://%s/" % ("https" if https else "http", balancer["DNSName"])
        facts["state"] = balancer.get("State", {}).get("Code")
        facts["listener_arn"] = (http or listeners or [{}])[0].get("ListenerArn")
        facts["https_listener_arn"] = https[0]["ListenerArn"] if https else None
        group_names = dict((tg["TargetGroupArn"], tg["TargetGroupName"]) for tg in groups)
        facts["load_balancer"] = _load_balancer(elbv2, balancer, alb_tags, listeners, group_names)
    return facts


def _ingress_rules(permissions):
    """Inbound rules as sorted strings 'tcp 80-80 from sg-...' (or a CIDR, prefix list): easy to compare."""
    rules = set()
    for perm in permissions or []:
        head = "%s %s-%s from " % (perm.get("IpProtocol"), perm.get("FromPort"), perm.get("ToPort"))
        for pair in perm.get("UserIdGroupPairs") or []:
            rules.add(head + pair.get("GroupId", ""))
        for cidr in perm.get("IpRanges") or []:
            rules.add(head + cidr.get("CidrIp", ""))
        for cidr in perm.get("Ipv6Ranges") or []:
            rules.add(head + cidr.get("CidrIpv6", ""))
        for prefix in perm.get("PrefixListIds") or []:
            rules.add(head + prefix.get("PrefixListId", ""))
    return sorted(rules)


def security_group_view(group):
    """The instance security group: name, description, VPC, tags and inbound rules."""
    return {"id": group["GroupId"], "name": group["GroupName"], "description": group.get("Description"),
            "vpc_id": group.get("VpcId"), "tags": tags_of(group), "ingress": _ingress_rules(group.get("IpPermissions"))}


def template_version_view(version):
    """What the asg role manages in one launch template version, flat, in the role's terms."""
    data = version.get("LaunchTemplateData") or {}
    nic = (data.get("NetworkInterfaces") or [{}])[0]
    mapping = (data.get("BlockDeviceMappings") or [{}])[0]
    ebs = mapping.get("Ebs") or {}
    metadata = data.get("MetadataOptions") or {}
    # Only what instances and volumes launch with (moto also files the template's own tags here).
    specs = dict((spec.get("ResourceType"), tags_of(spec)) for spec in data.get("TagSpecifications") or [])
    return {
        "description": version.get("VersionDescription"),
        "image_id": data.get("ImageId"),
        "instance_type": data.get("InstanceType"),
        "security_group_ids": sorted(set(nic.get("Groups") or []) | set(data.get("SecurityGroupIds") or [])),
        "associate_public_ip_address": nic.get("AssociatePublicIpAddress"),
        "http_tokens": metadata.get("HttpTokens"),
        "http_endpoint": metadata.get("HttpEndpoint"),
        "http_put_response_hop_limit": metadata.get("HttpPutResponseHopLimit"),
        "monitoring": bool((data.get("Monitoring") or {}).get("Enabled")),
        "root_device_name": mapping.get("DeviceName"),
        "root_volume_size": ebs.get("VolumeSize"),
        "root_volume_type": ebs.get("VolumeType"),
        "root_encrypted": ebs.get("Encrypted"),
        "root_kms_key_id": ebs.get("KmsKeyId"),
        "instance_tags": specs.get("instance", {}),
        "volume_tags": specs.get("volume", {}),
    }


def launch_template_view(ec2, template, group_version):
    """The launch template with the data of its latest version and of the group's (numbered) version."""
    template_id = template["LaunchTemplateId"]
    latest = template["LatestVersionNumber"]
    wanted = set([str(latest)])
    if group_version and str(group_version).isdigit():
        wanted.add(str(group_version))
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=sorted(wanted),
                                                     aws_retry=True)["LaunchTemplateVersions"]
    data = dict((str(v["VersionNumber"]), template_version_view(v)) for v in versions)
    # The tag store, not DescribeLaunchTemplates: moto shows there only the tags given at creation.
    filters = [{"Name": "resource-id", "Values": [template_id]}]
    tags = dict((t["Key"], t["Value"]) for t in paginate(ec2, "describe_tags", Filters=filters).get("Tags", []))
    return {"id": template_id, "name": template["LaunchTemplateName"], "tags": tags,
            "latest_version": str(latest), "default_version": str(template["DefaultVersionNumber"]), "versions": data}


def group_view(group):
    """The group's settings that the asg role manages."""
    template = group.get("LaunchTemplate") or {}
    version = template.get("Version")
    return {
        "name": group["AutoScalingGroupName"],
        "status": group.get("Status"),
        "launch_template_id": template.get("LaunchTemplateId"),
        "launch_template_version": version,
        "min_size": group["MinSize"],
        "max_size": group["MaxSize"],
        "desired_capacity": group["DesiredCapacity"],
        "subnet_ids": sorted(s for s in (group.get("VPCZoneIdentifier") or "").split(",") if s),
        "target_group_arns": sorted(group.get("TargetGroupARNs") or []),
        "health_check_type": group.get("HealthCheckType"),
        "health_check_grace_period": group.get("HealthCheckGracePeriod"),
        "metrics": dict((m["Metric"], m.get("Granularity")) for m in group.get("EnabledMetrics") or []),
        "tags": dict((t["Key"], {"value": t.get("Value"), "propagate_at_launch": bool(t.get("PropagateAtLaunch"))})
                     for t in group.get("Tags") or []),
        # Instances launched from another version than the group's (an instance refresh did not finish).
        "outdated_instance_ids": sorted(
            i["InstanceId"] for i in group.get("Instances") or []
            if (i.get("LaunchTemplate") or {}).get("Version") not in (None, version)),
    }


def policy_view(policy):
    config = policy.get("TargetTrackingConfiguration") or {}
    return {
        "name": policy["PolicyName"],
        "type": policy.get("PolicyType"),
        "metric": (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType"),
        "target_value": float(config["TargetValue"]) if config.get("TargetValue") is not None else None,
        "disable_scale_in": bool(config.get("DisableScaleIn")),
        "estimated_instance_warmup": policy.get("EstimatedInstanceWarmup"),
    }


def asg_facts(ec2, autoscaling, stack_name):
    """The web tier in the shape of ha_web_asg, plus what the asg role compares with what it wants:
    security_group, launch_template, group and policies (null or empty when missing).

    Each resource is found by a Describe call with the stack's tag filters, which answers live
    resources only (moto's DescribeTags still lists the tags of deleted ones)."""
    groups = of_stack(autoscaling.describe_auto_scaling_groups(
        Filters=component_filters(stack_name, "asg"), aws_retry=True
    )["AutoScalingGroups"], stack_name, "asg")
    sgs = of_stack(ec2.describe_security_groups(Filters=component_filters(stack_name, "instance-sg"), aws_retry=True)["SecurityGroups"],
                   stack_name, "instance-sg")
    # The template's own tags: given at creation, which is where the role puts them (moto's answer
    # shows only those; AWS's shows all).
    templates = of_stack(ec2.describe_launch_templates(
        Filters=component_filters(stack_name, "launch-template"), aws_retry=True
    )["LaunchTemplates"], stack_name, "launch-template")
    if not (groups or templates or sgs):
        return None
    sg = sorted(sgs, key=lambda g: g["GroupId"])[0] if sgs else None
    template = sorted(templates, key=lambda t: t["LaunchTemplateId"])[0] if templates else None
    facts = {"group_name": None, "launch_template_id": template["LaunchTemplateId"] if template else None,
             "launch_template_version": None, "security_group_id": sg["GroupId"] if sg else None, "instances": [],
             "desired_capacity": None, "min_size": None, "max_size": None,
             "instance_type": None, "root_volume_size": None, "root_volume_type": None,
             "security_group": security_group_view(sg) if sg else None, "launch_template": None, "group": None, "policies": []}
    group_version = None
    if groups:
        group = groups[0]
        spec = group.get("LaunchTemplate") or {}
        group_version = spec.get("Version")
        facts.update(
            group_name=group["AutoScalingGroupName"],
            launch_template_id=spec.get("LaunchTemplateId", facts["launch_template_id"]),
            launch_template_version=group_version,
            desired_capacity=group["DesiredCapacity"],
            min_size=group["MinSize"],
            max_size=group["MaxSize"],
            instances=[
                {"instance_id": i["InstanceId"], "availability_zone": i["AvailabilityZone"],
                 "lifecycle_state": i["LifecycleState"], "health_status": i["HealthStatus"]}
                for i in group.get("Instances", [])
            ],
            group=group_view(group),
        )
        policies = autoscaling.describe_policies(AutoScalingGroupName=group["AutoScalingGroupName"], aws_retry=True)
        facts["policies"] = [policy_view(p) for p in policies.get("ScalingPolicies") or []]
    if template:
        same = (facts["group"] or {}).get("launch_template_id") in (None, template["LaunchTemplateId"])
        facts["launch_template"] = launch_template_view(ec2, template, group_version if same else None)
        # What the group launches (its version, else the latest), for the cost estimate.
        versions = facts["launch_template"]["versions"]
        launched = versions.get(str(group_version) if same else None) or versions.get(facts["launch_template"]["latest_version"]) or {}
        facts.update(instance_type=launched.get("instance_type"), root_volume_size=launched.get("root_volume_size"),
                     root_volume_type=launched.get("root_volume_type"))
    return facts


def _holder(tags):
    """The stack that a resource's tags name (tag ha_web:stack), or UNTAGGED without one."""
    return tags.get(STACK_TAG) or UNTAGGED


def _elbv2_holder(elbv2, arn):
    return _holder(tags_of(elbv2.describe_tags(ResourceArns=[arn], aws_retry=True)["TagDescriptions"][0]))


# A name that AWS refuses as invalid is held by no one.
def _load_balancer_holder(ec2, elbv2, autoscaling, name):
    try:
        found = elbv2.describe_load_balancers(Names=[name], aws_retry=True)["LoadBalancers"]
    except is_boto3_error_code(["LoadBalancerNotFound", "ValidationError"]):
        return None
    return _elbv2_holder(elbv2, found[0]["LoadBalancerArn"]) if found else None


def _target_group_holder(ec2, elbv2, autoscaling, name):
    try:
        found = elbv2.describe_target_groups(Names=[name], aws_retry=True)["TargetGroups"]
    except is_boto3_error_code(["TargetGroupNotFound", "ValidationError"]):
        return None
    return _elbv2_holder(elbv2, found[0]["TargetGroupArn"]) if found else None


def _group_holder(ec2, elbv2, autoscaling, name):
    found = [group for group in autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name], aws_retry=True)["AutoScalingGroups"]
             if group["AutoScalingGroupName"] == name]
    return _holder(dict((t["Key"], t.get("Value")) for t in found[0].get("Tags") or [])) if found else None


def _launch_template_holder(ec2, elbv2, autoscaling, name):
    # The name filter takes * and ? as wildcards: the name must be exactly this one.
    found = [template for template in ec2.describe_launch_templates(
        Filters=[{"Name": "launch-template-name", "Values": [name]}], aws_retry=True)["LaunchTemplates"]
        if template["LaunchTemplateName"] == name]
    return _holder(tags_of(found[0])) if found else None


# name key -> (part of `result` and its key holding the stack's own resource, look-up by name)
NAME_LOOKUPS = {
    "load_balancer": ("alb", "load_balancer", _load_balancer_holder),
    "target_group": ("alb", "target_group", _target_group_holder),
    "auto_scaling_group": ("asg", "group", _group_holder),
    "launch_template": ("asg", "launch_template", _launch_template_holder),
}


def security_group_holders(ec2, stack_name, names, vpc_id, result):
    """{name: holder} of security groups named `names` in the VPC vpc_id (names are unique per VPC):
    None for a name that no group of the VPC has, and for all without a VPC (a new one holds none).
    The network part already lists the VPC's groups, and a group of the stack read in the alb or asg
    part answers its own name: then no call."""
    holders = dict((name, None) for name in names)
    network = result.get("network") or {}
    if network.get("vpc_id") == vpc_id and "security_groups" in network:
        listed = network["security_groups"]
    else:
        own = [((result.get(part) or {}).get("security_group") or {}).get("name") for part in ("alb", "asg")]
        holders.update((name, stack_name) for name in names if name in own)
        missing = [name for name in names if holders[name] is None]
        listed = vpc_security_groups(ec2, stack_name, vpc_id, missing) if vpc_id and missing else []
    holders.update((group["name"], group["stack"]) for group in listed if group["name"] in holders)
    return holders


def name_holders(ec2, elbv2, autoscaling, stack_name, names, result, vpc_id=None):
    """Who holds each name in `names` (keys load_balancer, target_group, auto_scaling_group,
    launch_template, names unique in the account and region; security_groups, a list of names unique
    in the VPC vpc_id): the holder's ha_web:stack tag, UNTAGGED when it has none, None when no
    resource has the name (security_groups: a dict name -> holder). The roles and site.yml check it
    before their first change. A name held by the stack's own resource that `result` already read
    costs no call."""
    holders = {}
    for key, (part, own_key, lookup) in NAME_LOOKUPS.items():
        name = names.get(key)
        if not name:
            continue
        own = (result.get(part) or {}).get(own_key) or {}
        holders[key] = stack_name if own.get("name") == name else lookup(ec2, elbv2, autoscaling, name)
    if names.get("security_groups"):
        holders["security_groups"] = security_group_holders(ec2, stack_name, names["security_groups"], vpc_id, result)
    return holders


def image_root(ec2, image_id, template):
    """The root device (name, size in GiB of its snapshot) of image_id, for the asg role's launch
    template; None when the launch template's versions read (`template`, launch_template_view) all
    use that image and record its root device already (nothing to describe: a no-op)."""
    versions = list(((template or {}).get("versions") or {}).values())
    if versions and all(v.get("image_id") == image_id and v.get("root_device_name") for v in versions):
        return None
    try:
        found = ec2.describe_images(ImageIds=[image_id], aws_retry=True)["Images"]
    except is_boto3_error_code(["InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable"]):
        found = []
    if not found:
        return {"image_id": image_id, "root_device_name": None, "root_volume_size": None}
    image = found[0]
    root = [m for m in image.get("BlockDeviceMappings") or [] if m.get("DeviceName") == image.get("RootDeviceName")]
    return {"image_id": image_id, "root_device_name": image.get("RootDeviceName"),
            "root_volume_size": (root[0].get("Ebs") or {}).get("VolumeSize") if root else None}


def name_clashes(ec2, stack_name, image_name_base, ours):
    """Own images named "<image_name_base> vN" that are not the stack's (no stack tag of it, not in
    `ours`), each with its holder (stack): a bake of that name would fail, so the role stops before
    any change; teardown names them and leaves them."""
    pattern = re.compile(r"^%s v\d+$" % re.escape(image_name_base))
    images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [image_name_base + " v*"]}], aws_retry=True)["Images"]
    return sorted(({"image_id": image["ImageId"], "name": image.get("Name"), "stack": _holder(tags_of(image))} for image in images
                   if pattern.match(image.get("Name") or "") and not carries_stack(image.get("Tags"), stack_name)
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


def dashboard_facts(cloudwatch, stack_name):
    """The stack's dashboard (<stack_name>-ha-web) and whether its body's marker says it is this
    stack's in this region (dashboards are global to the account): dashboard_view."""
    return dashboard_view(stack_name, cloudwatch.meta.region_name, get_dashboard(cloudwatch, dashboard_name(stack_name)))


def describe_stack(ec2, elbv2, autoscaling, stack_name, parts, ssm_factory=None, base_image=None, image_name_base=None,
                   names=None, image_id=None, cloudwatch=None, instance_types=None, vpc_id=None):
    """The requested parts of the stack. base_image: dict(image_id=..., ssm_parameter=...,
    track_latest=...) for the part base_image (ssm_factory: makes an SSM client, called only to read
    the parameter); image_name_base: with the part builder, look for images whose names clash;
    names: who holds these names (name_holders; vpc_id: where the security group names are looked up,
    default the stack's VPC); image_id: with the part asg, the
    root device of this image (else of the stack's image when the part image is read) unless the
    launch template already records it (image_root); cloudwatch: a client, for the part dashboard;
    instance_types: check that these are offered in their zones (instance_type_errors(), whose
    checks they are)."""
    # Only these parts take ids from DescribeTags (asg describes by tag filters).
    components = ec2_components(ec2, stack_name) if set(parts) & set(["network", "alb", "image", "builder", "base_image"]) else {}
    result = {}
    if "network" in parts:
        result["network"] = network_facts(ec2, stack_name, components)
        result["availability_zones"] = zone_names(ec2)
    if instance_types:
        result["instance_type_errors"] = instance_type_errors(ec2, instance_types, result.get("availability_zones") or zone_names(ec2))
    # The builder and base_image parts need the images too (their snapshots, their recorded base).
    image = image_facts(ec2, stack_name, components) if set(parts) & set(["image", "builder", "base_image"]) else None
    if "image" in parts:
        result["image"] = image
    if "alb" in parts:
        result["alb"] = alb_facts(elbv2, stack_name, components, ec2)
    if "asg" in parts:
        result["asg"] = asg_facts(ec2, autoscaling, stack_name)
    if "dashboard" in parts:
        result["dashboard"] = dashboard_facts(cloudwatch, stack_name)
    if "builder" in parts:
        builder = builder_facts(ec2, components)
        builder["snapshot_ids"] = orphan_snapshot_ids(ec2, components, (image or {}).get("images", []) + builder["images"])
        builder["name_clashes"] = name_clashes(ec2, stack_name, image_name_base, set(i["image_id"] for i in builder["images"])) \
            if image_name_base else []
        result["builder"] = builder
    if "base_image" in parts:
        result["base_image"] = base_image_facts(ec2, ssm_factory, (image or {}).get("images", []), **(base_image or {}))
    if names:
        # The VPC of names.security_groups: given, else the stack's (read, else tagged).
        vpc_id = vpc_id or (result.get("network") or {}).get("vpc_id") or _first(components, "vpc")
        result["name_holders"] = name_holders(ec2, elbv2, autoscaling, stack_name, names, result, vpc_id)
    image_id = image_id or (image or {}).get("image_id")
    if "asg" in parts and image_id:
        result["image_root"] = image_root(ec2, image_id, (result["asg"] or {}).get("launch_template"))
    result["exists"] = bool(components) or any(result.get(part) for part in ("image", "alb", "asg"))
    return result
