# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's load balancer: its security group, target group, Application Load Balancer and
listener(s), found by the stack's tags and reconciled with as few calls as possible.

Every function takes boto3 clients wrapped for retries (calls made with aws_retry=True).
The target group's registered targets are never read nor changed: the Auto Scaling group
owns them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import time

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import STACK_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import call_until_accepted
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import component_filters
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import error_code
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import poll
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import stack_tags
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tag_specifications
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG

SG_COMPONENT = "alb-sg"
TG_COMPONENT = "target-group"
LB_COMPONENT = "alb"

DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ATTR_DELETION_PROTECTION = "deletion_protection.enabled"
ATTR_DROP_INVALID_HEADERS = "routing.http.drop_invalid_header_fields.enabled"

_NAME_RE = re.compile(r"^[A-Za-z0-9-]+$")
# ELBv2 DescribeTags takes at most 20 ARNs per call.
_TAGS_BATCH = 20


def _sleep(seconds):
    # Looked up at call time, so that tests can patch time.sleep.
    time.sleep(seconds)


class AlbError(Exception):
    """A failure the module reports as is (no AWS error attached)."""


# ---------------------------------------------------------------- validation


def _elb_name_problem(name):
    if not name:
        return "must not be empty"
    if len(name) > 32:
        return "must be at most 32 characters (got %d)" % len(name)
    if not _NAME_RE.match(name):
        return "may contain only alphanumerics and hyphens"
    if name.startswith("-") or name.endswith("-"):
        return "must not start or end with a hyphen"
    if name.lower().startswith("internal-"):
        return "must not start with 'internal-'"
    return None


def validate(params, check_mode=False):
    """Check the options before any call that changes something. Returns nothing; raises AlbError
    with one message naming every faulty option and its rule.

    In check mode the network may itself be only planned (a fresh stack): its VPC and subnet ids
    are then null, and the plan is to create everything in them."""
    problems = []
    for option in ("load_balancer_name", "target_group_name"):
        problem = _elb_name_problem(params.get(option) or "")
        if problem:
            problems.append("%s %r %s" % (option, params.get(option), problem))
    if params.get("state", "present") == "present":
        planned_network = check_mode and not params.get("vpc_id")
        if not params.get("vpc_id") and not check_mode:
            problems.append("vpc_id is required with state=present")
        subnets = params.get("subnet_ids") or []
        distinct = len(subnets) if planned_network else len(set(subnets))
        if distinct < 2:
            problems.append("subnet_ids needs at least 2 distinct subnets in different availability zones (got %d)" % distinct)
        sg_name = params.get("security_group_name") or ""
        if not sg_name or len(sg_name) > 255 or sg_name.lower().startswith("sg-"):
            problems.append("security_group_name %r must be 1 to 255 characters and not start with 'sg-'" % sg_name)
        cidrs = params.get("ingress_cidrs") or []
        if not cidrs:
            problems.append("ingress_cidrs needs at least one CIDR")
        for cidr in cidrs:
            try:
                ipaddress.ip_network(u"%s" % cidr, strict=True)
            except ValueError:
                problems.append("ingress_cidrs entry %r is not a valid network CIDR" % cidr)
        path = params.get("health_check_path") or ""
        if not path.startswith("/") or len(path) > 1024:
            problems.append("health_check_path %r must start with '/' and be at most 1024 characters" % path)
        interval = params.get("health_check_interval")
        timeout = params.get("health_check_timeout")
        if not 5 <= interval <= 300:
            problems.append("health_check_interval %s must be between 5 and 300 seconds" % interval)
        if not 2 <= timeout <= 120:
            problems.append("health_check_timeout %s must be between 2 and 120 seconds" % timeout)
        elif timeout >= interval:
            problems.append("health_check_timeout %s must be less than health_check_interval %s" % (timeout, interval))
        for option in ("healthy_threshold", "unhealthy_threshold"):
            if not 2 <= params.get(option) <= 10:
                problems.append("%s %s must be between 2 and 10" % (option, params.get(option)))
        if not re.match(r"^[0-9]{3}([,-][0-9]{3})*$", params.get("health_check_matcher") or ""):
            problems.append("health_check_matcher %r must be HTTP codes such as '200', '200,302' or '200-299'" % params.get("health_check_matcher"))
        cert = params.get("certificate_arn") or ""
        if cert and not cert.startswith("arn:"):
            problems.append("certificate_arn %r must be an ACM or IAM certificate ARN (arn:...)" % cert)
    if problems:
        raise AlbError("; ".join(problems))


