# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The egress of the network role's three NAT modes, and the way from what the look-up found to
it without a moment in which a private subnet has no way out. No AWS import: the filter nat_plan
runs it on the controller.

Modes (network_nat_mode):
  single    the lab: Elastic IP `eip`, NAT gateway `nat` in one public subnet, table `private-rt`
            of every private subnet routing to it
  per_az    per zone with a private subnet: `eip-<az>`, `nat-<az>` in that zone's public subnet,
            table `private-rt-<az>` of the zone's private subnet routing to it
  regional  one regional gateway `nat-regional` for the VPC with one address per such zone
            (`eip-regional-<az>`), table `private-rt` of every private subnet routing to it

Switching modes: the new addresses, gateways and tables are made first; the routes and subnet
associations that carry traffic through a live gateway move only once the new gateway is
available (ReplaceRoute, ReplaceRouteTableAssociation: one call each, no gap); what the old mode
used goes last. The role does the first part while building and the rest where it waits."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import COMPONENT_TAG
from ansible_collections.immersionday.ha_web.plugins.module_utils.names import STACK_TAG

MODES = ("single", "per_az", "regional")
LIVE = ("pending", "available")
ANYWHERE = "0.0.0.0/0"


def wanted(mode, layout, nat_subnet, names):
    """The mode's Elastic IPs, gateways and private route tables: components, Name tags, where.

    layout: the subnets in AZ order (component, az, zone, public); nat_subnet: the layout entry of
    the single mode's public subnet; names: the Name tags of mode single (eip, nat, private_rt),
    from which the others derive ('<eip>-A', '<nat>-A', '<private_rt> A', '<nat>-Regional')."""
    privates = [s for s in layout if not s["public"]]
    publics = dict((s["az"], s) for s in layout if s["public"])
    zones = []
    for subnet in privates:
        if subnet["az"] not in [z["az"] for z in zones]:
            zones.append({"az": subnet["az"], "zone": subnet["zone"]})
    if mode == "single":
        return {
            "eips": [{"component": "eip", "name": names["eip"]}],
            "gateways": [{"component": "nat", "name": names["nat"], "mode": "zonal", "subnet": nat_subnet["component"],
                          "eips": ["eip"], "zones": [[nat_subnet["zone"], "eip"]]}],
            "tables": [{"component": "private-rt", "name": names["private_rt"], "gateway": "nat",
                        "subnets": [s["component"] for s in privates]}],
        }
    if mode == "per_az":
        zones = [z for z in zones if z["az"] in publics]  # a zone without a public subnet is an input error
        return {
            "eips": [{"component": "eip-" + z["az"], "name": "%s-%s" % (names["eip"], z["az"].upper())} for z in zones],
            "gateways": [{"component": "nat-" + z["az"], "name": "%s-%s" % (names["nat"], z["az"].upper()), "mode": "zonal",
                          "subnet": publics[z["az"]]["component"], "eips": ["eip-" + z["az"]], "zones": [[z["zone"], "eip-" + z["az"]]]}
                         for z in zones],
            "tables": [{"component": "private-rt-" + z["az"], "name": "%s %s" % (names["private_rt"], z["az"].upper()),
                        "gateway": "nat-" + z["az"], "subnets": [s["component"] for s in privates if s["az"] == z["az"]]}
                       for z in zones],
        }
    if mode == "regional":
        eips = [{"component": "eip-regional-" + z["az"], "name": "%s-Regional-%s" % (names["eip"], z["az"].upper())} for z in zones]
        return {
            "eips": eips,
            "gateways": [{"component": "nat-regional", "name": "%s-Regional" % names["nat"], "mode": "regional", "subnet": None,
                          "eips": [e["component"] for e in eips],
                          "zones": [[z["zone"], "eip-regional-" + z["az"]] for z in zones]}],
            "tables": [{"component": "private-rt", "name": names["private_rt"], "gateway": "nat-regional",
                        "subnets": [s["component"] for s in privates]}],
        }
    raise ValueError("network_nat_mode %r must be one of %s" % (mode, ", ".join(MODES)))


def gateway_component(eip_component):
    """The gateway that uses an Elastic IP of the stack: eip -> nat, eip-a -> nat-a, eip-regional-a -> nat-regional."""
    if eip_component.startswith("eip-regional"):
        return "nat-regional"
    return "nat" + eip_component[len("eip"):]


