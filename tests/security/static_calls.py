"""What the collection's own code can call on AWS, read from its source, and which AWS modules its
roles and playbooks use.

Most calls come from amazon.aws / community.aws modules: those are proven by the record of
test_iam_policy.py, and their calls on paths the record does not reach are listed there
(NOT_EXERCISED) after reading each module's source. What is ours is found here:

* ``called_actions()``: a boto3 method called on a client variable in plugins/ (our gap modules
  and their module_utils), mapped to its IAM action through botocore's service model
  (``describe_vpc_attribute`` on an EC2 client -> ``ec2:DescribeVpcAttribute``). The clients are
  found by the names the code gives them; ``unknown_receivers()`` lists an AWS operation called on
  a variable this table does not know (a client under a new name, which would be missed).
* ``aws_modules_used()``: the amazon.aws / community.aws modules that roles/ and playbooks/ call.
"""
import os
import re

import botocore.session
from botocore import xform_name

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLUGINS = os.path.join(ROOT, "plugins")
TASK_DIRS = (os.path.join(ROOT, "roles"), os.path.join(ROOT, "playbooks"))

# client variable name in plugins/ -> (boto3 service name, IAM prefix)
CLIENTS = {
    "ec2": ("ec2", "ec2"),
    "elbv2": ("elbv2", "elasticloadbalancing"),
    "asg": ("autoscaling", "autoscaling"),
    "autoscaling": ("autoscaling", "autoscaling"),
    "ssm_factory()": ("ssm", "ssm"),
    "cloudwatch": ("cloudwatch", "cloudwatch"),
    "ssm": ("ssm", "ssm"),
}
# boto3 service name -> IAM prefix, for the services a boto3 client may be made for
IAM_PREFIX = dict(CLIENTS.values())

_CALL = re.compile(r"\b(?:self\.)?(ec2|elbv2|asg|autoscaling|cloudwatch|ssm_factory\(\)|ssm)\.([a-z][a-z0-9_]*)")
_PAGINATOR = re.compile(r"\b(?:self\.)?(ec2|elbv2|asg|autoscaling|cloudwatch)\.get_paginator\(\"([a-z_]+)\"\)")
# a client handed to a helper with the operation's name: paginate(ec2, "describe_tags", ...)
_HANDED = re.compile(r"\b(?:self\.)?(ec2|elbv2|asg|autoscaling|cloudwatch),\s*\"([a-z_]+)\"")
_AWS_CLIENT = re.compile(r"aws_client\(module, \"([a-z0-9]+)\"\)")
# boto3.client('ec2', ...).delete_launch_template(...) written in a task (the client call may span lines)
_FQCN = re.compile(r"^\s*-?\s*((?:amazon|community)\.aws\.[a-z0-9_]+):", re.M)


def _operations(services):
    session = botocore.session.get_session()
    return dict((service, dict((xform_name(name), name) for name in session.get_service_model(service).operation_names))
                for service in services)


def sources():
    for folder in ("module_utils", "modules"):
        base = os.path.join(PLUGINS, folder)
        for name in sorted(os.listdir(base)):
            if name.endswith(".py"):
                with open(os.path.join(base, name), encoding="utf-8") as handle:
                    yield name, handle.read()


def task_files():
    for top in TASK_DIRS:
        for folder, _dirs, files in os.walk(top):
            for name in sorted(files):
                if name.endswith((".yml", ".yaml")):
                    path = os.path.join(folder, name)
                    with open(path, encoding="utf-8") as handle:
                        yield os.path.relpath(path, ROOT), handle.read()


def called_actions():
    """{iam action: sorted file names in plugins/ calling it}."""
    ops = _operations(set(service for service, _prefix in CLIENTS.values()))
    found = {}
    for name, text in sources():
        for receiver, method in _CALL.findall(text) + _PAGINATOR.findall(text) + _HANDED.findall(text):
            service, prefix = CLIENTS[receiver]
            if method in ops[service]:
                found.setdefault("%s:%s" % (prefix, ops[service][method]), set()).add(name)
    return dict((action, sorted(files)) for action, files in found.items())


def services_created():
    """The boto3 services the modules create clients for."""
    return set(service for _name, text in sources() for service in _AWS_CLIENT.findall(text))


def unknown_receivers():
    """(file, receiver.method) where a name that is an AWS operation of our services is called on a
    variable this table does not know: a client under a new name, which called_actions() would miss."""
    names = set()
    for table in _operations(set(service for service, _prefix in CLIENTS.values())).values():
        names.update(table)
    known = set(r.rstrip("()") for r in CLIENTS) | {"self"}
    out = []
    for name, text in sources():
        for receiver, method in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\(\))?)\.([a-z][a-z0-9_]*)\(", text):
            if method in names and receiver.rstrip("()") not in known:
                out.append((name, "%s.%s" % (receiver, method)))
    return sorted(set(out))


def boto3_in_tasks():
    """Task files that mention boto3 at all (there must be none: AWS calls go through modules)."""
    return sorted(path for path, text in task_files() if "boto3" in text)


def aws_modules_used():
    """{fully qualified amazon.aws / community.aws module: sorted task files using it}."""
    found = {}
    for path, text in task_files():
        for module in _FQCN.findall(text):
            found.setdefault(module, set()).add(path)
    return dict((module, sorted(paths)) for module, paths in found.items())