# ---------------------------------------------------------------- wanted state


def wanted_tags(params, component, name):
    tags = stack_tags(params["stack_name"], name=name, extra=params.get("tags") or {})
    tags[COMPONENT_TAG] = component
    return tags


def listener_ports(params):
    return [80, 443] if params.get("certificate_arn") else [80]


def wanted_ingress(params):
    """The SG's ingress rules as a set of (protocol, from, to, cidr)."""
    return set(("tcp", port, port, cidr) for port in listener_ports(params) for cidr in params["ingress_cidrs"])


def current_ingress(group):
    rules = set()
    for perm in group.get("IpPermissions") or []:
        proto = perm.get("IpProtocol")
        start, end = perm.get("FromPort"), perm.get("ToPort")
        for rng in perm.get("IpRanges") or []:
            rules.add((proto, start, end, rng["CidrIp"]))
        for rng in perm.get("Ipv6Ranges") or []:
            rules.add((proto, start, end, rng["CidrIpv6"]))
        for pair in perm.get("UserIdGroupPairs") or []:
            rules.add((proto, start, end, "sg:" + pair["GroupId"]))
        for pl in perm.get("PrefixListIds") or []:
            rules.add((proto, start, end, "pl:" + pl["PrefixListId"]))
    return rules


def ip_permissions(rules, description=None):
    """boto3 IpPermissions for a set of (protocol, from, to, source) rules, in a stable order."""
    perms = []
    for proto, start, end, source in sorted(rules, key=lambda r: (str(r[0]), r[1] or 0, r[2] or 0, r[3])):
        perm = {"IpProtocol": proto}
        if start is not None:
            perm["FromPort"] = start
            perm["ToPort"] = end
        entry_desc = {"Description": description} if description else {}
        if source.startswith("sg:"):
            perm["UserIdGroupPairs"] = [dict(GroupId=source[3:])]
        elif source.startswith("pl:"):
            perm["PrefixListIds"] = [dict(PrefixListId=source[3:])]
        elif ":" in source:
            perm["Ipv6Ranges"] = [dict(CidrIpv6=source, **entry_desc)]
        else:
            perm["IpRanges"] = [dict(CidrIp=source, **entry_desc)]
        perms.append(perm)
    return perms


def health_check_args(params):
    return {
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckPath": params["health_check_path"],
        "HealthCheckIntervalSeconds": params["health_check_interval"],
        "HealthCheckTimeoutSeconds": params["health_check_timeout"],
        "HealthyThresholdCount": params["healthy_threshold"],
        "UnhealthyThresholdCount": params["unhealthy_threshold"],
        "Matcher": {"HttpCode": params["health_check_matcher"]},
    }


def health_check_drift(params, group):
    """The health check settings of an existing target group that differ from the wanted ones."""
    wanted = health_check_args(params)
    drift = {}
    for key, value in wanted.items():
        if key == "Matcher":
            if (group.get("Matcher") or {}).get("HttpCode") != value["HttpCode"]:
                drift[key] = value
        elif group.get(key) != value:
            drift[key] = value
    return drift


def wanted_attributes(params):
    return {
        ATTR_DELETION_PROTECTION: "true" if params["deletion_protection"] else "false",
        ATTR_DROP_INVALID_HEADERS: "true" if params["drop_invalid_header_fields"] else "false",
    }


def forward_action(tg_arn):
    return [{"Type": "forward", "TargetGroupArn": tg_arn}]


def redirect_action():
    return [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}]


def wanted_listeners(params, tg_arn):
    """port -> create_listener arguments (without LoadBalancerArn)."""
    cert = params.get("certificate_arn")
    if not cert:
        return {80: {"Protocol": "HTTP", "Port": 80, "DefaultActions": forward_action(tg_arn)}}
    return {
        80: {"Protocol": "HTTP", "Port": 80, "DefaultActions": redirect_action()},
        443: {
            "Protocol": "HTTPS",
            "Port": 443,
            "SslPolicy": params.get("ssl_policy") or DEFAULT_SSL_POLICY,
            "Certificates": [{"CertificateArn": cert}],
            "DefaultActions": forward_action(tg_arn),
        },
    }


