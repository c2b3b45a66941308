# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab Task 1 as code: the Elastic IP, VPC, subnets, internet gateway, NAT gateway and route
tables of one stack, found again by their (stack, component) tags.

Pure helpers (input validation, association plans) are kept apart from the functions that take
a boto3 client, so both are easy to test. Every AWS call is made with aws_retry=True: the client
must come from stack.aws_client() (or be wrapped by RetryingBotoClientWrapper in tests)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.immersionday.ha_web.plugins.module_utils.network_input import pick_nat_subnet
from ansible_collections.immersionday.ha_web.plugins.module_utils.network_input import subnet_component
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import STACK_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import poll
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import scoped_name
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import stack_filter
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import stack_tags
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tag_specifications
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import tags_of
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG

ANYWHERE = "0.0.0.0/0"
# The lab's display names (scoped per stack by scoped_name()).
LAB_NAMES = {
    "vpc": "VPC-Lab",
    "eip": "VPC-Lab-NAT-EIP",
    "igw": "VPC-Lab-IGW",
    "nat": "VPC-Lab-NAT",
    "public-rt": "Public route",
    "private-rt": "Private route",
}
NAT_LIVE = ("pending", "available")
NAT_GONE = ("deleted",)


class NetworkError(Exception):
    """A problem the user must fix (bad input, a resource that cannot change in place, a failed NAT)."""


# ---------------------------------------------------------------- validation (pure)


def build_spec(params):
    """The desired network from the module's parameters: names scoped per stack, components."""
    stack = params["stack_name"]

    def name_of(option, component):
        return params.get(option) or scoped_name(LAB_NAMES[component], stack)

    subnets = []
    for subnet in params.get("subnets") or []:
        item = dict(subnet)
        item["component"] = subnet_component(subnet)
        item["name"] = subnet.get("name") or scoped_name("%s subnet %s" % (subnet["tier"].capitalize(), subnet["az"].upper()), stack)
        subnets.append(item)
    nat = pick_nat_subnet(subnets, params.get("nat_subnet"))
    return {
        "stack": stack,
        "vpc_cidr": params.get("vpc_cidr"),
        "subnets": subnets,
        "nat_component": nat["component"] if nat else None,
        "names": {
            "vpc": name_of("vpc_name", "vpc"),
            "eip": name_of("eip_name", "eip"),
            "igw": name_of("igw_name", "igw"),
            "nat": name_of("nat_gateway_name", "nat"),
            "public-rt": name_of("public_route_table_name", "public-rt"),
            "private-rt": name_of("private_route_table_name", "private-rt"),
        },
        "tags": params.get("tags") or {},
    }


def desired_tags(spec, component, name):
    tags = stack_tags(spec["stack"], name, spec["tags"])
    tags[COMPONENT_TAG] = component
    return tags


def missing_tags(current, desired):
    return dict((k, v) for k, v in desired.items() if current.get(k) != v)


def by_component(resources, stack, key="Tags"):
    """Group a stack's resources by their component tag (first found wins; extras are reported)."""
    found = {}
    for resource in resources:
        tags = tags_of(resource, key)
        if tags.get(STACK_TAG) != stack:
            continue
        found.setdefault(tags.get(COMPONENT_TAG), []).append(resource)
    return found


def association_plan(tables, desired):
    """Actions that make route table associations match `desired` ({table_id: [subnet_ids]}).

    tables: DescribeRouteTables' list for the VPC. Returns tuples
    ("associate", table_id, subnet_id), ("replace", table_id, subnet_id, association_id) and
    ("disassociate", table_id, subnet_id, association_id), in that order."""
    current = {}  # subnet_id -> (table_id, association_id)
    for table in tables:
        for assoc in table.get("Associations") or []:
            if assoc.get("SubnetId") and not assoc.get("Main") and assoc.get("AssociationState", {}).get("State", "associated") == "associated":
                current[assoc["SubnetId"]] = (table["RouteTableId"], assoc["RouteTableAssociationId"])
    wanted = {}
    for table_id in sorted(desired, key=str):
        for subnet_id in desired[table_id]:
            wanted[subnet_id] = table_id
    actions = []
    for subnet_id, table_id in wanted.items():
        if subnet_id not in current:
            actions.append(("associate", table_id, subnet_id))
        elif current[subnet_id][0] != table_id:
            actions.append(("replace", table_id, subnet_id, current[subnet_id][1]))
    for subnet_id, (table_id, assoc_id) in sorted(current.items()):
        if table_id in desired and subnet_id not in wanted:
            actions.append(("disassociate", table_id, subnet_id, assoc_id))
    return actions


