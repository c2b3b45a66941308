"""Checks of the deployed stack's hardening, read with boto3 (the deployer's own read permissions
are enough). Each returns what it looked at, so a test can show it; each raises AssertionError
with the evidence when the stack is not hardened."""

STACK_TAG = "ha_web:stack"
COMPONENT_TAG = "ha_web:component"
DROP_INVALID_HEADERS = "routing.http.drop_invalid_header_fields.enabled"


def _component(stack, component):
    return [{"Name": "tag:" + STACK_TAG, "Values": [stack]}, {"Name": "tag:" + COMPONENT_TAG, "Values": [component]}]


def _one(items, what):
    assert len(items) == 1, "expected exactly one %s, found %r" % (what, items)
    return items[0]


def group(autoscaling, stack):
    groups = autoscaling.describe_auto_scaling_groups(
        Filters=[{"Name": "tag:" + STACK_TAG, "Values": [stack]}, {"Name": "tag:" + COMPONENT_TAG, "Values": ["asg"]}])["AutoScalingGroups"]
    return _one(groups, "Auto Scaling group of stack %s" % stack)


def launch_template_versions(ec2, stack):
    template = _one(ec2.describe_launch_templates(Filters=_component(stack, "launch-template"))["LaunchTemplates"], "launch template")
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"])["LaunchTemplateVersions"]
    assert versions, template
    return template, versions


def load_balancer(elbv2, stack):
    balancers = elbv2.describe_load_balancers()["LoadBalancers"]
    tags = {}
    if balancers:
        for description in elbv2.describe_tags(ResourceArns=[b["LoadBalancerArn"] for b in balancers])["TagDescriptions"]:
            tags[description["ResourceArn"]] = dict((t["Key"], t["Value"]) for t in description["Tags"])
    mine = [b for b in balancers if tags.get(b["LoadBalancerArn"], {}).get(STACK_TAG) == stack]
    return _one(mine, "load balancer of stack %s" % stack)


# ------------------------------------------------------------------------------------------ checks

def imdsv2_on_template(ec2, stack):
    """Every version of the launch template requires IMDSv2 tokens."""
    _template, versions = launch_template_versions(ec2, stack)
    seen = {}
    for version in versions:
        options = version["LaunchTemplateData"].get("MetadataOptions") or {}
        seen[version["VersionNumber"]] = options.get("HttpTokens")
        assert options.get("HttpTokens") == "required", (version["VersionNumber"], options)
        assert options.get("HttpPutResponseHopLimit") == 1, (version["VersionNumber"], options)
    return seen


def imdsv2_on_builder(run_instances_params):
    """The builder's RunInstances asked for IMDSv2 only (params as the proxy saw them)."""
    assert run_instances_params, "no RunInstances call was seen"
    for params in run_instances_params:
        assert params.get("MetadataOptions.HttpTokens") == "required", params
        assert params.get("MetadataOptions.HttpEndpoint") == "enabled", params
        assert params.get("MetadataOptions.HttpPutResponseHopLimit") == "1", params
    return [p.get("MetadataOptions.HttpTokens") for p in run_instances_params]


def encrypted_builder_volume(run_instances_params):
    """The builder's root volume (so the AMI's snapshot) was asked encrypted."""
    out = []
    for params in run_instances_params:
        mappings = sorted(k for k in params if k.startswith("BlockDeviceMapping.") and k.endswith(".DeviceName"))
        assert mappings, params
        for key in mappings:
            prefix = key[:-len("DeviceName")]
            assert params.get(prefix + "Ebs.Encrypted") == "true", (prefix, params)
            out.append((params[key], params[prefix + "Ebs.Encrypted"]))
    return out


def encrypted_template_volumes(ec2, stack):
    """Every EBS mapping of every launch template version is encrypted (moto reports AMI snapshots
    unencrypted whatever they are, so the template is what can be checked here)."""
    _template, versions = launch_template_versions(ec2, stack)
    out = []
    for version in versions:
        mappings = version["LaunchTemplateData"].get("BlockDeviceMappings") or []
        assert mappings, ("no block device mapping: the volume would follow the AMI's encryption", version)
        for mapping in mappings:
            assert (mapping.get("Ebs") or {}).get("Encrypted") is True, (version["VersionNumber"], mapping)
            out.append((version["VersionNumber"], mapping["DeviceName"], True))
    return out


