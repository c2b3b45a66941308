"""A test proxy in front of the embedded cloud (moto server).

Clients point ``AWS_ENDPOINT_URL`` at it; it forwards every request to the upstream moto server
and, in any combination:

* **record**: logs every AWS call as ``{t, service, action, status, error_code, ...}``
  (``AwsProxy.record`` in process, one JSON line per call with ``--record FILE.jsonl``);
  ``summarize()`` counts them by ``service:Action`` and mutating vs read.
* **slow**: makes the instant cloud behave like AWS in time. Resources the proxy saw being
  created stay in their transitional state for ``SLOW_DURATIONS[...] / scale`` seconds (the
  Describe responses are rewritten), and a new AMI is invisible for a moment after CreateImage
  (``InvalidAMIID.NotFound`` when asked for by id, absent from listings).
* **faults**: answers a seeded share of calls with ``Throttling`` / ``RequestLimitExceeded`` /
  ``ThrottlingException`` / a bare HTTP 503, in the error format of each protocol (EC2, query,
  JSON). The same request is never faulted more than ``fault_cap`` times in a row, so retries
  progress. Each decision depends only on (seed, request, how often that request was seen), so a
  seed reproduces the same faults for the same sequence of calls.

Run it:  python -m tests.proxy.awsproxy --upstream http://127.0.0.1:5106 --port 5116 \
             [--record FILE.jsonl] [--slow SCALE] [--faults SHARE --seed N] [--fault-actions REGEX]
Summary: python -m tests.proxy.awsproxy --summary FILE.jsonl
In process: ``with AwsProxy(upstream, slow=10) as proxy: ... proxy.url ... proxy.record``.

Standard library only.
"""

import argparse
import hashlib
import http.client
import json
import re
import signal
import socket
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Realistic durations on AWS, in seconds, of the transitional states the slow mode imitates
# (each is divided by the scale factor). Sources: the figures measured for the lab (issue 6).
SLOW_DURATIONS = {
    # ec2 DescribeNatGateways: state pending -> available
    "nat_gateway": 100.0,
    # ec2 DescribeNatGateways after DeleteNatGateway: state deleting -> deleted
    "nat_gateway_deleting": 60.0,
    # ec2 DescribeImages: imageState pending -> available
    "image": 300.0,
    # ec2 DescribeImages: InvalidAMIID.NotFound (by id) / absent (listing) right after CreateImage
    "image_not_found": 5.0,
    # elbv2 DescribeLoadBalancers: State.Code provisioning -> active
    "load_balancer": 160.0,
    # ec2 DescribeInstances: pending -> running; autoscaling: LifecycleState Pending -> InService
    "instance": 40.0,
    # ec2 DescribeInstances after TerminateInstances: shutting-down -> terminated (and until then,
    # DeleteSecurityGroup of its security group: DependencyViolation)
    "instance_shutting_down": 30.0,
    # elbv2 DescribeTargetHealth: initial -> healthy, counted from when the instance runs
    # (or from RegisterTargets if later)
    "target_health": 60.0,
}

# The waits on the lab's critical path (network -> builder -> AMI -> template -> group healthy).
CRITICAL_PATH = ("nat_gateway", "instance", "image", "instance", "target_health")

READ_PREFIXES = ("Describe", "List", "Get", "Search", "Lookup", "Head", "Query", "Scan", "Select", "BatchGet")

# Auto Scaling calls after which the group may launch instances the proxy never sees created.
ASG_LAUNCHING_ACTIONS = {
    "CreateAutoScalingGroup", "UpdateAutoScalingGroup", "SetDesiredCapacity", "ExecutePolicy",
    "StartInstanceRefresh", "AttachInstances", "ResumeProcesses",
}

# Request parameters that differ between otherwise identical calls (ignored to identify a request).
_VOLATILE_PARAMS = ("ClientToken", "ClientRequestToken", "IdempotencyToken", "Version")

_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "content-length",
}

