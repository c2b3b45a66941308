# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the roles' input values, with no AWS import: the collection's test and filter
plugins run them on the controller in every Ansible worker, before any AWS call.

Ansible's `| int` turns text it cannot read into 0 and `| bool` turns it into false: the roles
check each value with these first, so that `asg_min_size=abc` is refused instead of becoming 0.
Numbers written as text (`-e asg_min_size=2` passes the string "2") are accepted."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import math
import os
import re

WHOLE_NUMBER = re.compile(r"[-+]?[0-9]+\Z")
REAL_NUMBER = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")
# What ansible.builtin.bool and the role argument specs read as true or false.
BOOLEAN_WORDS = frozenset(("y", "yes", "on", "1", "true", "t", "n", "no", "off", "0", "false", "f"))
# Tags: EC2 and Auto Scaling take any printable character; Elastic Load Balancing only letters,
# digits, spaces and _ . : / = + - @ (strict).
TAG_TEXT = re.compile(r"[^\x00-\x1f\x7f]*\Z")
ELB_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*\Z", re.UNICODE)
# Keys the collection sets itself, and the prefix AWS keeps for its own tags.
RESERVED_TAG_KEYS = ("Name",)
RESERVED_TAG_PREFIXES = ("aws:", "ha_web:")
MAX_USER_TAGS = 40  # AWS allows 50 per resource; the roles add up to 5 of their own


def _is_text(value):
    return isinstance(value, str)


def is_whole_number(value):
    """An int (not a bool), an integral float, or text such as "2" or "-1"."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return _is_text(value) and WHOLE_NUMBER.match(value) is not None


def is_real_number(value):
    """A finite int or float (not a bool), or text such as "2", "2.5" or "1e3"."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return _is_text(value) and REAL_NUMBER.match(value) is not None


def is_boolean_like(value):
    """A bool, or text that ansible.builtin.bool reads as one (yes, no, true, false, on, off, 1, 0...)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in (0, 1)
    return _is_text(value) and value.strip().lower() in BOOLEAN_WORDS


def _shown(value):
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def tag_errors(tags, label, strict=False):
    """Extra tags given by the user: a dict of text keys (1 to 128 characters) to text, number
    or bool values (at most 256 characters), none reserved, at most MAX_USER_TAGS of them; no
    control character, and with strict (Elastic Load Balancing) only ELB_TAG_TEXT's characters."""
    text, allowed = (ELB_TAG_TEXT, "letters, digits, spaces and _ . : / = + - @") if strict else (TAG_TEXT, "printable characters")
    if not isinstance(tags, dict):
        return ["%s %s must be a dict of tag keys to values, such as {\"Owner\": \"me\"}" % (label, _shown(tags))]
    errors = []
    if len(tags) > MAX_USER_TAGS:
        errors.append("%s has %d tags: at most %d (AWS allows 50 per resource, the roles add their own)"
                      % (label, len(tags), MAX_USER_TAGS))
    for key, value in sorted(tags.items(), key=lambda item: str(item[0])):
        if not _is_text(key) or not 1 <= len(key) <= 128 or not text.match(key):
            errors.append("%s key %s must be 1 to 128 %s" % (label, _shown(key), allowed))
        elif key in RESERVED_TAG_KEYS or key.lower().startswith(RESERVED_TAG_PREFIXES):
            errors.append("%s key %s is reserved (Name and the ha_web: and aws: prefixes are set by the collection or AWS)"
                          % (label, _shown(key)))
        if isinstance(value, (dict, list)) or value is None:
            errors.append("%s[%s] %s must be text, a number or a bool" % (label, _shown(key), _shown(value)))
        elif len(str(value)) > 256 or not text.match(str(value)):
            errors.append("%s[%s] %s must be at most 256 %s" % (label, _shown(key), _shown(value), allowed))
    return errors


def _data_file(name):
    """A data file of botocore (its package import is light: no client, no session)."""
    try:
        import botocore
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(botocore.__file__), "data", name)
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def ec2_regions(endpoints=None):
    """The regions botocore knows for EC2, in every partition (what boto3's
    get_available_regions('ec2', partition) lists); None when botocore's data is not found."""
    endpoints = endpoints if endpoints is not None else _data_file("endpoints.json")
    if not endpoints:
        return None
    regions = set()
    for partition in endpoints.get("partitions", []):
        known = partition.get("regions", {})
        service = partition.get("services", {}).get("ec2", {}).get("endpoints", {})
        regions.update(region for region in service if region in known)
    return sorted(regions)


