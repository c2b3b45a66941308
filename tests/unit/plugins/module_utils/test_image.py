# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/image.py: waiting for an AMI with stubbed AWS answers (real AWS behaviour:
pending, failed, not yet visible, throttled), pure helpers by exact values, and the bake/cleanup/
absent flows end to end on moto (in process)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import moto
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import image as im
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitFailed
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import WaitTimeout
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.tests.unit.fake_clock import FakeClock

REGION = "ap-northeast-2"
AMI = "ami-0123456789abcdef0"


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    """AWSRetry's jittered backoff sleeps through time.sleep: never really sleep in tests."""
    from ansible_collections.amazon.aws.plugins.module_utils import cloud
    slept = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


@pytest.fixture
def stubbed():
    client = boto3.client("ec2", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, retry_decorator()), stubber
        stubber.assert_no_pending_responses()


def image(state, **extra):
    result = {"ImageId": AMI, "Name": "Web Server v1", "State": state, "CreationDate": "2026-11-28T04:00:00.000Z"}
    result.update(extra)
    return result


def by_id():
    return {"ImageIds": [AMI]}


# ------------------------------------------------------------------------- wait_for_image

def test_pending_then_available(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("available")]}, by_id())
    clock = FakeClock()
    result = im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert result["State"] == "available"
    assert clock.sleeps == [15, 15]