_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/[^/]+/([^/]+)/([^/]+)/aws4_request")
# Smithy RPC v2 (CBOR), e.g. CloudWatch in botocore 1.44: POST /service/<service>/operation/<Operation>.
_RPC_V2_RE = re.compile(r"^/service/[^/]+/operation/([A-Za-z0-9]+)$")
# Signing names that differ from the IAM prefix of the service (the record names IAM actions).
_IAM_PREFIX = {"monitoring": "cloudwatch"}
_INSTANCE_ID_RE = re.compile(rb"\bi-[0-9a-f]{8,17}\b")


def is_mutating(action):
    """True for an action that changes something (by its name: Describe*/List*/Get*... read)."""
    return not (action or "").startswith(READ_PREFIXES)


def critical_path_seconds(scale):
    return sum(SLOW_DURATIONS[k] for k in CRITICAL_PATH) / float(scale)


# ---------------------------------------------------------------------------------------------
# Requests: which service, which action, which protocol


class Call:
    """One AWS call as the proxy understands it."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.region = None
        self.service = None
        self.action = None
        self.params = {}
        self.protocol = "rest"
        self.internal = path.startswith("/moto-api")
        self._identify()

    def _identify(self):
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        auth = self.headers.get("Authorization") or query.get("X-Amz-Credential", "")
        if "X-Amz-Credential" in query:
            auth = "Credential=" + query["X-Amz-Credential"]
        match = _CREDENTIAL_RE.search(auth)
        if match:
            self.region, self.service = match.group(1), _IAM_PREFIX.get(match.group(2), match.group(2))
        rpc_v2 = _RPC_V2_RE.match(split.path) if self.method == "POST" else None
        if rpc_v2:
            # A CBOR body: no parameters read; a fault is a bare 503 (botocore retries it).
            self.protocol = "rpc-v2-cbor"
            self.action = rpc_v2.group(1)
            return
        target = self.headers.get("X-Amz-Target")
        ctype = (self.headers.get("Content-Type") or "").lower()
        if target:
            self.protocol = "json"
            self.action = target.rsplit(".", 1)[-1]
            if not self.service:
                self.service = target.split("_", 1)[0].split(".", 1)[0].lower()
            try:
                self.params = json.loads(self.body.decode("utf-8") or "{}")
            except ValueError:
                self.params = {}
            return
        params = dict(query)
        if self.body and ("x-www-form-urlencoded" in ctype or not ctype):
            try:
                params.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                pass
        if "Action" in params:
            self.params = params
            self.action = params["Action"]
            self.protocol = "ec2" if self.service == "ec2" else "query"
        else:
            self.action = "%s %s" % (self.method, split.path)
        if not self.service:
            self.service = "unknown"

    @property
    def name(self):
        return "%s:%s" % (self.service, self.action)

    @property
    def mutating(self):
        return is_mutating(self.action) if self.protocol != "rest" else self.method not in ("GET", "HEAD")

    def key(self):
        """Identifies 'the same request' (a retry, a poll) regardless of signature and tokens."""
        if self.protocol == "json":
            params = {k: v for k, v in self.params.items() if k not in _VOLATILE_PARAMS}
            payload = json.dumps(params, sort_keys=True)
        elif self.protocol in ("ec2", "query"):
            payload = "&".join("%s=%s" % kv for kv in sorted(self.params.items()) if kv[0] not in _VOLATILE_PARAMS)
        else:
            payload = self.path + "\n" + self.body.decode("latin-1")
        return hashlib.sha256((self.name + "\n" + payload).encode("utf-8")).hexdigest()

    def list_param(self, prefix):
        """Values of a query list parameter: list_param('ImageId') -> ImageId.1, ImageId.2, ..."""
        pat = re.compile(r"^%s\.\d+$" % re.escape(prefix))
        return [v for k, v in self.params.items() if pat.match(k)]

    def ec2_filters(self):
        """{filter name: [values]} of an EC2 query request."""
        names = {}
        for k, v in self.params.items():
            m = re.match(r"^Filter\.(\d+)\.Name$", k)
            if m:
                names[m.group(1)] = v
        return {
            name: [v for k, v in self.params.items() if re.match(r"^Filter\.%s\.Value\.\d+$" % n, k)]
            for n, name in names.items()
        }


# ---------------------------------------------------------------------------------------------
# Error bodies, exactly as each protocol writes them


def _request_id():
    return str(uuid.uuid4())


def error_response(protocol, code, message, status):
    """(status, headers, body) of an AWS error in the given protocol's format."""
    rid = _request_id()
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            "<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors>"
            "<RequestID>%s</RequestID></Response>" % (code, _xml_escape(message), rid)
        )
        return status, {"Content-Type": "text/xml;charset=UTF-8", "x-amzn-RequestId": rid}, body.encode()
    if protocol == "query":
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>" % (code, _xml_escape(message), rid)
        )
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, body.encode()
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": rid, "x-amzn-ErrorType": code}
        return status, headers, body.encode()
    return status, {"Content-Type": "text/plain"}, message.encode()


