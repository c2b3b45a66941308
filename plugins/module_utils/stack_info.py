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
    """(ARN, tags) of the first ELBv2 resource among arns that carries the stack's and the
    component's tags; (None, {}) when none does."""
    for start in range(0, len(arns), 20):
        for description in elbv2.describe_tags(ResourceArns=arns[start:start + 20], aws_retry=True)["TagDescriptions"]:
            tags = tags_of(description)
            if tags.get(STACK_TAG) == stack_name and tags.get(COMPONENT_TAG) == component:
                return description["ResourceArn"], tags
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
    components = ec2_components(ec2, stack_name)
    result = {}
    if "network" in parts:
        result["network"] = network_facts(ec2, stack_name, components)
    if "image" in parts:
        result["image"] = image_facts(ec2, stack_name)
    if "alb" in parts:
        result["alb"] = alb_facts(elbv2, stack_name, components, ec2)
    if "asg" in parts:
        result["asg"] = asg_facts(autoscaling, stack_name, components)
    if "builder" in parts:
        result["builder"] = builder_facts(ec2, components)
    result["exists"] = bool(components) or any(result.get(part) for part in ("alb", "asg"))
    return result