def test_pending_then_failed_carries_state_reason(stubbed):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    failed = image("failed", StateReason={"Code": "Client.InternalError", "Message": "Client error on launch"})
    stubber.add_response("describe_images", {"Images": [failed]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitFailed) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Image %s (Web Server v1) is failed: Client.InternalError: Client error on launch" % AMI
    assert e.value.last["State"] == "failed"


@pytest.mark.parametrize("state", ["invalid", "error", "deregistered"])
def test_other_failed_states_stop_at_once(stubbed, state):
    ec2, stubber = stubbed
    stubber.add_response("describe_images", {"Images": [image(state)]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitFailed) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Image %s (Web Server v1) is %s (AWS gave no state reason)" % (AMI, state)
    assert clock.sleeps == []


def test_not_found_then_available(stubbed):
    """Eventual consistency right after CreateImage: NotFound, then an empty answer, then the image."""
    ec2, stubber = stubbed
    stubber.add_client_error("describe_images", "InvalidAMIID.NotFound", "The image id '[%s]' does not exist" % AMI,
                             expected_params=by_id())
    stubber.add_response("describe_images", {"Images": []}, by_id())
    stubber.add_response("describe_images", {"Images": [image("available")]}, by_id())
    clock = FakeClock()
    result = im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert result["ImageId"] == AMI
    assert clock.sleeps == [15, 15]


def test_throttled_then_available_is_not_success_on_error(stubbed, no_backoff_sleep):
    """A throttled call is retried by the client (backoff), never taken as 'available'."""
    ec2, stubber = stubbed
    stubber.add_client_error("describe_images", "RequestLimitExceeded", "Request limit exceeded.", expected_params=by_id())
    stubber.add_client_error("describe_images", "Throttling", "Rate exceeded", expected_params=by_id())
    stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    stubber.add_response("describe_images", {"Images": [image("available")]}, by_id())
    clock = FakeClock()
    result = im.wait_for_image(ec2, image_id=AMI, timeout=600, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert result["State"] == "available"
    assert len(no_backoff_sleep) == 2  # two backoffs
    assert clock.sleeps == [15]  # one poll interval, after the pending answer


def test_timeout_while_pending(stubbed):
    ec2, stubber = stubbed
    for _attempt in range(3):
        stubber.add_response("describe_images", {"Images": [image("pending")]}, by_id())
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=30, interval=15, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Timed out after 30 s waiting for image %s (Web Server v1) to become available: it is still pending" % AMI
    assert clock.sleeps == [15, 15]


def test_timeout_never_found_by_name(stubbed):
    ec2, stubber = stubbed
    params = {"Owners": ["self"], "Filters": [{"Name": "name", "Values": ["Web Server v9"]}]}
    stubber.add_response("describe_images", {"Images": []}, params)
    stubber.add_response("describe_images", {"Images": []}, params)
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as e:
        im.wait_for_image(ec2, name="Web Server v9", timeout=10, interval=10, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "Timed out after 10 s waiting for image named 'Web Server v9': it was never found"


def test_other_errors_propagate(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("describe_images", "UnauthorizedOperation", "no", expected_params=by_id())
    with pytest.raises(Exception) as e:
        im.wait_for_image(ec2, image_id=AMI, timeout=10, interval=10, sleep=FakeClock().sleep)
    assert "UnauthorizedOperation" in str(e.value)


def test_get_image_by_name_takes_newest(stubbed):
    ec2, stubber = stubbed
    older = image("available", ImageId="ami-old", CreationDate="2026-01-01T00:00:00.000Z")
    newer = image("available", ImageId="ami-new", CreationDate="2026-02-01T00:00:00.000Z")
    stubber.add_response("describe_images", {"Images": [newer, older]},
                         {"Owners": ["self"], "Filters": [{"Name": "name", "Values": ["Web Server v1"]}]})
    assert im.get_image(ec2, name="Web Server v1")["ImageId"] == "ami-new"


# ------------------------------------------------------------------------- pure helpers

def test_image_facts_snake_case_and_tags():
    facts = im.image_facts(image("available", Tags=[{"Key": "ha_web:stack", "Value": "lab"}], RootDeviceName="/dev/xvda"))
    assert facts == {"image_id": AMI, "name": "Web Server v1", "state": "available", "creation_date": "2026-11-28T04:00:00.000Z",
                     "root_device_name": "/dev/xvda", "tags": {"ha_web:stack": "lab"}}
    assert im.image_facts(None) == {}


def test_fingerprint_inputs():
    base = dict(app_fingerprint="a", user_data="u", base_image_id="ami-1", root_volume_size=None, encrypted=True)
    reference = im.fingerprint(**base)
    assert len(reference) == 64
    assert im.fingerprint(**base) == reference
    for key, value in (("app_fingerprint", "b"), ("user_data", "v"), ("base_image_id", "ami-2"),
                       ("root_volume_size", 16), ("encrypted", False)):
        assert im.fingerprint(**dict(base, **{key: value})) != reference, key
    assert im.fingerprint(http_tokens="optional", **base) != reference


def tagged(image_id, version, fp="f", state="available", base=None, created="2026-01-01"):
    tags = [{"Key": im.VERSION_TAG, "Value": str(version)}, {"Key": im.FINGERPRINT_TAG, "Value": fp}]
    if base:
        tags.append({"Key": im.BASE_IMAGE_TAG, "Value": base})
    return {"ImageId": image_id, "Name": "Web Server v%d" % version, "State": state, "CreationDate": created, "Tags": tags}


def test_versions_sorting_and_names():
    images = im.sort_images([tagged("ami-3", 3), tagged("ami-1", 1), tagged("ami-10", 10)])
    assert [i["ImageId"] for i in images] == ["ami-1", "ami-3", "ami-10"]
    assert im.version_of({"Name": "demo-Web Server v7"}) == 7
    assert im.version_of({"Name": "something else"}) == 0
    assert im.image_name("Web Server", 2) == "Web Server v2"


def test_find_image_skips_failed_and_other_fingerprints():
    images = [tagged("ami-1", 1, fp="x"), tagged("ami-2", 2, fp="y", state="failed"), tagged("ami-3", 3, fp="y", state="pending")]
    assert im.find_image(images, "y")["ImageId"] == "ami-3"
    assert im.find_image(images, "z") is None


def test_resolve_base_image_pins_unless_tracking():
    images = [tagged("ami-1", 1, base="ami-base1"), tagged("ami-2", 2, base="ami-base2")]

    class Ssm(object):
        calls = []

        def get_parameter(self, **kwargs):
            self.calls.append(kwargs)
            return {"Parameter": {"Value": "ami-latest"}}

    ssm = Ssm()
    assert im.resolve_base_image(lambda: ssm, images, None, "/p", False) == ("ami-base2", "pinned")
    assert ssm.calls == []
    assert im.resolve_base_image(lambda: ssm, images, None, "/p", True) == ("ami-latest", "ssm")
    assert im.resolve_base_image(lambda: ssm, [], None, "/p", False) == ("ami-latest", "ssm")
    assert ssm.calls == [{"Name": "/p", "aws_retry": True}, {"Name": "/p", "aws_retry": True}]
    assert im.resolve_base_image(lambda: ssm, images, "ami-given", "/p", True) == ("ami-given", "option")


def test_images_to_prune():
    images = [tagged("ami-%d" % v, v) for v in (1, 2, 3, 4)]
    current = images[-1]
    assert [i["ImageId"] for i in im.images_to_prune(images, current, 1)] == ["ami-1", "ami-2"]
    assert [i["ImageId"] for i in im.images_to_prune(images, current, 0)] == ["ami-1", "ami-2", "ami-3"]
    assert im.images_to_prune(images, current, 5) == []
    # rollback: the current image is an older one; the newest other one is kept
    assert [i["ImageId"] for i in im.images_to_prune(images, images[0], 1)] == ["ami-2", "ami-3"]


def test_run_instance_params_exact():
    base = {"ImageId": "ami-base", "RootDeviceName": "/dev/xvda"}
    params = im.run_instance_params("lab", base, "t2.micro", "subnet-1", "sg-1", "#!/bin/bash", "Web server for custom AMI", "fp", 8, True)
    tags = [{"Key": "Name", "Value": "Web server for custom AMI"}, {"Key": "ha_web:component", "Value": "builder"},
            {"Key": "ha_web:fingerprint", "Value": "fp"}, {"Key": "ha_web:stack", "Value": "lab"}]
    for spec in params["TagSpecifications"]:
        spec["Tags"] = sorted(spec["Tags"], key=lambda t: t["Key"])
    assert params == {
        "ImageId": "ami-base", "InstanceType": "t2.micro", "MinCount": 1, "MaxCount": 1, "UserData": "#!/bin/bash",
        "NetworkInterfaces": [{"DeviceIndex": 0, "SubnetId": "subnet-1", "Groups": ["sg-1"], "AssociatePublicIpAddress": True,
                               "DeleteOnTermination": True}],
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "VolumeType": "gp3", "Encrypted": True,
                                                                    "DeleteOnTermination": True}}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}],
    }
    assert "KeyName" not in params


def test_http_probe():
    class Response(object):
        def __init__(self, code):
            self.code = code

        def getcode(self):
            return self.code

    calls = []

    def opener(url, **kwargs):
        calls.append((url, kwargs))
        return Response(200)

    assert im.http_probe("http://1.2.3.4:80/health", opener=opener) is True
    assert calls == [("http://1.2.3.4:80/health", {"method": "GET", "timeout": 5, "validate_certs": False, "follow_redirects": "none"})]

    def refused(url, **kwargs):
        raise OSError("connection refused")

    assert im.http_probe("http://x/health", opener=refused) is False
    answers = iter([OSError("refused"), Response(503), Response(200)])

    def flaky(url, **kwargs):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = FakeClock()
    im.wait_http("http://x/health", 600, 5, opener=flaky, sleep=clock.sleep, clock=clock.clock)
    assert clock.sleeps == [5, 5]
    with pytest.raises(WaitTimeout) as e:
        im.wait_http("http://x/health", 10, 5, opener=refused, sleep=clock.sleep, clock=clock.clock)
    assert str(e.value) == "The web page of the builder did not answer at http://x/health within 10 s"


def test_delete_security_group_polls_dependency_violation(stubbed):
    ec2, stubber = stubbed
    stubber.add_client_error("delete_security_group", "DependencyViolation", "resource sg-1 has a dependent object",
                             expected_params={"GroupId": "sg-1"})
    stubber.add_response("delete_security_group", {}, {"GroupId": "sg-1"})
    clock = FakeClock()
    im.delete_security_group(ec2, "sg-1", 60, 5, sleep=clock.sleep, clock=clock.clock)
    assert clock.sleeps == [5]


# ------------------------------------------------------------------------- flows on moto

@pytest.fixture(scope="module")
def cloud():
    """One in-process moto for the flow tests (loading its built-in AMIs is slow); each test
    leaves the stack empty."""
    monkeypatch = pytest.MonkeyPatch()
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        raw = boto3.client("ec2", region_name=REGION)
        ec2 = RetryingBotoClientWrapper(raw, retry_decorator())
        vpc = raw.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = raw.create_subnet(VpcId=vpc, CidrBlock="10.0.10.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
        raw.create_tags(Resources=[subnet], Tags=[{"Key": "ha_web:stack", "Value": "lab"}, {"Key": "ha_web:component", "Value": "public-subnet-a"}])
        ssm = RetryingBotoClientWrapper(boto3.client("ssm", region_name=REGION), retry_decorator())
        yield {"ec2": ec2, "raw": raw, "ssm": lambda: ssm, "vpc": vpc, "subnet": subnet}
    monkeypatch.undo()


def params(**extra):
    result = dict(stack_name="lab", user_data="#!/bin/bash\necho v1", app_fingerprint="app1", instance_type="t2.micro",
                  builder_instance_name="Web server for custom AMI", builder_security_group_name="Web-AMI-Builder-SG", app_port=80,
                  base_image_ssm_parameter="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                  root_volume_encrypted=True, probe=False, keep_previous=1, cleanup=True)
    result.update(extra)
    return result


class Counting(object):
    """Records the API calls made through a client."""

    def __init__(self, client):
        self.client = client
        self.calls = []

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)
        return call


def live_builders(raw):
    filters = [{"Name": "tag:ha_web:component", "Values": ["builder"]}, {"Name": "instance-state-name", "Values": im.LIVE_INSTANCE_STATES}]
    return [i["InstanceId"] for r in raw.describe_instances(Filters=filters)["Reservations"] for i in r["Instances"]]


def builder_groups(raw):
    return [g["GroupId"] for g in raw.describe_security_groups(Filters=[{"Name": "tag:ha_web:component", "Values": ["builder-sg"]}])["SecurityGroups"]]


def own_images(raw):
    return sorted((i["Name"], i["State"]) for i in raw.describe_images(Owners=["self"])["Images"])


def run(cloud, check_mode=False, **extra):
    return im.present(cloud["ec2"], cloud["ssm"], params(**extra), check_mode=check_mode, timing=im.Timing(60, 5, sleep=FakeClock().sleep))


def test_bake_cleanup_noop_versions_prune_and_absent(cloud):
    raw = cloud["raw"]
    # check mode on an empty stack: would bake v1, creates nothing
    planned = run(cloud, check_mode=True)
    assert planned["changed"] is True
    assert planned["image"] == {"image_id": None, "name": "Web Server v1", "fingerprint": planned["fingerprint"], "state": "absent"}
    assert own_images(raw) == [] and live_builders(raw) == []

    baked = run(cloud)
    assert baked["changed"] is True and baked["version"] == 1
    assert baked["image"]["name"] == "Web Server v1" and baked["image"]["state"] == "pending"
    assert baked["builder"]["state"] == "running" and baked["builder"]["public_ip"]
    assert baked["probe"]["status"] == "skipped"
    assert "HTTP probe skipped" in baked["probe"]["msg"]
    assert baked["base_image"]["source"] == "ssm"
    assert live_builders(raw) == [baked["builder"]["instance_id"]]
    created = raw.describe_images(ImageIds=[baked["image"]["image_id"]])["Images"][0]
    tags = im.tags_of(created)
    assert tags["ha_web:stack"] == "lab" and tags["ha_web:component"] == "image" and tags["Name"] == "Web Server v1"
    assert tags["ha_web:fingerprint"] == baked["fingerprint"] and tags["ha_web:version"] == "1"
    assert tags["ha_web:base-image"] == baked["base_image"]["image_id"]

    # second run: image available -> cleanup (builder, SG, snapshot tags)
    cleaned = run(cloud)
    assert cleaned["changed"] is True
    assert cleaned["image"]["state"] == "available" and cleaned["base_image"]["source"] == "pinned"
    assert cleaned["builder"]["terminated_instance_ids"] == [baked["builder"]["instance_id"]]
    assert live_builders(raw) == [] and builder_groups(raw) == []
    snapshots = raw.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["Snapshots"]
    assert [s["SnapshotId"] for s in snapshots] == im.snapshot_ids(created)

    # no-op: three Describe calls, nothing changed
    counting = Counting(cloud["ec2"])
    again = im.present(counting, cloud["ssm"], params(), timing=im.Timing(60, 5))
    assert again["changed"] is False
    assert counting.calls == ["describe_images", "describe_instances", "describe_security_groups"]

    # new user data -> v2, v1 kept; then v3 prunes v1 with its snapshot
    run(cloud, user_data="#!/bin/bash\necho v2")
    assert run(cloud, user_data="#!/bin/bash\necho v2")["pruned_image_ids"] == []
    assert own_images(raw) == [("Web Server v1", "available"), ("Web Server v2", "available")]
    v3 = run(cloud, user_data="#!/bin/bash\necho v3")
    assert v3["image"]["name"] == "Web Server v3"
    pruned = run(cloud, user_data="#!/bin/bash\necho v3")
    assert pruned["pruned_image_ids"] == [baked["image"]["image_id"]]
    assert pruned["deleted_snapshot_ids"] == im.snapshot_ids(created)
    assert own_images(raw) == [("Web Server v2", "available"), ("Web Server v3", "available")]

    # absent: check mode changes nothing, then removes all, then nothing to do
    timing = im.Timing(60, 5, sleep=FakeClock().sleep)
    assert im.absent(cloud["ec2"], "lab", check_mode=True, timing=timing)["changed"] is True
    assert len(own_images(raw)) == 2
    gone = im.absent(cloud["ec2"], "lab", timing=timing)
    assert gone["changed"] is True and len(gone["removed_image_ids"]) == 2
    assert own_images(raw) == []
    assert raw.describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["Snapshots"] == []
    assert im.absent(cloud["ec2"], "lab", timing=timing)["changed"] is False


def test_interrupted_run_reuses_builder_and_absent_removes_it(cloud):
    raw = cloud["raw"]
    baked = run(cloud)
    # interrupted before CreateImage: the image is gone, the builder and SG remain
    raw.deregister_image(ImageId=baked["image"]["image_id"])
    again = run(cloud)
    assert again["builder"]["reused"] is True
    assert again["builder"]["instance_id"] == baked["builder"]["instance_id"]
    assert again["builder"]["security_group_id"] == baked["builder"]["security_group_id"]
    assert again["image"]["name"] == "Web Server v1"
    # a changed fingerprint terminates the stale builder and launches a new one
    other = run(cloud, app_fingerprint="app2")
    assert other["builder"]["reused"] is False
    assert live_builders(raw) == [other["builder"]["instance_id"]]
    gone = im.absent(cloud["ec2"], "lab", timing=im.Timing(60, 5, sleep=FakeClock().sleep))
    assert gone["builder"]["terminated_instance_ids"] == [other["builder"]["instance_id"]]
    assert live_builders(raw) == [] and builder_groups(raw) == [] and own_images(raw) == []


def test_missing_network_fails_clearly(cloud):
    with pytest.raises(WaitFailed) as e:
        run(cloud, stack_name="other")
    assert str(e.value) == ("No subnet tagged ha_web:stack=other, ha_web:component=public-subnet-a: "
                            "deploy the network first, or pass subnet_id and vpc_id")


def test_unknown_base_image_fails_clearly(cloud):
    with pytest.raises(WaitFailed) as e:
        run(cloud, base_image_id="ami-00000000000000000")
    assert str(e.value) == "Base image ami-00000000000000000 (from option) was not found"


def test_root_volume_smaller_than_base_fails(cloud):
    with pytest.raises(WaitFailed) as e:
        run(cloud, root_volume_size=2)
    assert "root_volume_size 2 GiB is smaller than the base image's" in str(e.value)


def test_absent_finds_the_stacks_orphan_snapshots_by_tag_and_leaves_others(cloud):
    """A removal interrupted after DeregisterImage leaves the image's snapshot: the next removal finds it."""
    raw = cloud["raw"]

    def snapshot(stack, component):
        volume = raw.create_volume(AvailabilityZone=REGION + "a", Size=8)["VolumeId"]
        tags = [{"Key": "ha_web:stack", "Value": stack}, {"Key": "ha_web:component", "Value": component}]
        return raw.create_snapshot(VolumeId=volume, TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}])["SnapshotId"]

    orphan = snapshot("lab", "image")
    other_stack, other_component = snapshot("lab2", "image"), snapshot("lab", "data")
    timing = im.Timing(60, 5, sleep=FakeClock().sleep)
    assert im.absent(cloud["ec2"], "lab", check_mode=True, timing=timing)["deleted_snapshot_ids"] == [orphan]
    gone = im.absent(cloud["ec2"], "lab", timing=timing)
    assert gone["changed"] is True and gone["deleted_snapshot_ids"] == [orphan]
    left = [s["SnapshotId"] for s in raw.describe_snapshots(SnapshotIds=[other_stack, other_component])["Snapshots"]]
    assert sorted(left) == sorted([other_stack, other_component])
    assert im.absent(cloud["ec2"], "lab", timing=timing)["changed"] is False
    raw.delete_snapshot(SnapshotId=other_stack)
    raw.delete_snapshot(SnapshotId=other_component)