def _xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Fault kinds: name -> {protocol: (code, message, status)}; "unavailable" is a bare 503 page.
UNAVAILABLE_BODY = "<html><body><b>Http/1.1 Service Unavailable</b></body> </html>"
FAULTS = {
    "throttle": {
        "ec2": ("RequestLimitExceeded", "Request limit exceeded.", 503),
        "query": ("Throttling", "Rate exceeded", 400),
        "json": ("ThrottlingException", "Rate exceeded", 400),
    },
}


def fault_response(kind, protocol):
    if kind == "unavailable" or protocol not in FAULTS["throttle"]:
        return 503, {"Content-Type": "text/html"}, UNAVAILABLE_BODY.encode()
    code, message, status = FAULTS[kind][protocol]
    return error_response(protocol, code, message, status)


def error_code_of(status, headers, body):
    """The AWS error code of a response, as botocore would read it (None when not an error)."""
    if status < 400:
        return None
    etype = {k.lower(): v for k, v in headers.items()}.get("x-amzn-errortype")
    if etype:
        return etype.split(":", 1)[0]
    m = re.search(rb"<Code>([^<]+)</Code>", body or b"")
    if m:
        return m.group(1).decode("utf-8", "replace")
    try:
        doc = json.loads(body.decode("utf-8"))
        code = doc.get("__type") or doc.get("code")
        if code:
            return code.rsplit("#", 1)[-1]
    except (ValueError, AttributeError, UnicodeDecodeError):
        pass
    return str(status)


# ---------------------------------------------------------------------------------------------
# XML rewriting for the slow mode


def _parse_xml(body):
    root = ET.fromstring(body)
    namespace = None
    if root.tag.startswith("{"):
        namespace = root.tag[1:].split("}", 1)[0]
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root, namespace


def _dump_xml(root, namespace):
    if namespace:
        root.set("xmlns", namespace)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")).encode("utf-8")


def _children_with(root, tag):
    """(element, child text) for every element having a direct child `tag`."""
    for el in root.iter():
        child = el.find(tag)
        if child is not None and child.text:
            yield el, child.text.strip()