def no_public_ip(ec2, autoscaling, stack):
    """The template asks for no public address, the group lives in private subnets only (no
    public-IP-on-launch, default route to the NAT gateway, not the internet gateway), and the
    group's instances have no public address."""
    _template, versions = launch_template_versions(ec2, stack)
    for version in versions:
        data = version["LaunchTemplateData"]
        for nic in data.get("NetworkInterfaces") or []:
            assert nic.get("AssociatePublicIpAddress") in (False, None), (version["VersionNumber"], nic)
    the_group = group(autoscaling, stack)
    subnet_ids = sorted(s for s in the_group["VPCZoneIdentifier"].split(",") if s)
    subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert len(subnets) == 2, subnets
    for subnet in subnets:
        tags = dict((t["Key"], t["Value"]) for t in subnet.get("Tags") or [])
        assert tags.get(COMPONENT_TAG, "").startswith("private-subnet-"), (subnet["SubnetId"], tags)
        assert subnet.get("MapPublicIpOnLaunch") is False, subnet
        tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}])["RouteTables"]
        table = _one(tables, "route table of %s" % subnet["SubnetId"])
        default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        assert default and all(r.get("NatGatewayId") and not r.get("GatewayId", "").startswith("igw-") for r in default), table
    ids = [i["InstanceId"] for i in the_group["Instances"]]
    assert ids, the_group
    reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    for instance in instances:
        assert not instance.get("PublicIpAddress"), (instance["InstanceId"], instance.get("PublicIpAddress"))
        assert instance["SubnetId"] in subnet_ids, instance["SubnetId"]
    return {"subnets": subnet_ids, "instances": ids}


def instance_sg_only_from_alb(ec2, elbv2, stack):
    """The instances' only security group admits one thing: the app port from the ALB's group."""
    alb_sg = _one(load_balancer(elbv2, stack)["SecurityGroups"], "security group of the load balancer")
    sg = _one(ec2.describe_security_groups(Filters=_component(stack, "instance-sg"))["SecurityGroups"], "instance security group")
    _template, versions = launch_template_versions(ec2, stack)
    for version in versions:
        data = version["LaunchTemplateData"]
        groups = sorted(g for nic in data.get("NetworkInterfaces") or [] for g in nic.get("Groups") or []) + sorted(
            data.get("SecurityGroupIds") or [])
        assert groups == [sg["GroupId"]], (version["VersionNumber"], groups)
    permissions = sg["IpPermissions"]
    assert len(permissions) == 1, permissions
    rule = permissions[0]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 80, 80), rule
    assert [p["GroupId"] for p in rule.get("UserIdGroupPairs") or []] == [alb_sg], rule
    assert not rule.get("IpRanges") and not rule.get("Ipv6Ranges") and not rule.get("PrefixListIds"), rule
    return {"instance_sg": sg["GroupId"], "from": alb_sg}


def builder_sg_gone(ec2, stack):
    """After the bake: no builder security group and no live builder instance of the stack."""
    groups = ec2.describe_security_groups(Filters=_component(stack, "builder-sg"))["SecurityGroups"]
    assert groups == [], groups
    live = ec2.describe_instances(Filters=_component(stack, "builder") + [
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}])["Reservations"]
    assert live == [], live
    return True


def alb_drops_invalid_headers(elbv2, stack):
    arn = load_balancer(elbv2, stack)["LoadBalancerArn"]
    attributes = dict((a["Key"], a["Value"]) for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"])
    assert attributes.get(DROP_INVALID_HEADERS) == "true", attributes
    return attributes[DROP_INVALID_HEADERS]


def no_ssh(ec2, stack, run_instances_params):
    """No key pair on the builder or in any launch template version, and no security group of the
    stack admits port 22 (or every port)."""
    for params in run_instances_params:
        assert "KeyName" not in params, params
    _template, versions = launch_template_versions(ec2, stack)
    for version in versions:
        assert "KeyName" not in version["LaunchTemplateData"], (version["VersionNumber"], version["LaunchTemplateData"])
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:" + STACK_TAG, "Values": [stack]}])["SecurityGroups"]
    assert groups, "no security group of stack %s" % stack
    for sg in groups:
        for rule in sg["IpPermissions"]:
            every_port = rule["IpProtocol"] == "-1"
            assert every_port is False and not rule["FromPort"] <= 22 <= rule["ToPort"], (sg["GroupId"], rule)
    return sorted(sg["GroupId"] for sg in groups)