def _normalise_actions(actions):
    """Comparable form of listener default actions (AWS fills in defaults and ForwardConfig)."""
    out = []
    for action in sorted(actions or [], key=lambda a: a.get("Order", 0)):
        kind = action.get("Type")
        if kind == "forward":
            arns = set()
            if action.get("TargetGroupArn"):
                arns.add(action["TargetGroupArn"])
            for tg in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
                arns.add(tg["TargetGroupArn"])
            out.append(("forward", tuple(sorted(arns))))
        elif kind == "redirect":
            cfg = action.get("RedirectConfig") or {}
            out.append(
                (
                    "redirect",
                    cfg.get("Protocol", "#{protocol}"),
                    str(cfg.get("Port", "#{port}")),
                    cfg.get("Host", "#{host}"),
                    cfg.get("Path", "/#{path}"),
                    cfg.get("Query", "#{query}"),
                    cfg.get("StatusCode"),
                )
            )
        else:
            out.append((kind, repr(sorted(action.items()))))
    return out


def listener_drift(wanted, current):
    """True when an existing listener must be modified to match the wanted arguments."""
    if current.get("Protocol") != wanted["Protocol"]:
        return True
    if _normalise_actions(current.get("DefaultActions")) != _normalise_actions(wanted["DefaultActions"]):
        return True
    if wanted["Protocol"] == "HTTPS":
        if current.get("SslPolicy") != wanted["SslPolicy"]:
            return True
        current_certs = [c.get("CertificateArn") for c in current.get("Certificates") or []]
        if current_certs[:1] != [wanted["Certificates"][0]["CertificateArn"]]:
            return True
    return False


# ---------------------------------------------------------------- look-ups


def find_security_groups(ec2, stack_name, vpc_id=None):
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}] if vpc_id else []
    filters += component_filters(stack_name, SG_COMPONENT)
    return ec2.describe_security_groups(Filters=filters, aws_retry=True)["SecurityGroups"]


def describe_tags(elbv2, arns):
    """arn -> tags (Ansible dict) for ELBv2 resources, batched by 20."""
    arns = [a for a in arns if a]
    result = {}
    for i in range(0, len(arns), _TAGS_BATCH):
        resp = elbv2.describe_tags(ResourceArns=arns[i:i + _TAGS_BATCH], aws_retry=True)
        for desc in resp.get("TagDescriptions") or []:
            result[desc["ResourceArn"]] = tags_of(desc)
    return result


def _target_groups_named(elbv2, name):
    try:
        return elbv2.describe_target_groups(Names=[name], aws_retry=True)["TargetGroups"]
    except ClientError as e:
        if error_code(e) == "TargetGroupNotFound":
            return []
        raise


def _load_balancers_named(elbv2, name):
    try:
        return elbv2.describe_load_balancers(Names=[name], aws_retry=True)["LoadBalancers"]
    except ClientError as e:
        if error_code(e) == "LoadBalancerNotFound":
            return []
        raise


def _all_pages(call, key):
    items, marker = [], None
    while True:
        kwargs = {"Marker": marker} if marker else {}
        resp = call(aws_retry=True, **kwargs)
        items.extend(resp.get(key) or [])
        marker = resp.get("NextMarker")
        if not marker:
            return items


def _mine(tags, stack_name, component):
    return tags.get(STACK_TAG) == stack_name and tags.get(COMPONENT_TAG) == component


def scan_by_tags(elbv2, kind, stack_name):
    """Every target group (kind 'tg') or load balancer (kind 'lb') of the stack, by tags."""
    if kind == "tg":
        items, arn_key, component = _all_pages(elbv2.describe_target_groups, "TargetGroups"), "TargetGroupArn", TG_COMPONENT
    else:
        items, arn_key, component = _all_pages(elbv2.describe_load_balancers, "LoadBalancers"), "LoadBalancerArn", LB_COMPONENT
    tags = describe_tags(elbv2, [i[arn_key] for i in items])
    return [(i, tags.get(i[arn_key], {})) for i in items if _mine(tags.get(i[arn_key], {}), stack_name, component)]