class SlowClock:
    """What the slow mode knows: when each resource was created, and its state at a time."""

    def __init__(self, scale, durations=None, clock=time.monotonic):
        self.scale = float(scale)
        self.durations = dict(SLOW_DURATIONS)
        self.durations.update(durations or {})
        self.clock = clock
        self.lock = threading.Lock()
        self.created = {}  # (kind, id) -> time
        self.instance_born = {}  # instance id -> time (None: existed before the proxy knew)
        self.registered = {}  # instance id -> time of RegisterTargets
        self.instance_groups = {}  # instance id -> its security group ids (RunInstances)
        self.asg_launch_at = None

    def seconds(self, kind):
        return self.durations[kind] / self.scale

    def age(self, kind, rid, now):
        born = self.created.get((kind, rid))
        return None if born is None else now - born

    def young(self, kind, rid, now, duration_kind=None):
        age = self.age(kind, rid, now)
        return age is not None and age < self.seconds(duration_kind or kind)

    # --- learning from the traffic
    def observe(self, call, status, body):
        now = self.clock()
        with self.lock:
            if status >= 300:
                return
            if call.name == "ec2:CreateNatGateway":
                for rid in re.findall(rb"<natGatewayId>([^<]+)</natGatewayId>", body)[:1]:
                    self.created[("nat_gateway", rid.decode())] = now
            elif call.name == "ec2:DeleteNatGateway":
                self.created[("nat_gateway_deleting", call.params.get("NatGatewayId"))] = now
            elif call.name == "ec2:TerminateInstances":
                for rid in call.list_param("InstanceId"):
                    self.created[("instance_shutting_down", rid)] = now
            elif call.name == "ec2:CreateImage":
                for rid in re.findall(rb"<imageId>([^<]+)</imageId>", body)[:1]:
                    self.created[("image", rid.decode())] = now
            elif call.name == "ec2:RunInstances":
                groups = [v for k, v in call.params.items() if re.match(r"^(NetworkInterface\.\d+\.)?SecurityGroupId\.\d+$", k)]
                for rid in re.findall(rb"<instanceId>([^<]+)</instanceId>", body):
                    self.instance_born[rid.decode()] = now
                    self.instance_groups[rid.decode()] = groups
            elif call.name == "elasticloadbalancing:CreateLoadBalancer":
                for rid in re.findall(rb"<LoadBalancerArn>([^<]+)</LoadBalancerArn>", body)[:1]:
                    self.created[("load_balancer", rid.decode())] = now
            elif call.name == "elasticloadbalancing:RegisterTargets":
                for k, v in call.params.items():
                    if re.match(r"^Targets\.member\.\d+\.Id$", k):
                        self.registered[v] = now
            elif call.service == "autoscaling" and call.action in ASG_LAUNCHING_ACTIONS:
                self.asg_launch_at = now
            if call.service in ("ec2", "autoscaling", "elasticloadbalancing") and not call.mutating:
                for rid in _INSTANCE_ID_RE.findall(body):
                    # An instance first seen after the group was told to launch was launched then.
                    self.instance_born.setdefault(rid.decode(), self.asg_launch_at)

    def instance_pending(self, rid, now):
        born = self.instance_born.get(rid)
        return born is not None and now - born < self.seconds("instance")

    def target_initial(self, rid, now):
        born = self.instance_born.get(rid)
        if born is None:
            return False
        start = born + self.seconds("instance")
        if rid in self.registered:
            start = max(start, self.registered[rid])
        return now - start < self.seconds("target_health")

    # --- rewriting responses
    def before(self, call):
        """An answer in place of upstream's (the AMI not yet visible, a group still held), or None."""
        if call.name == "ec2:DeleteSecurityGroup":
            return self._group_held(call)
        if call.name != "ec2:DescribeImages":
            return None
        now = self.clock()
        with self.lock:
            hidden = [i for i in call.list_param("ImageId") if self.young("image", i, now, "image_not_found")]
        if hidden:
            return error_response("ec2", "InvalidAMIID.NotFound", "The image id '[%s]' does not exist" % ", ".join(hidden), 400)
        return None

    def _group_held(self, call):
        """AWS refuses to delete a security group while a shutting-down instance's interface holds it."""
        group = call.params.get("GroupId")
        now = self.clock()
        with self.lock:
            holders = [i for i, groups in self.instance_groups.items()
                       if group in groups and self.young("instance_shutting_down", i, now)]
        if holders:
            return error_response("ec2", "DependencyViolation", "resource %s has a dependent object" % group, 400)
        return None

    def rewrite(self, call, status, body):
        handler = {
            "ec2:CreateNatGateway": self._nat_gateways,  # AWS answers pending, moto available
            "ec2:DescribeNatGateways": self._nat_gateways,
            "ec2:DescribeImages": self._images,
            "ec2:DescribeInstances": self._instances,
            "elasticloadbalancing:DescribeLoadBalancers": self._load_balancers,
            "elasticloadbalancing:DescribeTargetHealth": self._target_health,
            "autoscaling:DescribeAutoScalingGroups": self._asg_instances,
            "autoscaling:DescribeAutoScalingInstances": self._asg_instances,
        }.get(call.name)
        if handler is None or status != 200:
            return body
        now = self.clock()
        try:
            root, namespace = _parse_xml(body)
        except ET.ParseError:
            return body
        with self.lock:
            changed = handler(call, root, now)
        return _dump_xml(root, namespace) if changed else body

    @staticmethod
    def _drop(root, elements):
        parents = {c: p for p in root.iter() for c in p}
        for el in elements:
            parent = parents.get(el)
            if parent is not None:
                parent.remove(el)

    @staticmethod
    def _excluded(filters, name, value):
        values = filters.get(name)
        return values is not None and value not in values

    def _nat_gateways(self, call, root, now):
        filters, changed, drop = call.ec2_filters(), False, []
        for el, rid in _children_with(root, "natGatewayId"):
            state = el.find("state")
            if state is None:
                continue
            for done, kind, shown in (("available", "nat_gateway", "pending"), ("deleted", "nat_gateway_deleting", "deleting")):
                if state.text == done and self.young(kind, rid, now):
                    state.text, changed = shown, True
                    if self._excluded(filters, "state", shown):
                        drop.append(el)
                    break
        self._drop(root, drop)
        return changed

    def _images(self, call, root, now):
        filters, changed, drop = call.ec2_filters(), False, []
        for el, rid in _children_with(root, "imageId"):
            if self.young("image", rid, now, "image_not_found"):
                drop.append(el)
                changed = True
                continue
            state = el.find("imageState")
            if state is not None and state.text == "available" and self.young("image", rid, now):
                state.text, changed = "pending", True
                if self._excluded(filters, "state", "pending"):
                    drop.append(el)
        self._drop(root, drop)
        return changed

    def _instances(self, call, root, now):
        filters, changed, drop = call.ec2_filters(), False, []
        for el, rid in _children_with(root, "instanceId"):
            state = el.find("instanceState")
            name = state.findtext("name") if state is not None else None
            if name == "running" and self.instance_pending(rid, now):
                shown, code = "pending", "0"
            elif name == "terminated" and self.young("instance_shutting_down", rid, now):
                shown, code = "shutting-down", "32"
            else:
                continue
            state.find("name").text = shown
            if state.find("code") is not None:
                state.find("code").text = code
            changed = True
            if self._excluded(filters, "instance-state-name", shown) or self._excluded(filters, "instance-state-code", code):
                drop.append(el)
        self._drop(root, drop)
        # A reservation left without instances is not listed.
        empty = [r for r in root.iter("item") if r.find("instancesSet") is not None and len(r.find("instancesSet")) == 0]
        self._drop(root, empty if drop else [])
        return changed

    def _load_balancers(self, call, root, now):
        changed = False
        for el, rid in _children_with(root, "LoadBalancerArn"):
            code = el.find("State/Code")
            if code is not None and code.text == "active" and self.young("load_balancer", rid, now):
                code.text, changed = "provisioning", True
        return changed

    def _target_health(self, call, root, now):
        changed = False
        for el, rid in _children_with(root, "Target/Id"):
            health = el.find("TargetHealth")
            state = health.find("State") if health is not None else None
            if state is None or state.text != "healthy" or not self.target_initial(rid, now):
                continue
            state.text, changed = "initial", True
            for tag, text in (("Reason", "Elb.RegistrationInProgress"), ("Description", "Target registration is in progress")):
                node = health.find(tag)
                if node is None:
                    node = ET.SubElement(health, tag)
                node.text = text
        return changed

    def _asg_instances(self, call, root, now):
        changed = False
        for el, rid in _children_with(root, "InstanceId"):
            state = el.find("LifecycleState")
            if state is not None and state.text == "InService" and self.instance_pending(rid, now):
                state.text, changed = "Pending", True
        return changed