def region_errors(region, label="aws_region", known=None):
    """[] for a region botocore knows for EC2, else one message naming the variable."""
    known = known if known is not None else ec2_regions()
    if _is_text(region) and known is None:
        return []  # no botocore on this controller: the first AWS call will say
    if _is_text(region) and region in known:
        return []
    hint = [r for r in (known or []) if _is_text(region) and region.strip().lower() == r]
    return ["%s %s is not a region where botocore knows EC2%s (for example ap-northeast-2, us-east-1)"
            % (label, _shown(region), "; did you mean %s?" % hint[0] if hint else "")]


def cidr_errors(cidrs, label):
    """A list of IPv4 or IPv6 CIDR blocks such as 0.0.0.0/0 or ::/0 (host bits set are refused:
    AWS reads 10.0.0.1/16 as another block than the one meant)."""
    if not isinstance(cidrs, list) or not cidrs:
        return ["%s %s must be a list of at least one CIDR block, such as [\"0.0.0.0/0\"]" % (label, _shown(cidrs))]
    bad = []
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr if _is_text(cidr) and "/" in cidr else None, strict=True)
        except (TypeError, ValueError):
            bad.append(cidr)
    if bad:
        return ["%s %s must be IPv4 or IPv6 CIDR blocks such as 0.0.0.0/0 or ::/0" % (label, _shown(bad))]
    return []


def _range_text(low, high, exclusive_low=False):
    if low is not None and high is not None and not exclusive_low:
        return " from %s to %s" % (low, high)
    text = ""
    if low is not None:
        text += " > %s" % low if exclusive_low else " >= %s" % low
    if high is not None:
        text += "%s <= %s" % (" and" if text else "", high)
    return text


def _check(name, value, kind, args):
    """The message of one variable's check (see input_errors()), or None when the value passes."""
    shown = "%s %s" % (name, _shown(value))
    arg = (list(args) + [None] * 4)[:4]
    if kind in ("whole", "number"):
        whole = kind == "whole"
        low, high, note = arg[0], arg[1], arg[2]
        fits = is_whole_number(value) if whole else is_real_number(value)
        if fits:
            number = int(value) if whole else float(value)
            fits = (low is None or (number >= low if whole else number > low)) and (high is None or number <= high)
        if fits:
            return None
        return "%s must be a %s%s%s" % (shown, "whole number" if whole else "number", _range_text(low, high, not whole),
                                        " (%s)" % note if note else "")
    if kind == "flag":
        return None if is_boolean_like(value) else "%s must be true or false" % shown
    if kind == "text":
        pattern, description, numbers = arg[0], arg[1], arg[2]
        text = "" if value is None else str(value) if numbers and is_whole_number(value) else value
        if _is_text(text) and re.match(pattern, text):
            return None
        return "%s%s must be %s" % (shown, " (%d characters)" % len(value) if _is_text(value) else "", description)
    if kind == "choice":
        return None if _is_text(value) and value in arg[0] else "%s must be one of %s" % (shown, ", ".join(arg[0]))
    if kind == "choices":
        if isinstance(value, list) and all(_is_text(v) and v in arg[0] for v in value):
            return None
        return "%s must be a list of %s (each one of %s)" % (shown, arg[1], ", ".join(arg[0]))
    raise ValueError("unknown check %r of %s" % (kind, name))


def input_errors(checks, values):
    """One message per variable whose value breaks its check, naming it and the rule.

    checks: {variable: [kind, arguments...]} in the order to report, values: their values in the
    same order. Kinds: [whole, min, max, note] (a whole number, min <= value <= max, either null
    for no bound), [number, min, max, note] (a finite number, min < value <= max), [flag] (true or
    false), [text, pattern, description, numbers] (text matching the anchored pattern; null reads
    as empty text; with numbers, a whole number reads as its text), [choice, options], [choices,
    options, what] (a list of options), [tags, strict] (tag_errors()), [cidrs] (cidr_errors()),
    [region, label] (region_errors())."""
    names = list(checks)
    values = list(values)
    if len(names) != len(values):
        raise ValueError("%d checks for %d values" % (len(names), len(values)))
    errors = []
    for name, value in zip(names, values):
        kind, args = checks[name][0], checks[name][1:]
        if kind == "tags":
            errors.extend(tag_errors(value, name, strict=bool(args and args[0])))
        elif kind == "cidrs":
            errors.extend(cidr_errors(value, name))
        elif kind == "region":
            errors.extend(region_errors(value, args[0] if args else name))
        else:
            message = _check(name, value, kind, args)
            if message:
                errors.append(message)
    return errors