def find_elb_resources(elbv2, stack_name, tg_name, lb_name, scan_on_miss=True):
    """Find the stack's target group and load balancer: by name first (one call each), confirmed
    with one DescribeTags; a scan by tags only when the name finds nothing.

    Returns {'tg': [(group, tags)], 'lb': [(balancer, tags)]} with the stack's own resources;
    raises AlbError when the name is taken by a resource of another stack or of nobody."""
    named = {"tg": _target_groups_named(elbv2, tg_name), "lb": _load_balancers_named(elbv2, lb_name)}
    arn_keys = {"tg": "TargetGroupArn", "lb": "LoadBalancerArn"}
    components = {"tg": TG_COMPONENT, "lb": LB_COMPONENT}
    labels = {"tg": ("target group", tg_name, "target_group_name"), "lb": ("load balancer", lb_name, "load_balancer_name")}
    tags = describe_tags(elbv2, [r[arn_keys[k]] for k in named for r in named[k]])
    found = {}
    for kind in ("tg", "lb"):
        found[kind] = []
        for res in named[kind]:
            res_tags = tags.get(res[arn_keys[kind]], {})
            if _mine(res_tags, stack_name, components[kind]):
                found[kind].append((res, res_tags))
            else:
                label, name, option = labels[kind]
                owner = res_tags.get(STACK_TAG)
                raise AlbError(
                    "a %s named %s already exists and does not belong to stack %s (its %s tag is %s): "
                    "choose another %s or remove it" % (label, name, stack_name, STACK_TAG, owner if owner else "missing", option)
                )
        if not found[kind] and scan_on_miss:
            found[kind] = scan_by_tags(elbv2, kind, stack_name)
    return found


# ---------------------------------------------------------------- reconcile (present)


class Plan(object):
    """Collects what changed (or would change in check mode)."""

    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.changes = []

    def change(self, text):
        self.changes.append(text)
        return not self.check_mode

    @property
    def changed(self):
        return bool(self.changes)


def _ensure_ec2_tags(ec2, resource_id, current, wanted, plan, label):
    missing = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
    if missing and plan.change("tag %s %s" % (label, ", ".join(sorted(missing)))):
        ec2.create_tags(Resources=[resource_id], Tags=[{"Key": k, "Value": v} for k, v in sorted(missing.items())], aws_retry=True)


def _ensure_elb_tags(elbv2, arn, current, wanted, plan, label):
    missing = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
    if missing and plan.change("tag %s %s" % (label, ", ".join(sorted(missing)))):
        elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": k, "Value": v} for k, v in sorted(missing.items())], aws_retry=True)


def ensure_security_group(ec2, params, plan, sleep=_sleep):
    """Returns the group id (None in check mode when it would be created)."""
    name = params["security_group_name"]
    tags = wanted_tags(params, SG_COMPONENT, name)
    groups = find_security_groups(ec2, params["stack_name"], params["vpc_id"])
    wanted = wanted_ingress(params)
    rule_desc = params.get("security_group_rule_description")
    if not groups:
        if not plan.change("create security group %s" % name):
            return None
        group_id = ec2.create_security_group(
            GroupName=name,
            Description=params["security_group_description"],
            VpcId=params["vpc_id"],
            TagSpecifications=tag_specifications("security-group", tags),
            aws_retry=True,
        )["GroupId"]
        # A new group may not be visible at once on AWS (eventual consistency).
        _poll_call(
            lambda: ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ip_permissions(wanted, rule_desc), aws_retry=True),
            ("InvalidGroup.NotFound",), params["wait_timeout"], params["poll_interval"], sleep, "security group %s" % group_id,
        )
        return group_id
    group = groups[0]
    group_id = group["GroupId"]
    current = current_ingress(group)
    extra, missing = current - wanted, wanted - current
    if extra and plan.change("revoke %d unwanted ingress rule(s) from %s" % (len(extra), name)):
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=ip_permissions(extra), aws_retry=True)
    if missing and plan.change("authorize %d ingress rule(s) on %s" % (len(missing), name)):
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ip_permissions(missing, rule_desc), aws_retry=True)
    _ensure_ec2_tags(ec2, group_id, tags_of(group), tags, plan, name)
    return group_id