# ---------------------------------------------------------------------------------------------
# Faults


class FaultPlan:
    """Decides, reproducibly, which calls fail and how."""

    def __init__(self, share, seed=0, actions=None, cap=2, kinds=("throttle", "unavailable"), weights=None):
        self.share = float(share)
        self.seed = seed
        self.actions = re.compile(actions) if actions else None
        self.cap = cap
        self.kinds = kinds
        # Throttling three times as often as a bare 503 by default.
        self.weights = weights or tuple(3 if k == "throttle" else 1 for k in kinds)
        self.lock = threading.Lock()
        self.seen = Counter()
        self.streak = Counter()

    def _uniform(self, *parts):
        digest = hashlib.sha256(":".join(str(p) for p in (self.seed,) + parts).encode()).digest()
        return int.from_bytes(digest[:8], "big") / float(1 << 64)

    def decide(self, call, key):
        """The fault kind for this call, or None."""
        if self.share <= 0 or call.internal or (self.actions and not self.actions.search(call.name)):
            return None
        with self.lock:
            n = self.seen[key]
            self.seen[key] += 1
            if self.streak[key] >= self.cap or self._uniform(key, n) >= self.share:
                self.streak[key] = 0
                return None
            self.streak[key] += 1
        pick = self._uniform(key, n, "kind") * sum(self.weights)
        for kind, weight in zip(self.kinds, self.weights):
            if pick < weight:
                return kind
            pick -= weight
        return self.kinds[-1]


