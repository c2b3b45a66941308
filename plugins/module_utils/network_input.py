# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the network role's input, with no AWS import: the role's filter runs them on the
controller, the static ones before any AWS call, the AZ letters against the region's zones that
the role's look-up read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

TIERS = ("public", "private")
SUBNET_KEYS = ("name", "cidr", "az", "tier")
NAT_MODES = ("single", "per_az", "regional")


def _network(value):
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None
    return net if net.version == 4 else None


def input_errors(vpc_cidr, subnets, nat_subnet=None, prefix="", nat_mode="single"):
    """Static checks of the network input. Messages name the option (prefix + path) and the rule.

    prefix names the role's variables ('network_')."""
    errors = []
    vpc = _network(vpc_cidr)
    if vpc is None:
        errors.append("%svpc_cidr %r is not a valid IPv4 CIDR block such as 10.0.0.0/16" % (prefix, vpc_cidr))
    elif not 16 <= vpc.prefixlen <= 28:
        errors.append("%svpc_cidr %s must have a prefix length between /16 and /28" % (prefix, vpc_cidr))
    if not isinstance(subnets, list) or not subnets:
        errors.append("%ssubnets must list at least one subnet" % prefix)
        return errors
    seen_nets, seen_slots, seen_names = [], {}, {}
    for index, subnet in enumerate(subnets):
        path = "%ssubnets[%d]" % (prefix, index)
        if not isinstance(subnet, dict):
            errors.append("%s must be a dict with cidr, az and tier" % path)
            continue
        errors.extend(_subnet_errors(path, subnet, vpc, vpc_cidr, prefix, seen_nets, seen_slots, seen_names))
    errors.extend(_nat_errors(subnets, nat_subnet, prefix))
    errors.extend(_nat_mode_errors(subnets, nat_subnet, prefix, nat_mode))
    return errors


def _subnet_errors(path, subnet, vpc, vpc_cidr, prefix, seen_nets, seen_slots, seen_names):
    errors = []
    unknown = sorted(str(key) for key in subnet if key not in SUBNET_KEYS)
    if unknown:
        errors.append("%s has unknown keys %s (a subnet has %s)" % (path, ", ".join(unknown), ", ".join(SUBNET_KEYS)))
    for key in ("cidr", "az", "tier"):
        if subnet.get(key) in (None, ""):
            errors.append("%s.%s is required" % (path, key))
    tier, az, cidr = subnet.get("tier"), subnet.get("az"), subnet.get("cidr")
    if tier not in (None, "") and tier not in TIERS:
        errors.append("%s.tier %r must be public or private" % (path, tier))
    if az not in (None, "") and not re.match(r"^[a-z]$", str(az)):
        errors.append("%s.az %r must be one availability zone letter such as a" % (path, az))
    if cidr not in (None, ""):
        net = _network(cidr)
        if net is None:
            errors.append("%s.cidr %r is not a valid IPv4 CIDR block such as 10.0.10.0/24" % (path, cidr))
        elif not 16 <= net.prefixlen <= 28:
            errors.append("%s.cidr %s must have a prefix length between /16 and /28" % (path, cidr))
        elif vpc is not None and not net.subnet_of(vpc):
            errors.append("%s.cidr %s is not inside %svpc_cidr %s" % (path, cidr, prefix, vpc_cidr))
        else:
            for other_path, other in seen_nets:
                if net.overlaps(other):
                    errors.append("%s.cidr %s overlaps %s.cidr %s" % (path, cidr, other_path, other))
            seen_nets.append((path, net))
    if tier in TIERS and az not in (None, ""):
        slot = (tier, az)
        if slot in seen_slots:
            errors.append("%s repeats tier %s in AZ %s (already %s)" % (path, tier, az, seen_slots[slot]))
        else:
            seen_slots[slot] = path
    name = subnet.get("name")
    if name is not None and not (isinstance(name, str) and len(name) <= 256 and re.match(r"[^\x00-\x1f\x7f]*\Z", name)):
        errors.append("%s.name %r must be text of at most 256 printable characters (its Name tag)" % (path, name))
    elif name:
        if name in seen_names:
            errors.append("%s.name %r repeats %s.name" % (path, name, seen_names[name]))
        else:
            seen_names[name] = path
    return errors