def ensure_target_group(elbv2, params, found, plan):
    name = params["target_group_name"]
    tags = wanted_tags(params, TG_COMPONENT, name)
    if not found:
        if not plan.change("create target group %s" % name):
            return None
        args = dict(Name=name, Protocol="HTTP", Port=80, VpcId=params["vpc_id"], TargetType="instance", Tags=_tag_list(tags))
        args.update(health_check_args(params))
        return elbv2.create_target_group(aws_retry=True, **args)["TargetGroups"][0]["TargetGroupArn"]
    group, current_tags = found[0]
    arn = group["TargetGroupArn"]
    fixed = [
        (k, v, group.get(k))
        for k, v in (("TargetGroupName", name), ("Protocol", "HTTP"), ("Port", 80), ("VpcId", params["vpc_id"]), ("TargetType", "instance"))
        if group.get(k) != v
    ]
    if fixed:
        raise AlbError(
            "target group %s of stack %s cannot be changed in place (%s): tear the alb down first"
            % (arn, params["stack_name"], ", ".join("%s is %s, wanted %s" % (k, cur, v) for k, v, cur in fixed))
        )
    drift = health_check_drift(params, group)
    if drift and plan.change("modify target group %s health check: %s" % (name, ", ".join(sorted(drift)))):
        elbv2.modify_target_group(TargetGroupArn=arn, aws_retry=True, **drift)
    _ensure_elb_tags(elbv2, arn, current_tags, tags, plan, name)
    return arn


def _tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def ensure_load_balancer(elbv2, params, sg_id, found, plan):
    """Returns the balancer description (None in check mode when it would be created)."""
    name = params["load_balancer_name"]
    tags = wanted_tags(params, LB_COMPONENT, name)
    attributes = wanted_attributes(params)
    if not found:
        if not plan.change("create load balancer %s" % name):
            return None
        balancer = elbv2.create_load_balancer(
            Name=name,
            Subnets=list(params["subnet_ids"]),
            SecurityGroups=[sg_id],
            Scheme="internet-facing",
            Type="application",
            IpAddressType="ipv4",
            Tags=_tag_list(tags),
            aws_retry=True,
        )["LoadBalancers"][0]
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=balancer["LoadBalancerArn"],
            Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())],
            aws_retry=True,
        )
        return balancer
    balancer, current_tags = found[0]
    arn = balancer["LoadBalancerArn"]
    fixed = [
        (k, v, balancer.get(k))
        for k, v in (("LoadBalancerName", name), ("Type", "application"), ("Scheme", "internet-facing"), ("VpcId", params["vpc_id"]))
        if balancer.get(k) != v
    ]
    if fixed:
        raise AlbError(
            "load balancer %s of stack %s cannot be changed in place (%s): tear the alb down first"
            % (arn, params["stack_name"], ", ".join("%s is %s, wanted %s" % (k, cur, v) for k, v, cur in fixed))
        )
    current_subnets = set(az.get("SubnetId") for az in balancer.get("AvailabilityZones") or [])
    if current_subnets != set(params["subnet_ids"]) and plan.change("set subnets of %s" % name):
        elbv2.set_subnets(LoadBalancerArn=arn, Subnets=list(params["subnet_ids"]), aws_retry=True)
    if sg_id and set(balancer.get("SecurityGroups") or []) != set([sg_id]) and plan.change("set security groups of %s" % name):
        elbv2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[sg_id], aws_retry=True)
    if balancer.get("IpAddressType") not in (None, "ipv4") and plan.change("set ip address type of %s to ipv4" % name):
        elbv2.set_ip_address_type(LoadBalancerArn=arn, IpAddressType="ipv4", aws_retry=True)
    current_attrs = dict(
        (a["Key"], a["Value"]) for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn, aws_retry=True)["Attributes"]
    )
    drift = dict((k, v) for k, v in attributes.items() if current_attrs.get(k) != v)
    if drift and plan.change("set attributes of %s: %s" % (name, ", ".join("%s=%s" % kv for kv in sorted(drift.items())))):
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in sorted(drift.items())], aws_retry=True
        )
    _ensure_elb_tags(elbv2, arn, current_tags, tags, plan, name)
    return balancer


