"""Values of ../shared/spec/lab.md that several unit tests share."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

LAB_SUBNETS = [
    {"name": "Public subnet A", "cidr": "10.0.10.0/24", "az": "a", "tier": "public"},
    {"name": "Private subnet A", "cidr": "10.0.100.0/24", "az": "a", "tier": "private"},
    {"name": "Public subnet C", "cidr": "10.0.20.0/24", "az": "c", "tier": "public"},
    {"name": "Private subnet C", "cidr": "10.0.200.0/24", "az": "c", "tier": "private"},
]