def route_target(route):
    for key in ("GatewayId", "NatGatewayId", "NetworkInterfaceId", "InstanceId", "TransitGatewayId", "VpcPeeringConnectionId"):
        if route.get(key):
            return {key: route[key]}
    return {}


# ---------------------------------------------------------------- look-ups (read-only)


def describe_zones(client):
    return client.describe_availability_zones(aws_retry=True)["AvailabilityZones"]


def find_addresses(client, stack):
    return client.describe_addresses(Filters=[stack_filter(stack)], aws_retry=True)["Addresses"]


def find_vpcs(client, stack):
    return client.describe_vpcs(Filters=[stack_filter(stack)], aws_retry=True)["Vpcs"]


def find_subnets(client, stack):
    return client.describe_subnets(Filters=[stack_filter(stack)], aws_retry=True)["Subnets"]


def find_igws(client, stack):
    return client.describe_internet_gateways(Filters=[stack_filter(stack)], aws_retry=True)["InternetGateways"]


def find_route_tables(client, vpc_ids=None, stack=None):
    filters = [{"Name": "vpc-id", "Values": list(vpc_ids)}] if vpc_ids else [stack_filter(stack)]
    return client.describe_route_tables(Filters=filters, aws_retry=True)["RouteTables"]


def find_nat_gateways(client, vpc_id, states=("pending", "available", "failed")):
    """NAT gateways of a VPC (moto hides their tags from filters: find them by VPC and state)."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "state", "Values": list(states)}]
    return client.describe_nat_gateways(Filter=filters, aws_retry=True)["NatGateways"]


def get_nat_gateway(client, nat_id):
    return client.describe_nat_gateways(NatGatewayIds=[nat_id], aws_retry=True)["NatGateways"][0]


def vpc_attribute(client, vpc_id, attribute):
    key = attribute[0].upper() + attribute[1:]
    return client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute, aws_retry=True)[key]["Value"]


# ---------------------------------------------------------------- reconciliation


class Network(object):
    """Reconciles one stack's network. Records what it changes (or would change, in check mode)."""

    def __init__(self, client, check_mode=False, wait=True, wait_timeout=600, poll_interval=5, sleep=None):
        self.client = client
        self.check_mode = check_mode
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.changes = []
        self.warnings = []
        self.gone_enis = []  # network interfaces of NAT gateways deleted by absent()

    def _act(self, message, call=None, **kwargs):
        """Record a change and, outside check mode, make the call."""
        self.changes.append(message)
        if self.check_mode or call is None:
            return None
        return getattr(self.client, call)(aws_retry=True, **kwargs)

    def _poll(self, what, fetch, done, failed=None):
        try:
            return poll(fetch, done, self.wait_timeout, self.poll_interval, failed=failed, sleep=self.sleep or time.sleep)
        except WaitTimeout:
            raise NetworkError("timed out after %ss waiting for %s" % (self.wait_timeout, what))
        except WaitFailed as e:
            raise NetworkError(str(e))

    def _one(self, found, component, kind):
        items = found.get(component) or []
        if len(items) > 1:
            self.warnings.append("%d %s resources tagged as component %s; using the first" % (len(items), kind, component))
        return items[0] if items else None

    def _ensure_tags(self, resource_id, current, desired):
        diff = missing_tags(current, desired)
        if diff:
            self._act("tag %s with %s" % (resource_id, ", ".join(sorted(diff))), "create_tags",
                      Resources=[resource_id], Tags=ansible_dict_to_boto3_tag_list(diff))

    # -- present

    def present(self, spec):
        eip = self.ensure_eip(spec)
        vpc_id = self.ensure_vpc(spec)
        subnets = self.ensure_subnets(spec, vpc_id)
        igw_id = self.ensure_igw(spec, vpc_id)
        nat = self.ensure_nat(spec, vpc_id, subnets.get(spec["nat_component"]), eip.get("AllocationId")) or {}
        nat_id = nat.get("NatGatewayId")
        tables = self.ensure_route_tables(spec, vpc_id, subnets, igw_id, nat_id)
        ordered = sorted(spec["subnets"], key=lambda s: s["az"])
        return {
            "vpc_id": vpc_id,
            "vpc_cidr": spec["vpc_cidr"],
            "public_subnet_ids": [subnets.get(s["component"]) for s in ordered if s["tier"] == "public"],
            "private_subnet_ids": [subnets.get(s["component"]) for s in ordered if s["tier"] == "private"],
            "subnets": dict((s["component"], subnets.get(s["component"])) for s in ordered),
            "igw_id": igw_id,
            "nat_gateway_id": nat_id,
            "nat_gateway_state": nat.get("State"),
            "eip_allocation_id": eip.get("AllocationId"),
            "eip_public_ip": eip.get("PublicIp"),
            "public_route_table_id": tables.get("public-rt"),
            "private_route_table_id": tables.get("private-rt"),
        }

    def ensure_eip(self, spec):
        tags = desired_tags(spec, "eip", spec["names"]["eip"])
        eip = self._one(by_component(find_addresses(self.client, spec["stack"]), spec["stack"]), "eip", "Elastic IP")
        if eip is None:
            result = self._act("allocate Elastic IP %s" % tags["Name"], "allocate_address",
                               Domain="vpc", TagSpecifications=tag_specifications("elastic-ip", tags))
            return result or {}
        self._ensure_tags(eip["AllocationId"], tags_of(eip), tags)
        return eip

    def ensure_vpc(self, spec):
        tags = desired_tags(spec, "vpc", spec["names"]["vpc"])
        vpc = self._one(by_component(find_vpcs(self.client, spec["stack"]), spec["stack"]), "vpc", "VPC")
        if vpc is None:
            result = self._act("create VPC %s %s" % (tags["Name"], spec["vpc_cidr"]), "create_vpc",
                               CidrBlock=spec["vpc_cidr"], TagSpecifications=tag_specifications("vpc", tags))
            if result is None:
                return None
            vpc_id = result["Vpc"]["VpcId"]
            if result["Vpc"].get("State") != "available":
                self._poll("VPC %s to be available" % vpc_id, lambda: self.client.describe_vpcs(VpcIds=[vpc_id], aws_retry=True)["Vpcs"][0],
                           lambda v: v.get("State") == "available")
            for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
                self.client.modify_vpc_attribute(VpcId=vpc_id, aws_retry=True, **{attribute: {"Value": True}})
            return vpc_id
        vpc_id = vpc["VpcId"]
        if vpc["CidrBlock"] != spec["vpc_cidr"]:
            raise NetworkError("vpc_cidr %s differs from the CIDR %s of VPC %s of stack %s; a VPC's CIDR cannot change: remove the stack first"
                               % (spec["vpc_cidr"], vpc["CidrBlock"], vpc_id, spec["stack"]))
        self._ensure_tags(vpc_id, tags_of(vpc), tags)
        for attribute in ("enableDnsSupport", "enableDnsHostnames"):
            if not vpc_attribute(self.client, vpc_id, attribute):
                key = attribute[0].upper() + attribute[1:]
                self._act("turn on %s of %s" % (attribute, vpc_id), "modify_vpc_attribute", VpcId=vpc_id, **{key: {"Value": True}})
        return vpc_id

    def ensure_subnets(self, spec, vpc_id):
        """Returns {component: subnet_id} (None for a subnet that check mode would create)."""
        found = by_component(find_subnets(self.client, spec["stack"]), spec["stack"]) if vpc_id else {}
        region = self.client.meta.region_name
        ids = {}
        for index, subnet in enumerate(spec["subnets"]):
            tags = desired_tags(spec, subnet["component"], subnet["name"])
            zone = region + subnet["az"]
            public = subnet["tier"] == "public"
            current = self._one(found, subnet["component"], "subnet")
            if current is None:
                result = self._act("create subnet %s %s in %s" % (subnet["name"], subnet["cidr"], zone), "create_subnet",
                                   VpcId=vpc_id, CidrBlock=subnet["cidr"], AvailabilityZone=zone,
                                   TagSpecifications=tag_specifications("subnet", tags))
                subnet_id = result["Subnet"]["SubnetId"] if result else None
                if public and subnet_id:
                    self.client.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True}, aws_retry=True)
                ids[subnet["component"]] = subnet_id
                continue
            subnet_id = current["SubnetId"]
            if (current["VpcId"], current["CidrBlock"], current["AvailabilityZone"]) != (vpc_id, subnet["cidr"], zone):
                raise NetworkError("subnets[%d] wants %s in %s of %s, but subnet %s of stack %s is %s in %s of %s; a subnet cannot move: remove the stack first"
                                   % (index, subnet["cidr"], zone, vpc_id, subnet_id, spec["stack"],
                                      current["CidrBlock"], current["AvailabilityZone"], current["VpcId"]))
            self._ensure_tags(subnet_id, tags_of(current), tags)
            if bool(current.get("MapPublicIpOnLaunch")) != public:
                self._act("set MapPublicIpOnLaunch=%s on %s" % (public, subnet_id), "modify_subnet_attribute",
                          SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": public})
            ids[subnet["component"]] = subnet_id
        return ids

    def ensure_igw(self, spec, vpc_id):
        tags = desired_tags(spec, "igw", spec["names"]["igw"])
        igw = self._one(by_component(find_igws(self.client, spec["stack"]), spec["stack"]), "igw", "internet gateway")
        if igw is None:
            result = self._act("create internet gateway %s" % tags["Name"], "create_internet_gateway",
                               TagSpecifications=tag_specifications("internet-gateway", tags))
            igw = result["InternetGateway"] if result else {"InternetGatewayId": None, "Attachments": [], "Tags": []}
        else:
            self._ensure_tags(igw["InternetGatewayId"], tags_of(igw), tags)
        igw_id = igw["InternetGatewayId"]
        attached = [a["VpcId"] for a in igw.get("Attachments") or [] if a.get("State") in ("attached", "available", "attaching")]
        if vpc_id is None or vpc_id not in attached:
            self._act("attach internet gateway %s to %s" % (igw_id or tags["Name"], vpc_id or spec["names"]["vpc"]),
                      "attach_internet_gateway" if igw_id and vpc_id else None, InternetGatewayId=igw_id, VpcId=vpc_id)
        return igw_id

    def ensure_nat(self, spec, vpc_id, subnet_id, allocation_id):
        tags = desired_tags(spec, "nat", spec["names"]["nat"])
        nats = find_nat_gateways(self.client, vpc_id) if vpc_id else []
        mine = [n for n in nats if n["SubnetId"] == subnet_id]
        for nat in [n for n in mine if n["State"] == "failed"]:
            self.warnings.append("NAT gateway %s failed (%s); replacing it" % (nat["NatGatewayId"], nat.get("FailureMessage", "no reason given")))
            self._act("delete failed NAT gateway %s" % nat["NatGatewayId"], "delete_nat_gateway", NatGatewayId=nat["NatGatewayId"])
        live = [n for n in mine if n["State"] in NAT_LIVE]
        if not live:
            for other in [n for n in nats if n["SubnetId"] != subnet_id and n["State"] in NAT_LIVE]:
                if allocation_id in [a.get("AllocationId") for a in other.get("NatGatewayAddresses") or []]:
                    raise NetworkError("NAT gateway %s holds the stack's Elastic IP in subnet %s, not in nat_subnet's subnet %s; remove the stack first"
                                       % (other["NatGatewayId"], other["SubnetId"], subnet_id))
            can_create = subnet_id and allocation_id
            result = self._act("create NAT gateway %s in %s" % (tags["Name"], subnet_id or spec["nat_component"]),
                               "create_nat_gateway" if can_create else None, SubnetId=subnet_id, AllocationId=allocation_id,
                               TagSpecifications=tag_specifications("natgateway", tags))
            if result is None:
                return None
            nat = result["NatGateway"]
        else:
            nat = live[0]
            self._ensure_tags(nat["NatGatewayId"], tags_of(nat), tags)
        if self.wait and nat["State"] != "available" and not self.check_mode:
            nat = self.wait_nat_available(nat["NatGatewayId"])
        return nat

    def wait_nat_available(self, nat_id):
        def failed(nat):
            if nat["State"] in ("failed", "deleting", "deleted"):
                return "NAT gateway %s is %s: %s" % (nat_id, nat["State"], nat.get("FailureMessage", "no reason given"))
            return None
        return self._poll("NAT gateway %s to be available" % nat_id, lambda: get_nat_gateway(self.client, nat_id), lambda n: n["State"] == "available", failed)

    def ensure_route_tables(self, spec, vpc_id, subnets, igw_id, nat_id):
        tables = find_route_tables(self.client, [vpc_id]) if vpc_id else []
        found = by_component(tables, spec["stack"])
        ids, desired = {}, {}
        for tier, component, target in (("public", "public-rt", {"GatewayId": igw_id}), ("private", "private-rt", {"NatGatewayId": nat_id})):
            tags = desired_tags(spec, component, spec["names"][component])
            table = self._one(found, component, "route table")
            if table is None:
                result = self._act("create route table %s" % tags["Name"], "create_route_table" if vpc_id else None,
                                   VpcId=vpc_id, TagSpecifications=tag_specifications("route-table", tags))
                table = result["RouteTable"] if result else {"RouteTableId": None, "Routes": [], "Associations": []}
            else:
                self._ensure_tags(table["RouteTableId"], tags_of(table), tags)
            ids[component] = table["RouteTableId"]
            self._ensure_route(table, target, tags["Name"])
            desired[table["RouteTableId"] or "(new %s)" % component] = [
                subnets.get(s["component"]) or "(new %s)" % s["component"] for s in spec["subnets"] if s["tier"] == tier]
        self._associate(tables, desired)
        return ids

    def _ensure_route(self, table, target, name):
        table_id = table["RouteTableId"]
        current = [r for r in table.get("Routes") or [] if r.get("DestinationCidrBlock") == ANYWHERE]
        label = "%s -> %s" % (ANYWHERE, list(target.values())[0] or "(new)")
        can_call = table_id and all(target.values())
        if not current:
            self._act("add route %s to %s" % (label, table_id or name), "create_route" if can_call else None,
                      RouteTableId=table_id, DestinationCidrBlock=ANYWHERE, **target)
        elif route_target(current[0]) != target or current[0].get("State") == "blackhole":
            was = ", ".join(route_target(current[0]).values()) or "blackhole"
            self._act("replace route %s of %s (was %s)" % (label, table_id, was), "replace_route" if can_call else None,
                      RouteTableId=table_id, DestinationCidrBlock=ANYWHERE, **target)

    def _associate(self, tables, desired):
        for action in association_plan(tables, desired):
            kind, table_id, subnet_id = action[:3]
            real = not (str(table_id).startswith("(new") or str(subnet_id).startswith("(new"))
            if kind == "associate":
                self._act("associate %s with %s" % (subnet_id, table_id), "associate_route_table" if real else None,
                          RouteTableId=table_id, SubnetId=subnet_id)
            elif kind == "replace":
                self._act("re-associate %s with %s" % (subnet_id, table_id), "replace_route_table_association" if real else None,
                          AssociationId=action[3], RouteTableId=table_id)
            else:
                self._act("disassociate %s from %s" % (subnet_id, table_id), "disassociate_route_table", AssociationId=action[3])

    # -- absent

    def absent(self, stack):
        """Delete the stack's network in dependency order. Always waits for NAT gateways to be
        deleted: the Elastic IP and the subnet depend on them."""
        vpcs = [v["VpcId"] for v in find_vpcs(self.client, stack) if tags_of(v).get(STACK_TAG) == stack]
        for vpc_id in vpcs:
            self.delete_nat_gateways(vpc_id)
        for eip in find_addresses(self.client, stack):
            self.release_address(eip)
        for table in find_route_tables(self.client, stack=stack):
            self.delete_route_table(table)
        for igw in find_igws(self.client, stack):
            for attachment in igw.get("Attachments") or []:
                self._act("detach internet gateway %s from %s" % (igw["InternetGatewayId"], attachment["VpcId"]), "detach_internet_gateway",
                          InternetGatewayId=igw["InternetGatewayId"], VpcId=attachment["VpcId"])
            self._act("delete internet gateway %s" % igw["InternetGatewayId"], "delete_internet_gateway", InternetGatewayId=igw["InternetGatewayId"])
        for subnet in find_subnets(self.client, stack):
            self._act("delete subnet %s" % subnet["SubnetId"], "delete_subnet", SubnetId=subnet["SubnetId"])
        for vpc_id in vpcs:
            self._act("delete VPC %s" % vpc_id, "delete_vpc", VpcId=vpc_id)

    def delete_nat_gateways(self, vpc_id):
        nats = find_nat_gateways(self.client, vpc_id, states=("pending", "available", "failed", "deleting"))
        for nat in nats:
            self.gone_enis.extend(a["NetworkInterfaceId"] for a in nat.get("NatGatewayAddresses") or [] if a.get("NetworkInterfaceId"))
            if nat["State"] != "deleting":
                self._act("delete NAT gateway %s" % nat["NatGatewayId"], "delete_nat_gateway", NatGatewayId=nat["NatGatewayId"])
        if self.check_mode:
            return
        for nat in nats:
            nat_id = nat["NatGatewayId"]
            self._poll("NAT gateway %s to be deleted" % nat_id, lambda: get_nat_gateway(self.client, nat_id), lambda n: n["State"] in NAT_GONE)

    def release_address(self, eip):
        """Release an Elastic IP once no live NAT gateway holds it. AWS drops the association a
        moment after the NAT gateway is deleted; moto keeps it, pointing at the deleted gateway's
        interface, and releases the address anyway."""
        allocation_id = eip["AllocationId"]
        if eip.get("AssociationId") and eip.get("NetworkInterfaceId") not in self.gone_enis and not self.check_mode:
            raise NetworkError("Elastic IP %s (%s) of the stack is still associated with %s, which is not a NAT gateway of the stack's VPC"
                               % (allocation_id, eip.get("PublicIp"), eip.get("NetworkInterfaceId") or eip.get("InstanceId")))
        self._act("release Elastic IP %s (%s)" % (allocation_id, eip.get("PublicIp")))
        if not self.check_mode:
            self._poll("Elastic IP %s to be free to release" % allocation_id, lambda: self._try_release(allocation_id), lambda released: released)

    def _try_release(self, allocation_id):
        try:
            self.client.release_address(AllocationId=allocation_id, aws_retry=True)
        except is_boto3_error_code("InvalidIPAddress.InUse"):
            return False
        return True

    def delete_route_table(self, table):
        table_id = table["RouteTableId"]
        for assoc in table.get("Associations") or []:
            if not assoc.get("Main"):
                self._act("disassociate %s from %s" % (assoc.get("SubnetId"), table_id), "disassociate_route_table",
                          AssociationId=assoc["RouteTableAssociationId"])
        self._act("delete route table %s" % table_id, "delete_route_table", RouteTableId=table_id)
