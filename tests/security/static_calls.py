"""The AWS operations the collection's code can call, read from its source (plugins/).

A boto3 method called on a client variable is mapped to its IAM action through botocore's service
model (``describe_vpc_attribute`` on an EC2 client -> ``ec2:DescribeVpcAttribute``). The clients are
found by the names the code gives them; ``tests/security/test_iam_policy.py`` fails when a client
appears under a name this table does not know (see ``unknown_clients``).
"""
import os
import re

import botocore.session
from botocore import xform_name

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLUGINS = os.path.join(ROOT, "plugins")

# client variable name in plugins/ -> (boto3 service name, IAM prefix)
CLIENTS = {
    "ec2": ("ec2", "ec2"),
    "client": ("ec2", "ec2"),  # module_utils/network.py and modules/vpc_network.py
    "elbv2": ("elbv2", "elasticloadbalancing"),
    "asg": ("autoscaling", "autoscaling"),
    "autoscaling": ("autoscaling", "autoscaling"),
    "ssm_factory()": ("ssm", "ssm"),
}
# module_utils whose string literals name EC2 client methods (Reconciler._act("...", "create_vpc", ...)).
STRING_DISPATCH = {"network.py": "ec2"}

_CALL = re.compile(r"\b(?:self\.)?(ec2|client|elbv2|asg|autoscaling|ssm_factory\(\))\.([a-z][a-z0-9_]*)")
_PAGINATOR = re.compile(r"\b(?:self\.)?(ec2|client|elbv2|asg|autoscaling)\.get_paginator\(\"([a-z_]+)\"\)")
# a client handed to a helper with the operation's name: paginate(ec2, "describe_tags", ...)
_HANDED = re.compile(r"\b(?:self\.)?(ec2|client|elbv2|asg|autoscaling),\s*\"([a-z_]+)\"")
_LITERAL = re.compile(r"\"([a-z]+(?:_[a-z0-9]+)+)\"")
_AWS_CLIENT = re.compile(r"aws_client\(module, \"([a-z0-9]+)\"\)")


def _operations():
    session = botocore.session.get_session()
    ops = {}
    for service, prefix in set(CLIENTS.values()):
        model = session.get_service_model(service)
        ops[service] = (prefix, dict((xform_name(name), name) for name in model.operation_names))
    return ops


def sources():
    for folder in ("module_utils", "modules"):
        base = os.path.join(PLUGINS, folder)
        for name in sorted(os.listdir(base)):
            if name.endswith(".py"):
                with open(os.path.join(base, name), encoding="utf-8") as handle:
                    yield name, handle.read()


def called_actions():
    """{iam action: sorted file names calling it}."""
    ops = _operations()
    found = {}

    def add(service, method, name):
        prefix, table = ops[service]
        if method in table:
            found.setdefault("%s:%s" % (prefix, table[method]), set()).add(name)

    for name, text in sources():
        for receiver, method in _CALL.findall(text) + _PAGINATOR.findall(text) + _HANDED.findall(text):
            add(CLIENTS[receiver][0], method, name)
        if name in STRING_DISPATCH:
            for method in _LITERAL.findall(text):
                add(STRING_DISPATCH[name], method, name)
    return dict((action, sorted(files)) for action, files in found.items())


def services_created():
    """The boto3 services the modules create clients for."""
    return set(service for _name, text in sources() for service in _AWS_CLIENT.findall(text))


def unknown_receivers():
    """(file, receiver.method) where a name that is an AWS operation of our services is called on a
    variable this table does not know: a client under a new name, which called_actions() would miss."""
    ops = _operations()
    names = set()
    for _prefix, table in ops.values():
        names.update(table)
    known = set(r.rstrip("()") for r in CLIENTS) | {"self"}
    out = []
    for name, text in sources():
        for receiver, method in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\(\))?)\.([a-z][a-z0-9_]*)\(", text):
            if method in names and receiver.rstrip("()") not in known:
                out.append((name, "%s.%s" % (receiver, method)))
    return sorted(set(out))