def _with_tags(entry, stack_tags):
    return dict(entry, tags=dict(stack_tags, Name=entry["name"], **{COMPONENT_TAG: entry["component"]}))


def _tags_differ(found, tags):
    return any(found.get("tags", {}).get(key) != value for key, value in tags.items())


def _stack_gateways(nats, eips, stack_name):
    """(component, gateway) of the stack's live gateways: tagged with the stack, or untagged and
    holding one of its addresses (a NAT gateway of another stack or of no stack is never ours)."""
    owners = dict((e["allocation_id"], component) for component, e in eips.items())
    ours = []
    for nat in nats:
        if nat["state"] not in LIVE:
            continue
        tags = nat.get("tags") or {}
        if tags.get(STACK_TAG) == stack_name:
            ours.append((tags.get(COMPONENT_TAG), nat))
        elif STACK_TAG not in tags:
            held = [owners[a] for a in nat.get("allocation_ids") or [] if a in owners]
            if held:
                ours.append((gateway_component(held[0]), nat))
    return ours


def nat_plan(net, layout, mode, nat_subnet, names, stack_tags):
    """What the role does for the NAT part of the network, from the look-up `net` (stack_info's
    network part, or {}) to the mode's egress. Components only: the role maps them to the ids
    found or made during the run.

      eips, gateways, tables  the mode's, each with its tags, what was found (null when missing)
                              and what to do at build time (todo, tags_todo; a table's `route`:
                              `gateway` = to its gateway, `keep` = its current target for now;
                              `subnets`: the subnets it holds after the build)
      switch                  what waits for the new gateways to be available: `routes` (table,
                              gateway) to replace, `moves` (table, subnet) of associations to
                              take from another table of the stack, then `leftovers` to delete:
                              gateways, eips, tables of another mode (or of an earlier layout)
      errors                  what the role cannot do, found before any change"""
    net = net or {}
    stack_name = stack_tags[STACK_TAG]
    want = wanted(mode, layout, nat_subnet, names)
    eips_found = net.get("eips") or {}
    nats = net.get("nat_gateways") or []
    tables_found = net.get("route_tables") or {}
    subnet_ids = dict((s["component"], (s.get("found") or {}).get("id")) for s in layout)
    subnet_of_id = dict((i, c) for c, i in subnet_ids.items() if i)
    live_ids = set(n["id"] for n in nats if n["state"] in LIVE)
    deleted_interfaces = set(i for n in nats if n["state"] not in LIVE for i in n.get("network_interface_ids") or [])
    errors = []

    eips = []
    for entry in want["eips"]:
        entry = _with_tags(entry, stack_tags)
        found = eips_found.get(entry["component"])
        eips.append(dict(entry, found=found, todo=found is None,
                         tags_todo=found is not None and _tags_differ(found, entry["tags"]),
                         held_by_deleted_nat=found is not None and found.get("association_id") is not None
                         and found.get("network_interface_id") in deleted_interfaces))
    eip_by_component = dict((e["component"], e) for e in eips)

    ours = _stack_gateways(nats, eips_found, stack_name)
    chosen = set()
    gateways = []
    for entry in want["gateways"]:
        entry = _with_tags(entry, stack_tags)
        candidates = [nat for component, nat in ours if component == entry["component"]]
        if entry["mode"] == "regional":
            matching = [nat for nat in candidates if nat.get("availability_mode") == "regional"]
        else:
            matching = [nat for nat in candidates if nat.get("subnet_id") and nat["subnet_id"] == subnet_ids.get(entry["subnet"])]
        found = matching[0] if matching else None
        if found:
            chosen.add(found["id"])
        zone_addresses = [[zone, (eip_by_component[e]["found"] or {}).get("allocation_id")] for zone, e in entry["zones"]]
        if entry["mode"] == "regional":
            todo = found is None or sorted(found.get("zone_addresses") or []) != sorted(zone_addresses)
        else:
            todo = found is None
        gateways.append(dict(entry, found=found, todo=todo, tags_todo=found is not None and _tags_differ(found, entry["tags"]),
                             state=found["state"] if found else None))
        if found is None:
            errors.extend(_address_holders(entry, eip_by_component, nats, subnet_ids, layout, mode, stack_name))
    gateway_by_component = dict((g["component"], g) for g in gateways)

    holders = {}
    for component, table in tables_found.items():
        for subnet_id in table.get("subnet_ids") or []:
            holders[subnet_id] = component
    wanted_table_of = dict((subnet, t["component"]) for t in want["tables"] for subnet in t["subnets"])
    tables, routes, moves = [], [], []
    for entry in want["tables"]:
        entry = _with_tags(entry, stack_tags)
        found = tables_found.get(entry["component"])
        gateway = gateway_by_component[entry["gateway"]]
        gateway_id = gateway["found"]["id"] if gateway["found"] else None
        current = (found.get("routes") or {}).get(ANYWHERE) if found else None
        # A route through a live gateway moves only to an available one: until then it stays.
        keep = found is not None and current in live_ids and current != gateway_id and gateway["state"] != "available"
        if keep:
            routes.append({"table": entry["component"], "gateway": entry["gateway"]})
        subnets = []
        for subnet in entry["subnets"]:
            holder = holders.get(subnet_ids.get(subnet)) if subnet_ids.get(subnet) else None
            if holder in (None, entry["component"]):
                subnets.append(subnet)  # new, unassociated (or in a table not of the stack), or here already
            else:
                moves.append({"table": entry["component"], "subnet": subnet, "from": holder})
        for subnet_id in (found or {}).get("subnet_ids") or []:
            subnet = subnet_of_id.get(subnet_id)
            if subnet and wanted_table_of.get(subnet) not in (None, entry["component"]):
                subnets.append(subnet)  # stays until the table it is wanted in takes it over
        build_ids = [subnet_ids.get(s) for s in subnets]
        todo = (found is None or _tags_differ(found, entry["tags"]) or (not keep and (gateway_id is None or current != gateway_id))
                or None in build_ids or sorted(found.get("subnet_ids") or []) != sorted(build_ids))
        tables.append(dict(entry, found=found, todo=todo, route="keep" if keep else "gateway", subnets=subnets))

    leftovers = {
        "gateways": [nat for _component, nat in ours if nat["id"] not in chosen],
        "eips": [dict(e, component=c) for c, e in sorted(eips_found.items()) if c not in eip_by_component],
        "tables": [dict(t, component=c) for c, t in sorted(tables_found.items())
                   if c.startswith("private-rt") and c not in [w["component"] for w in want["tables"]]],
    }
    stack_interfaces = set(i for _component, n in ours for i in n.get("network_interface_ids") or []) | deleted_interfaces
    for eip in leftovers["eips"]:
        if eip.get("association_id") and eip.get("network_interface_id") not in stack_interfaces:
            errors.append("Elastic IP %s (%s) of stack %s, which network_nat_mode %s no longer uses, is associated with %s,"
                          " which is not a NAT gateway of the stack: not releasing it; disassociate it first"
                          % (eip["allocation_id"], eip.get("public_ip"), stack_name, mode, eip.get("network_interface_id")))
    return {
        "mode": mode,
        "eips": eips,
        "gateways": gateways,
        "tables": tables,
        "switch": {"routes": routes, "moves": moves, "leftovers": leftovers,
                   "todo": bool(routes or moves or any(leftovers.values()))},
        "errors": errors,
    }


def _address_holders(gateway, eip_by_component, nats, subnet_ids, layout, mode, stack_name):
    """A live NAT gateway elsewhere holding an address that `gateway`, to be created, needs."""
    errors = []
    names = dict((s["component"], s["name"]) for s in layout)
    for component in gateway["eips"]:
        found = eip_by_component[component]["found"]
        if not found:
            continue
        for other in nats:
            if other["state"] in LIVE and found["allocation_id"] in (other.get("allocation_ids") or []):
                if mode == "single":
                    errors.append("NAT gateway %s holds the Elastic IP %s of stack %s in subnet %s, not in the subnet %s of"
                                  " network_nat_subnet; remove the stack first"
                                  % (other["id"], found["allocation_id"], stack_name, other.get("subnet_id"), names[gateway["subnet"]]))
                else:
                    errors.append("NAT gateway %s holds the Elastic IP %s that network_nat_mode %s gives to %s of stack %s;"
                                  " remove the stack first" % (other["id"], found["allocation_id"], mode, gateway["name"], stack_name))
    return errors
