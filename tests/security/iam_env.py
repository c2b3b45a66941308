"""An IAM-enforcing embedded cloud for the security tests, and what they share.

``IamCloud`` is lab_env's private moto server started with ``INITIAL_NO_AUTH_ACTION_COUNT``: the
first calls are free (they create the deployer user, its inline policy and its access key), every
later call must be signed by a known key and allowed by that user's identity policy. moto checks
actions against ``Resource: "*"`` only, ignores conditions and never checks the actions AWS implies
(see docs/security.md).

moto's ``POST /moto-api/reset-auth`` (what moto's own ``set_initial_no_auth_action_count`` uses in
server mode) resets the count of free calls: ``set_policy()`` spends exactly one free call on
``PutUserPolicy`` to give the user another policy, ``admin()`` lifts enforcement for inspection.

``CaptureProxy`` is the test proxy in record mode that also keeps the request parameters of the
calls a test wants to look at (the record itself keeps service, action and status only).
"""
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
for _path in (os.path.join(TESTS, "integration"), os.path.dirname(TESTS), TESTS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import boto3  # noqa: E402

from lab_env import BIN, ROOT, Cloud, Run  # noqa: E402
from tests.proxy.awsproxy import AwsProxy  # noqa: E402

REGION = "ap-northeast-2"
POLICY_FILE = os.path.join(ROOT, "docs", "iam-policy.json")
SCOPED_POLICY_FILE = os.path.join(ROOT, "docs", "iam-policy-scoped.json")
USER = "ha-web-deployer"
POLICY_NAME = "ha-web"
# CreateUser, PutUserPolicy, CreateAccessKey
SETUP_CALLS = 3


def load_policy(path=POLICY_FILE):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def policy_actions(doc):
    """Every action the document allows (statements with Effect Allow)."""
    actions = set()
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow", statement
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def as_moto_authorizes(doc):
    """The policy as moto's IAM enforcement reads it: moto authorizes a CloudWatch request as
    `monitoring:<Action>` (the API's signing name), AWS as `cloudwatch:<Action>`; each cloudwatch
    action is granted under both names, so the proof holds the policy that AWS reads."""
    doc = json.loads(json.dumps(doc))
    for statement in doc["Statement"]:
        actions = statement.get("Action")
        if isinstance(actions, list):
            statement["Action"] = actions + [a.replace("cloudwatch:", "monitoring:", 1) for a in actions if a.startswith("cloudwatch:")]
        elif isinstance(actions, str) and actions.startswith("cloudwatch:"):
            statement["Action"] = [actions, actions.replace("cloudwatch:", "monitoring:", 1)]
    return doc


def policy_without(doc, action):
    """The document with one action taken out (it must be there)."""
    doc = json.loads(json.dumps(doc))
    found = False
    for statement in doc["Statement"]:
        if action in statement["Action"]:
            statement["Action"] = [a for a in statement["Action"] if a != action]
            found = True
    assert found, "%s is not in the policy" % action
    doc["Statement"] = [s for s in doc["Statement"] if s["Action"]]
    return doc


class IamCloud(Cloud):
    """A private moto server that enforces identity policies after its first SETUP_CALLS calls."""

    def __init__(self):
        saved = os.environ.get("INITIAL_NO_AUTH_ACTION_COUNT")
        os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_CALLS)
        try:
            Cloud.__init__(self)  # the server inherits the environment
        finally:
            if saved is None:
                os.environ.pop("INITIAL_NO_AUTH_ACTION_COUNT")
            else:
                os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = saved
        self.key = None

    def _iam(self):
        return boto3.client("iam", region_name="us-east-1", endpoint_url=self.url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def _free_calls(self, count):
        request = urllib.request.Request(self.url + "/moto-api/reset-auth", data=str(count).encode(), method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def create_deployer(self, policy):
        """The first SETUP_CALLS calls: the user, its only (inline) policy and its access key."""
        iam = self._iam()
        iam.create_user(UserName=USER)
        iam.put_user_policy(UserName=USER, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(as_moto_authorizes(policy)))
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        self.key = (key["AccessKeyId"], key["SecretAccessKey"])
        return self.key

    def set_policy(self, policy):
        """Replace the deployer's policy (one free call, then enforcement again)."""
        self._free_calls(1)
        self._iam().put_user_policy(UserName=USER, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(as_moto_authorizes(policy)))

    def admin(self):
        """Lift enforcement (inspection by the test itself); enforce() puts it back."""
        self._free_calls(float("inf"))

    def enforce(self):
        self._free_calls(0)

    @contextlib.contextmanager
    def admin_view(self):
        """Enforcement lifted inside the block (calls with any key, e.g. check_lab.py's 'testing')."""
        self.admin()
        try:
            yield
        finally:
            self.enforce()

    def deployer_env(self, endpoint=None, **extra):
        env = self.env(AWS_ACCESS_KEY_ID=self.key[0], AWS_SECRET_ACCESS_KEY=self.key[1], **extra)
        if endpoint:
            env["AWS_ENDPOINT_URL"] = endpoint
        return env

    def client(self, service, endpoint=None):
        """A boto3 client with the deployer's key."""
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint or self.url,
                            aws_access_key_id=self.key[0], aws_secret_access_key=self.key[1])


def admin_client(cloud, service):
    return boto3.client(service, region_name=REGION, endpoint_url=cloud.url,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def run_playbook(name, env, *args, timeout=600):
    """ansible-playbook -i inventories/local playbooks/<name> with this environment (lab_env.Run)."""
    started = time.monotonic()
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "inventories/local", "playbooks/" + name] + list(args),
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                               timeout=timeout, check=False)
    run = Run(completed, time.monotonic() - started)
    sys.stdout.write("\n--- %s %s: rc=%s in %.1fs %s\n" % (name, " ".join(args), run.rc, run.seconds, run.recap))
    return run


class CaptureProxy(AwsProxy):
    """AwsProxy in record mode that also keeps (service:action, params, status) of chosen calls."""

    def __init__(self, upstream, capture=(), **kwargs):
        AwsProxy.__init__(self, upstream, **kwargs)
        self.capture = set(capture)
        self.captured = []

    def handle(self, method, path, headers, body):
        status, hdrs, out = AwsProxy.handle(self, method, path, headers, body)
        if self.capture:
            from tests.proxy.awsproxy import Call
            call = Call(method, path, headers, body)
            if call.name in self.capture:
                self.captured.append({"name": call.name, "params": dict(call.params), "status": status})
        return status, hdrs, out

    def calls(self, name):
        return [c for c in self.captured if c["name"] == name]

    def actions(self, since=0):
        """{service:Action} of the record from index `since` (the IAM action names: the signing
        name is the IAM service prefix for ec2, elasticloadbalancing, autoscaling, ssm, sts)."""
        return set("%s:%s" % (r["service"], r["action"]) for r in self.record[since:])

    def denied(self, since=0):
        return [r for r in self.record[since:] if r.get("error_code") in ("AccessDenied", "AccessDeniedException",
                                                                          "UnauthorizedOperation", "InvalidClientTokenId")]