def _nat_errors(subnets, nat_subnet, prefix):
    publics = [s for s in subnets if isinstance(s, dict) and s.get("tier") == "public"]
    if not publics:
        return ["%ssubnets has no public subnet to host the NAT gateway" % prefix]
    if nat_subnet and pick_nat_subnet(subnets, nat_subnet) is None:
        return ["%snat_subnet %r names no public subnet of %ssubnets (give its name or AZ letter)" % (prefix, nat_subnet, prefix)]
    return []


def layout_errors(subnets, prefix=""):
    """What the lab needs of valid subnets (input_errors() found none): public subnets in at
    least two AZs (the load balancer spans two), a public subnet in AZ a (the AMI builder runs in
    Public subnet A), at least one private subnet (the Auto Scaling group's)."""
    public_azs = sorted(set(s["az"] for s in subnets if s["tier"] == "public"))
    errors = []
    if len(public_azs) < 2:
        errors.append("%ssubnets has public subnets in %d AZ (%s): the load balancer needs public subnets in at least two AZs"
                      % (prefix, len(public_azs), ", ".join(public_azs)))
    if "a" not in public_azs:
        errors.append("%ssubnets has no public subnet in AZ a: the web_ami role's builder runs in Public subnet A" % prefix)
    if not [s for s in subnets if s["tier"] == "private"]:
        errors.append("%ssubnets has no private subnet for the Auto Scaling group" % prefix)
    return errors


def _nat_mode_errors(subnets, nat_subnet, prefix, nat_mode):
    if nat_mode not in NAT_MODES:
        return ["%snat_mode %r must be one of %s" % (prefix, nat_mode, ", ".join(NAT_MODES))]
    errors = []
    if nat_subnet and nat_mode != "single":
        errors.append("%snat_subnet %r applies to %snat_mode single only (mode %s places its own gateways)"
                      % (prefix, nat_subnet, prefix, nat_mode))
    if nat_mode == "per_az":
        public_zones = set(s.get("az") for s in subnets if isinstance(s, dict) and s.get("tier") == "public")
        for index, subnet in enumerate(subnets):
            if isinstance(subnet, dict) and subnet.get("tier") == "private" and subnet.get("az") not in public_zones:
                errors.append("%snat_mode per_az puts a NAT gateway in the public subnet of each zone that has a private subnet:"
                              " %ssubnets[%d] is private in AZ %s, which has no public subnet" % (prefix, prefix, index, subnet.get("az")))
    return errors


def pick_nat_subnet(subnets, nat_subnet=None):
    """The public subnet hosting the NAT gateway: by name, else by AZ letter; default the first
    public subnet in AZ order."""
    publics = sorted((s for s in subnets if isinstance(s, dict) and s.get("tier") == "public"), key=lambda s: str(s.get("az")))
    if not nat_subnet:
        return publics[0] if publics else None
    for subnet in publics:
        if subnet.get("name") == nat_subnet:
            return subnet
    for subnet in publics:
        if subnet.get("az") == nat_subnet:
            return subnet
    return None


def az_errors(subnets, region, zones, prefix=""):
    """Subnets whose AZ letter the region lacks. zones: the region's zone names (stack_info's
    availability_zones)."""
    letters = sorted(z[len(region):] for z in zones if z.startswith(region))
    errors = []
    for index, subnet in enumerate(subnets):
        if subnet["az"] not in letters:
            errors.append("%ssubnets[%d].az %r is not an availability zone of region %s (it has %s)"
                          % (prefix, index, subnet["az"], region, ", ".join(letters) or "none"))
    return errors