# ---------------------------------------------------------------------------------------------
# The server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awsproxy"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        # Headers and body leave in one segment anyway; no Nagle / delayed-ACK stalls (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle(self):
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length)
        elif "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        else:
            body = b""
        status, headers, out = proxy.handle(self.command, self.path, self.headers, body)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(out)
        self.flush_headers()  # one write: status, headers and body

    def _read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class AwsProxy:
    """The proxy. ``start()`` serves on ``url`` in a thread; ``stop()`` ends it; ``record`` lists
    every call (dicts), ``record_file`` appends them as JSON lines too."""

    def __init__(self, upstream, host="127.0.0.1", port=0, record_file=None, slow=None, faults=0.0, seed=0,
                 fault_actions=None, fault_cap=2, slow_durations=None, fault_kinds=("throttle", "unavailable"),
                 clock=time.monotonic):
        split = urlsplit(upstream)
        self.upstream_host = split.hostname
        self.upstream_port = split.port or 80
        self.host = host
        self.port = port
        self.record = []
        self.record_file = record_file
        self.slow = SlowClock(slow, slow_durations, clock) if slow else None
        self.faults = FaultPlan(faults, seed, fault_actions, fault_cap, fault_kinds) if faults else None
        self.started = time.time()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._recent_reads = {}
        self._file = None
        self._server = None
        self._thread = None

    # --- lifecycle
    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        if self.record_file:
            self._file = open(self.record_file, "a", encoding="utf-8")
        self._server = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._server.daemon_threads = True
        self._server.proxy = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="awsproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
        if self._file:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def clear(self):
        with self._lock:
            del self.record[:]

    def summary(self, since=0):
        with self._lock:
            return summarize(self.record[since:])

    # --- forwarding
    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=300)
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = conn
        return conn

    def forward(self, method, path, headers, body):
        for attempt in (1, 2):
            conn = None
            try:
                conn = self._connection()
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    if k.lower() not in _HOP_BY_HOP:
                        conn.putheader(k, v)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                out = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
                return resp.status, out, data
            except (http.client.HTTPException, OSError):
                if conn is not None:
                    conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise

    def handle(self, method, path, headers, body):
        started = time.monotonic()
        call = Call(method, path, headers, body)
        key = call.key()
        fault = self.faults.decide(call, key) if self.faults else None
        if fault:
            status, hdrs, out = fault_response(fault, call.protocol)
            hdrs = list(hdrs.items())
        else:
            early = self.slow.before(call) if (self.slow and not call.internal) else None
            if early:
                status, hdrs, out = early
                hdrs = list(hdrs.items())
            else:
                try:
                    status, hdrs, out = self.forward(method, path, headers, body)
                except (http.client.HTTPException, OSError) as exc:
                    status, hdrs, out = 502, [("Content-Type", "text/plain")], ("upstream: %s" % exc).encode()
                if self.slow and not call.internal:
                    self.slow.observe(call, status, out)
                    out = self.slow.rewrite(call, status, out)
        if not call.internal:
            self._log(call, key, status, dict(hdrs), out, fault, started)
        return status, hdrs, out

    def _log(self, call, key, status, headers, body, fault, started):
        now = time.monotonic()
        m = re.search(r"attempt=(\d+)", call.headers.get("amz-sdk-request") or "")
        attempt = int(m.group(1)) if m else None
        entry = {
            "t": round(time.time(), 3),
            "service": call.service,
            "action": call.action,
            "status": status,
            "error_code": error_code_of(status, headers, body),
            "mutating": call.mutating,
            "fault": fault,
            "attempt": attempt,
            "ms": round((now - started) * 1000.0, 2),
        }
        with self._lock:
            # A read identical to one made within the last minute: a poll (a describe inside a wait).
            last = self._recent_reads.get(key)
            entry["poll"] = bool(not call.mutating and last is not None and now - last < 60)
            if not call.mutating:
                self._recent_reads[key] = now
            self.record.append(entry)
            if self._file:
                self._file.write(json.dumps(entry, sort_keys=True) + "\n")
                self._file.flush()


