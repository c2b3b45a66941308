# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a whole stack by its tags, read-only, in the shapes of the facts roles hand on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


def image_facts(ec2, stack_name):
    images = ec2.describe_images(
        Owners=["self"], Filters=component_filters(stack_name, "image"), aws_retry=True
    )["Images"]
    if not images:
        return None
    images.sort(key=lambda image: image.get("CreationDate", ""), reverse=True)
    available = [image for image in images if image["State"] == "available"]
    current = (available or images)[0]
    return {
        "image_id": current["ImageId"],
        "name": current.get("Name"),
        "fingerprint": tags_of(current).get("ha_web:fingerprint"),
        "state": current["State"],
        "image_ids": [image["ImageId"] for image in images],
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
    groups = autoscaling.describe_auto_scaling_groups(
        Filters=component_filters(stack_name, "asg"), aws_retry=True
    )["AutoScalingGroups"]
    sgs = ec2.describe_security_groups(Filters=component_filters(stack_name, "instance-sg"), aws_retry=True)["SecurityGroups"]
    templates = ec2.describe_launch_templates(
        Filters=component_filters(stack_name, "launch-template"), aws_retry=True
    )["LaunchTemplates"]
    if not (groups or templates or sgs):
        return None
    sg = sorted(sgs, key=lambda g: g["GroupId"])[0] if sgs else None
    template = sorted(templates, key=lambda t: t["LaunchTemplateId"])[0] if templates else None
    facts = {"group_name": None, "launch_template_id": template["LaunchTemplateId"] if template else None,
             "launch_template_version": None, "security_group_id": sg["GroupId"] if sg else None, "instances": [],
             "desired_capacity": None, "min_size": None, "max_size": None,
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
    return facts


def builder_facts(ec2, components):
    """What an interrupted bake may have left: the builder instance and its security group."""
    instance_ids = components.get("builder") or []
    live = []
    if instance_ids:
        reservations = ec2.describe_instances(
            Filters=[{"Name": "instance-id", "Values": instance_ids}, {"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}],
            aws_retry=True,
        )["Reservations"]
        live = [i["InstanceId"] for r in reservations for i in r["Instances"]]
    return {"instance_ids": live, "security_group_ids": components.get("builder-sg") or []}


def describe_stack(ec2, elbv2, autoscaling, stack_name, parts):
    # Only these parts take ids from DescribeTags (image and asg describe by tag filters).
    components = ec2_components(ec2, stack_name) if set(parts) & set(["network", "alb", "builder"]) else {}
    result = {}
    if "network" in parts:
        result["network"] = network_facts(ec2, stack_name, components)
    if "image" in parts:
        result["image"] = image_facts(ec2, stack_name)
    if "alb" in parts:
        result["alb"] = alb_facts(elbv2, stack_name, components)
    if "asg" in parts:
        result["asg"] = asg_facts(ec2, autoscaling, stack_name)
    if "builder" in parts:
        result["builder"] = builder_facts(ec2, components)
    result["exists"] = bool(components) or any(result.get(part) for part in ("image", "alb", "asg"))
    return result
