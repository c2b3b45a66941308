# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a stack costs per hour and per month, as deployed, from the price table in prices.py.

Read from the facts the roles hand on (ha_web_network, ha_web_image, ha_web_alb, ha_web_asg):
NAT gateways, public IPv4 addresses (the NAT gateways' Elastic IPs and the internet-facing load
balancer's one address per zone), the load balancer's hour and an assumed LCU, the group's
InService instances by type, their root volumes, and the snapshots of the stack's images. Usage
(data transfer, NAT data processing, LCUs beyond the assumption, CloudWatch) is not in it.
No AWS import: stack_outputs computes it on every run at no extra call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.immersionday.ha_web.plugins.module_utils import prices as price_table


def _count(fact, list_key, single_key):
    """How many of a resource a fact names: its list (nat_gateway_ids, per_az and regional NAT
    modes), else its single id (nat_gateway_id, the single mode)."""
    many = fact.get(list_key)
    if many is not None:
        return len([i for i in many if i])
    return 1 if fact.get(single_key) else 0


def usage(parts):
    """What the stack holds that has a price, read from the facts (each part may be null)."""
    parts = parts or {}
    network = parts.get("network") or {}
    image = parts.get("image") or {}
    alb = parts.get("alb") or {}
    asg = parts.get("asg") or {}
    nat_gateways = _count(network, "nat_gateway_ids", "nat_gateway_id")
    # Each public NAT gateway holds one Elastic IP at least (a regional one may hold several).
    nat_addresses = max(_count(network, "eip_allocation_ids", "eip_allocation_id"), nat_gateways)
    load_balancers = 1 if alb.get("load_balancer_arn") else 0
    # An internet-facing Application Load Balancer has one public address per zone it spans (its public subnets).
    alb_addresses = len([s for s in network.get("public_subnet_ids") or [] if s]) if load_balancers else 0
    in_service = len([i for i in asg.get("instances") or [] if i.get("lifecycle_state") == "InService"])
    return {
        "nat_gateways": nat_gateways,
        "nat_addresses": nat_addresses,
        "load_balancers": load_balancers,
        "alb_addresses": alb_addresses,
        "instance_type": asg.get("instance_type"),
        "instances": in_service,
        "root_volume_gb": int(asg.get("root_volume_size") or 0),
        "root_volume_type": asg.get("root_volume_type") or "gp3",
        "snapshot_gb": int(image.get("snapshot_gb") or 0),
    }


def _item(key, description, quantity, unit, unit_price, hourly):
    quantity = int(quantity) if float(quantity).is_integer() else quantity
    return {"item": key, "description": description, "quantity": quantity, "unit": unit, "unit_price": unit_price,
            "hourly": round(hourly, 6), "monthly": round(hourly * price_table.HOURS_PER_MONTH, 2)}


def _not_included(region_prices):
    return ("data transfer, NAT data processing ({0} {1}/GB), load balancer capacity units beyond the assumed {2:g} "
            "per hour, CloudWatch (detailed monitoring metrics, dashboards beyond the account's first three)"
            .format(region_prices["nat_gateway_gb"], price_table.CURRENCY, price_table.ALB_LCU_ASSUMED))


def stack_cost(parts, region, table=None):
    """The estimate: items (quantity, unit price, hourly, monthly), totals, the price table's date
    and source, what is assumed and what is not included. For a region the table does not list:
    priced false, a message, no figures."""
    table = price_table.REGIONS if table is None else table
    used = usage(parts)
    estimate = {
        "region": region,
        "currency": price_table.CURRENCY,
        "prices_as_of": price_table.AS_OF,
        "source": price_table.SOURCE,
        "hours_per_month": price_table.HOURS_PER_MONTH,
        "usage": used,
    }
    region_prices = table.get(region)
    if region_prices is None:
        estimate.update(priced=False, hourly=None, monthly=None, items=[], unpriced=[],
                        message="no price data for region %s (the price table lists %s)" % (region, ", ".join(sorted(table))))
        return estimate
    hours = float(price_table.HOURS_PER_MONTH)
    items = []
    unpriced = []
    if used["nat_gateways"]:
        price = region_prices["nat_gateway_hour"]
        items.append(_item("nat_gateway", "NAT gateway", used["nat_gateways"], "gateway-hour", price, used["nat_gateways"] * price))
    if used["nat_addresses"]:
        items.append(_item("public_ipv4_nat", "public IPv4 address of a NAT gateway (Elastic IP)", used["nat_addresses"],
                           "address-hour", price_table.PUBLIC_IPV4_HOUR, used["nat_addresses"] * price_table.PUBLIC_IPV4_HOUR))
    if used["load_balancers"]:
        price = region_prices["alb_hour"]
        items.append(_item("load_balancer", "Application Load Balancer", used["load_balancers"], "load-balancer-hour", price,
                           used["load_balancers"] * price))
        lcu = used["load_balancers"] * price_table.ALB_LCU_ASSUMED
        items.append(_item("load_balancer_lcu", "load balancer capacity units (assumed)", lcu, "LCU-hour",
                           region_prices["alb_lcu_hour"], lcu * region_prices["alb_lcu_hour"]))
    if used["alb_addresses"]:
        items.append(_item("public_ipv4_alb", "public IPv4 address of the load balancer (one per zone)", used["alb_addresses"],
                           "address-hour", price_table.PUBLIC_IPV4_HOUR, used["alb_addresses"] * price_table.PUBLIC_IPV4_HOUR))
    if used["instances"]:
        price = region_prices["instance_hour"].get(used["instance_type"])
        if price is None:
            unpriced.append("instance type %s" % used["instance_type"])
        else:
            items.append(_item("instances", "EC2 instance %s (InService)" % used["instance_type"], used["instances"],
                               "instance-hour", price, used["instances"] * price))
        volume_gb = used["instances"] * used["root_volume_gb"]
        if volume_gb:
            price = region_prices["ebs_gb_month"].get(used["root_volume_type"])
            if price is None:
                unpriced.append("EBS volume type %s" % used["root_volume_type"])
            else:
                description = "EBS %s root volumes (%d x %d GB)" % (used["root_volume_type"], used["instances"], used["root_volume_gb"])
                items.append(_item("ebs", description, volume_gb, "GB-month", price, volume_gb * price / hours))
    if used["snapshot_gb"]:
        price = region_prices["snapshot_gb_month"]
        items.append(_item("ami_snapshots", "EBS snapshots of the stack's images (their full size, at most)", used["snapshot_gb"],
                           "GB-month", price, used["snapshot_gb"] * price / hours))
    hourly = sum(item["quantity"] * item["unit_price"] / (hours if item["unit"] == "GB-month" else 1.0) for item in items)
    estimate.update(
        priced=True,
        region_name=region_prices["name"],
        items=items,
        hourly=round(hourly, 4),
        monthly=round(hourly * hours, 2),
        unpriced=unpriced,
        message=("no price data for %s: left out of the totals" % ", ".join(unpriced)) if unpriced else None,
        assumptions=[
            "%g load balancer capacity unit per hour" % price_table.ALB_LCU_ASSUMED,
            "instances: the group's InService count at this run, priced at the launch template's type",
            "snapshots: the full size of each image's volumes (AWS bills the blocks stored, often less)",
        ],
        not_included=_not_included(region_prices),
    )
    return estimate
