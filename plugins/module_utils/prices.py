# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The price table of the cost estimate (cost.py): data only, no import.

Prices in USD, on-demand, Linux, without tax, per region. A region that is not listed here has no
estimate ("no price data"): nothing is guessed from another region.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

AS_OF = "2025-06"
SOURCE = ("AWS public price list (Price List API / the pricing pages of Amazon EC2, Amazon EBS, Amazon VPC and "
          "Elastic Load Balancing), on-demand, Linux, without tax, as of " + AS_OF
          + "; prices change: re-check before relying on them")
CURRENCY = "USD"
HOURS_PER_MONTH = 730

# What an hour of a load balancer is assumed to use: one Load Balancer Capacity Unit (up to 25 new
# connections/s, 3,000 active connections/min, 1 GB processed per hour, 1,000 rule evaluations/s).
# An idle load balancer uses less, a load test more.
ALB_LCU_ASSUMED = 1.0

# Charged per hour of any public IPv4 address (an Elastic IP, a load balancer node's address), in every region.
PUBLIC_IPV4_HOUR = 0.005

# Per region:
#   nat_gateway_hour       a NAT gateway, per hour
#   nat_gateway_gb         NAT data processing, per GB (not in the estimate: usage)
#   alb_hour, alb_lcu_hour an Application Load Balancer, per hour and per LCU-hour
#   ebs_gb_month           EBS volume storage per GB-month, by volume type
#   snapshot_gb_month      EBS snapshot storage (standard tier) per GB-month
#   instance_hour          EC2 instance per hour, by type (Linux, shared tenancy)
REGIONS = {
    "us-east-1": {
        "name": "US East (N. Virginia)",
        "nat_gateway_hour": 0.045,
        "nat_gateway_gb": 0.045,
        "alb_hour": 0.0225,
        "alb_lcu_hour": 0.008,
        "ebs_gb_month": {"gp3": 0.08, "gp2": 0.10},
        "snapshot_gb_month": 0.05,
        "instance_hour": {
            "t2.micro": 0.0116, "t2.small": 0.023, "t2.medium": 0.0464,
            "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416,
        },
    },
    "us-west-2": {
        "name": "US West (Oregon)",
        "nat_gateway_hour": 0.045,
        "nat_gateway_gb": 0.045,
        "alb_hour": 0.0225,
        "alb_lcu_hour": 0.008,
        "ebs_gb_month": {"gp3": 0.08, "gp2": 0.10},
        "snapshot_gb_month": 0.05,
        "instance_hour": {
            "t2.micro": 0.0116, "t2.small": 0.023, "t2.medium": 0.0464,
            "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416,
        },
    },
    "eu-west-1": {
        "name": "Europe (Ireland)",
        "nat_gateway_hour": 0.048,
        "nat_gateway_gb": 0.048,
        "alb_hour": 0.0252,
        "alb_lcu_hour": 0.008,
        "ebs_gb_month": {"gp3": 0.088, "gp2": 0.11},
        "snapshot_gb_month": 0.05,
        "instance_hour": {
            "t2.micro": 0.0126, "t2.small": 0.025, "t2.medium": 0.05,
            "t3.micro": 0.0114, "t3.small": 0.0228, "t3.medium": 0.0456,
        },
    },
    # The lab's region (Seoul).
    "ap-northeast-2": {
        "name": "Asia Pacific (Seoul)",
        "nat_gateway_hour": 0.059,
        "nat_gateway_gb": 0.059,
        "alb_hour": 0.0225,
        "alb_lcu_hour": 0.008,
        "ebs_gb_month": {"gp3": 0.0912, "gp2": 0.114},
        "snapshot_gb_month": 0.05,
        "instance_hour": {
            "t2.micro": 0.0144, "t2.small": 0.0288, "t2.medium": 0.0576,
            "t3.micro": 0.013, "t3.small": 0.026, "t3.medium": 0.052,
        },
    },
}