# ---------------------------------------------------------------------------------------------
# Summaries


def load_record(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def summarize(records):
    """Counts of a record: total, mutating, read, faulted, errors (not faulted), by service:Action."""
    by_action = Counter("%s:%s" % (r["service"], r["action"]) for r in records)
    faulted = [r for r in records if r.get("fault")]
    return {
        "total": len(records),
        "mutating": sum(1 for r in records if r.get("mutating")),
        "read": sum(1 for r in records if not r.get("mutating")),
        "faulted": len(faulted),
        "faulted_mutating": sum(1 for r in faulted if r.get("mutating")),
        "faulted_polls": sum(1 for r in faulted if r.get("poll")),
        "errors": sum(1 for r in records if r.get("status", 200) >= 400 and not r.get("fault")),
        "by_action": dict(sorted(by_action.items())),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.proxy.awsproxy", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--upstream", default="http://127.0.0.1:5000", help="the moto server URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="listening port (0: any free one)")
    parser.add_argument("--record", metavar="FILE.jsonl", help="append every call as a JSON line")
    parser.add_argument("--slow", type=float, metavar="SCALE", help="AWS-like waits divided by SCALE")
    parser.add_argument("--faults", type=float, default=0.0, metavar="SHARE", help="share of calls to fault (0..1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fault-actions", metavar="REGEX", help="fault only calls whose service:Action matches")
    parser.add_argument("--fault-cap", type=int, default=2, help="most faults in a row for the same request")
    parser.add_argument("--summary", metavar="FILE.jsonl", help="print the summary of a record file and exit")
    args = parser.parse_args(argv)
    if args.summary:
        print(json.dumps(summarize(load_record(args.summary)), indent=2))
        return 0
    proxy = AwsProxy(args.upstream, args.host, args.port, args.record, args.slow, args.faults, args.seed,
                     args.fault_actions, args.fault_cap).start()
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    modes = [m for m, on in (("record", args.record), ("slow x%s" % args.slow, args.slow),
                             ("faults %s seed %s" % (args.faults, args.seed), args.faults)) if on]
    print("awsproxy: %s -> %s (%s)" % (proxy.url, args.upstream, ", ".join(modes) or "pass-through"), flush=True)
    done.wait()
    proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