def ensure_listeners(elbv2, params, lb_arn, tg_arn, plan, existing=None):
    """Returns port -> listener ARN (None for one that would be created in check mode)."""
    wanted = wanted_listeners(params, tg_arn)
    if existing is None:
        existing = elbv2.describe_listeners(LoadBalancerArn=lb_arn, aws_retry=True)["Listeners"] if lb_arn else []
    by_port = dict((lst["Port"], lst) for lst in existing)
    result = {}
    # Forwarding listeners first (443 before 80 redirects to it), unwanted ones deleted last:
    # no moment where a listener redirects to nothing.
    for port, args in sorted(wanted.items(), reverse=True):
        current = by_port.get(port)
        if current is None:
            result[port] = None
            if plan.change("create listener %s:%s" % (args["Protocol"], port)):
                result[port] = elbv2.create_listener(LoadBalancerArn=lb_arn, aws_retry=True, **args)["Listeners"][0]["ListenerArn"]
            continue
        result[port] = current["ListenerArn"]
        if listener_drift(args, current) and plan.change("modify listener %s:%s" % (args["Protocol"], port)):
            modify = dict((k, v) for k, v in args.items() if k != "Port")
            elbv2.modify_listener(ListenerArn=current["ListenerArn"], aws_retry=True, **modify)
    for port, current in sorted(by_port.items()):
        if port not in wanted and plan.change("delete listener %s:%s" % (current.get("Protocol"), port)):
            elbv2.delete_listener(ListenerArn=current["ListenerArn"], aws_retry=True)
    return result


def wait_active(elbv2, arn, timeout, interval, sleep=_sleep):
    """Poll until the balancer is active; raises AlbError when it fails or time runs out."""

    def fetch():
        return elbv2.describe_load_balancers(LoadBalancerArns=[arn], aws_retry=True)["LoadBalancers"][0]

    def failed(balancer):
        state = balancer.get("State") or {}
        if state.get("Code") == "failed":
            return "load balancer %s failed: %s" % (balancer.get("LoadBalancerName"), state.get("Reason") or "no reason given")
        return None

    try:
        return poll(fetch, lambda b: (b.get("State") or {}).get("Code") == "active", timeout, interval, failed=failed, sleep=sleep)
    except WaitFailed as e:
        raise AlbError(str(e))
    except WaitTimeout as e:
        state = ((e.last or {}).get("State") or {}).get("Code")
        raise AlbError("load balancer %s not active after %ss (state %s); raise wait_timeout or set wait=false" % (arn, timeout, state))


def alb_fact(balancer, tg_arn, listeners, sg_id, https):
    balancer = balancer or {}
    dns = balancer.get("DNSName") or ""
    return {
        "dns_name": dns,
        "load_balancer_arn": balancer.get("LoadBalancerArn") or "",
        "target_group_arn": tg_arn or "",
        "listener_arn": listeners.get(80) or "",
        "https_listener_arn": listeners.get(443) or "",
        "security_group_id": sg_id or "",
        "url": ("%s://%s/" % ("https" if https else "http", dns)) if dns else "",
        "state": (balancer.get("State") or {}).get("Code") or ("absent" if not balancer else ""),
    }


def present(ec2, elbv2, params, check_mode, sleep=_sleep):
    """Reconcile the whole alb; returns (changed, changes, alb fact)."""
    validate(params, check_mode)
    plan = Plan(check_mode)
    found = find_elb_resources(elbv2, params["stack_name"], params["target_group_name"], params["load_balancer_name"])
    for kind, option, name_key in (("tg", "target_group_name", "TargetGroupName"), ("lb", "load_balancer_name", "LoadBalancerName")):
        names = [r[name_key] for r, _t in found[kind]]
        if names and names != [params[option]]:
            raise AlbError(
                "stack %s already has %s named %s, not %s=%s: names cannot change in place, tear the alb down first"
                % (params["stack_name"], "target group(s)" if kind == "tg" else "load balancer(s)", ", ".join(names), option, params[option])
            )
    sg_id = ensure_security_group(ec2, params, plan, sleep=sleep)
    tg_arn = ensure_target_group(elbv2, params, found["tg"], plan)
    balancer = ensure_load_balancer(elbv2, params, sg_id, found["lb"], plan)
    lb_arn = balancer["LoadBalancerArn"] if balancer else None
    # A balancer created just now has no listener: no need to ask.
    listeners = ensure_listeners(elbv2, params, lb_arn, tg_arn, plan, existing=None if found["lb"] else [])
    if balancer and params.get("wait") and (balancer.get("State") or {}).get("Code") != "active" and not check_mode:
        balancer = wait_active(elbv2, lb_arn, params["wait_timeout"], params["poll_interval"], sleep=sleep)
    return plan, alb_fact(balancer, tg_arn, listeners, sg_id, bool(params.get("certificate_arn")))


# ---------------------------------------------------------------- absent


def _poll_call(call, retry_codes, timeout, interval, sleep, what, done_codes=()):
    try:
        call_until_accepted(call, retry_codes, timeout, interval, what, done_codes=done_codes, sleep=sleep)
    except WaitTimeout as e:
        raise AlbError(str(e))


def _wait_gone(elbv2, arn, timeout, interval, sleep):
    def fetch():
        try:
            return elbv2.describe_load_balancers(LoadBalancerArns=[arn], aws_retry=True)["LoadBalancers"]
        except ClientError as e:
            if error_code(e) == "LoadBalancerNotFound":
                return []
            raise

    try:
        poll(fetch, lambda lbs: not lbs, timeout, interval, sleep=sleep)
    except WaitTimeout:
        raise AlbError("load balancer %s still exists after %ss" % (arn, timeout))


def absent(ec2, elbv2, params, check_mode, sleep=_sleep):
    """Delete listener(s), load balancer, target group and security group of the stack, in that
    order, each found by tags; returns the Plan."""
    validate(params)
    plan = Plan(check_mode)
    stack = params["stack_name"]
    timeout, interval = params["wait_timeout"], params["poll_interval"]
    try:
        found = find_elb_resources(elbv2, stack, params["target_group_name"], params["load_balancer_name"])
    except AlbError:
        # The names are taken by someone else's resources: only ours, by tags, are removed.
        found = {"tg": scan_by_tags(elbv2, "tg", stack), "lb": scan_by_tags(elbv2, "lb", stack)}
    for balancer, _tags in found["lb"]:
        arn, name = balancer["LoadBalancerArn"], balancer["LoadBalancerName"]
        attrs = dict((a["Key"], a["Value"]) for a in elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn, aws_retry=True)["Attributes"])
        if attrs.get(ATTR_DELETION_PROTECTION) == "true":
            if not params.get("force"):
                raise AlbError(
                    "load balancer %s has deletion protection on: set deletion_protection=false with state=present first, "
                    "or force=true to turn it off and delete" % name
                )
            if plan.change("turn off deletion protection of %s" % name):
                elbv2.modify_load_balancer_attributes(
                    LoadBalancerArn=arn, Attributes=[{"Key": ATTR_DELETION_PROTECTION, "Value": "false"}], aws_retry=True
                )
        for listener in elbv2.describe_listeners(LoadBalancerArn=arn, aws_retry=True)["Listeners"]:
            if plan.change("delete listener %s:%s of %s" % (listener.get("Protocol"), listener["Port"], name)):
                try:
                    elbv2.delete_listener(ListenerArn=listener["ListenerArn"], aws_retry=True)
                except ClientError as e:
                    if error_code(e) != "ListenerNotFound":
                        raise
        if plan.change("delete load balancer %s" % name):
            elbv2.delete_load_balancer(LoadBalancerArn=arn, aws_retry=True)
            _wait_gone(elbv2, arn, timeout, interval, sleep)
    for group, _tags in found["tg"]:
        arn, name = group["TargetGroupArn"], group["TargetGroupName"]
        if plan.change("delete target group %s" % name):
            _poll_call(
                lambda: elbv2.delete_target_group(TargetGroupArn=arn, aws_retry=True),
                ("ResourceInUse",), timeout, interval, sleep, "target group %s" % name, done_codes=("TargetGroupNotFound",),
            )
    for group in find_security_groups(ec2, stack):
        gid = group["GroupId"]
        if plan.change("delete security group %s (%s)" % (group.get("GroupName"), gid)):
            _poll_call(
                lambda: ec2.delete_security_group(GroupId=gid, aws_retry=True),
                ("DependencyViolation",), timeout, interval, sleep, "security group %s" % gid, done_codes=("InvalidGroup.NotFound",),
            )
    return plan
