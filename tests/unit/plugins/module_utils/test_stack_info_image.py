"""stack_info's image, builder and base_image parts: what the web_ami role decides on (in-process moto
for the shapes, Stubber for the exact calls of the base AMI resolution)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_info as si
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator
from ansible_collections.immersionday.ha_web.tests.unit.plugins.module_utils.test_stack_info import Retrying

REGION = "ap-northeast-2"
SSM_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def tag_list(stack, component, **extra):
    tags = {"ha_web:stack": stack, "ha_web:component": component}
    tags.update(extra)
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


@pytest.fixture
def cloud():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        ssm = boto3.client("ssm", region_name=REGION)
        base = ssm.get_parameter(Name=SSM_PARAMETER)["Parameter"]["Value"]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.10.0/24", AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
        yield {"ec2": ec2, "ssm": ssm, "base": base, "vpc": vpc, "subnet": subnet}


def builder(cloud, stack="lab", fingerprint="f1", image_name="Web Server v1"):
    tags = tag_list(stack, "builder", **{"ha_web:fingerprint": fingerprint, "ha_web:image-name": image_name, "Name": "Web server for custom AMI"})
    return cloud["ec2"].run_instances(ImageId=cloud["base"], InstanceType="t2.micro", MinCount=1, MaxCount=1, SubnetId=cloud["subnet"],
                                      TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"][0]["InstanceId"]


def bake(cloud, name, version, fingerprint, stack="lab", tag_snapshots=True):
    """An image of the stack as the role leaves it: made from a builder, tagged, snapshots tagged."""
    ec2 = cloud["ec2"]
    instance = builder(cloud, stack, fingerprint, name)
    image_id = ec2.create_image(InstanceId=instance, Name=name)["ImageId"]
    ec2.create_tags(Resources=[image_id], Tags=tag_list(stack, "image", **{
        "Name": name, "ha_web:fingerprint": fingerprint, "ha_web:base-image": cloud["base"], "ha_web:version": str(version)}))
    snapshot = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    if tag_snapshots:
        ec2.create_tags(Resources=[snapshot], Tags=tag_list(stack, "image", Name=name))
    ec2.terminate_instances(InstanceIds=[instance])
    return image_id, snapshot


def describe(cloud, parts, **base_image):
    return si.describe_stack(Retrying(cloud["ec2"]), None, None, "lab", parts,
                             ssm_factory=lambda: Retrying(cloud["ssm"]), base_image=base_image or None)


def test_every_image_of_the_stack_newest_first_with_what_the_role_decides_on(cloud):
    v1, snap1 = bake(cloud, "Web Server v1", 1, "f1")
    v2, snap2 = bake(cloud, "Web Server v2", 2, "f2", tag_snapshots=False)
    bake(cloud, "blue-Web Server v1", 1, "f1", stack="blue")
    image = describe(cloud, ["image"])["image"]
    assert (image["image_id"], image["name"], image["fingerprint"], image["state"]) == (v2, "Web Server v2", "f2", "available")
    assert image["image_ids"] == [v2, v1]
    first, second = image["images"]
    assert dict((k, first[k]) for k in ("image_id", "version", "fingerprint", "base_image_id", "tagged", "snapshot_ids", "untagged_snapshot_ids")) == {
        "image_id": v2, "version": 2, "fingerprint": "f2", "base_image_id": cloud["base"], "tagged": True,
        "snapshot_ids": [snap2], "untagged_snapshot_ids": [snap2]}
    assert (second["image_id"], second["version"], second["untagged_snapshot_ids"]) == (v1, 1, [])
    # Snapshot storage of every image of the stack (the cost estimate), at the volumes' full size.
    assert first["snapshot_gb"] > 0 and image["snapshot_gb"] == first["snapshot_gb"] + second["snapshot_gb"]


def test_a_stack_without_images(cloud):
    bake(cloud, "blue-Web Server v1", 1, "f1", stack="blue")
    result = describe(cloud, ["image", "builder"])
    assert result["image"] is None
    assert result["builder"] == {"instance_ids": [], "security_group_ids": [], "instances": [], "images": [], "snapshot_ids": [],
                                 "name_clashes": []}


def test_version_from_the_name_when_the_tag_is_missing():
    assert si._version({"Name": "Web Server v7"}, {}) == 7
    assert si._version({"Name": "Web Server v7"}, {"ha_web:version": "3"}) == 3
    assert si._version({"Name": "Web Server"}, {}) == 0


def test_builder_left_by_an_interrupted_bake_and_the_untagged_image_made_from_it(cloud):
    ec2 = cloud["ec2"]
    bake(cloud, "Web Server v1", 1, "f1")
    live = builder(cloud, fingerprint="f2", image_name="Web Server v2")
    made = ec2.create_image(InstanceId=live, Name="Web Server v2")["ImageId"]
    # Someone else's image made from an instance of theirs is none of ours.
    foreign = ec2.run_instances(ImageId=cloud["base"], InstanceType="t2.micro", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_image(InstanceId=foreign, Name="Web Server v2 by hand")
    group = ec2.create_security_group(GroupName="Web-AMI-Builder-SG", Description="x", VpcId=cloud["vpc"],
                                      TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list("lab", "builder-sg")}])["GroupId"]
    result = describe(cloud, ["image", "builder"])
    found = result["builder"]
    assert found["instance_ids"] == [live]
    assert found["security_group_ids"] == [group]
    assert [(i["instance_id"], i["state"], i["fingerprint"], i["image_name"], i["base_image_id"]) for i in found["instances"]] == [
        (live, "running", "f2", "Web Server v2", cloud["base"])]
    assert len(found["images"]) == 1
    image = found["images"][0]
    assert (image["image_id"], image["name"], image["version"], image["fingerprint"], image["base_image_id"], image["tagged"]) == (
        made, "Web Server v2", 2, "f2", cloud["base"], False)
    assert image["untagged_snapshot_ids"] == image["snapshot_ids"] and len(image["snapshot_ids"]) == 1
    assert found["snapshot_ids"] == []
    assert [i["image_id"] for i in result["image"]["images"]] != [made]  # not the stack's until tagged


def test_a_deleted_builder_group_is_not_reported_even_if_its_tags_are_still_listed(cloud):
    ec2 = cloud["ec2"]
    group = ec2.create_security_group(GroupName="Web-AMI-Builder-SG", Description="x", VpcId=cloud["vpc"],
                                      TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list("lab", "builder-sg")}])["GroupId"]
    components = si.ec2_components(Retrying(ec2), "lab")
    ec2.delete_security_group(GroupId=group)
    assert si.builder_facts(Retrying(ec2), components)["security_group_ids"] == []


def test_orphan_snapshots_of_the_stack_only(cloud):
    ec2 = cloud["ec2"]
    image_id, snapshot = bake(cloud, "Web Server v1", 1, "f1")
    volume = ec2.create_volume(Size=1, AvailabilityZone=REGION + "a")["VolumeId"]
    orphan = ec2.create_snapshot(VolumeId=volume, TagSpecifications=[{"ResourceType": "snapshot", "Tags": tag_list("lab", "image")}])["SnapshotId"]
    ec2.create_snapshot(VolumeId=volume, TagSpecifications=[{"ResourceType": "snapshot", "Tags": tag_list("blue", "image")}])
    ec2.create_snapshot(VolumeId=volume)
    assert describe(cloud, ["builder"])["builder"]["snapshot_ids"] == [orphan]
    # An image removed without its snapshot (removal interrupted): the snapshot becomes an orphan.
    ec2.deregister_image(ImageId=image_id)
    assert describe(cloud, ["image", "builder"])["builder"]["snapshot_ids"] == sorted([orphan, snapshot])


@pytest.mark.parametrize("options,source", [
    ({"ssm_parameter": "/ha_web/test/latest"}, "recorded"),
    ({"ssm_parameter": "/ha_web/test/latest", "track_latest": True}, "ssm"),
])
def test_base_image_recorded_on_the_newest_image_unless_tracking(cloud, options, source):
    ec2 = cloud["ec2"]
    bake(cloud, "Web Server v1", 1, "f1")
    # SSM now names a newer AMI than the one the stack's image was baked from.
    newer = [i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"] if i["ImageId"] != cloud["base"]][0]
    cloud["ssm"].put_parameter(Name="/ha_web/test/latest", Value=newer, Type="String")
    base = describe(cloud, ["base_image"], **options)["base_image"]
    assert base["source"] == source
    assert base["image_id"] == (cloud["base"] if source == "recorded" else newer)


def test_base_image_of_a_first_bake_from_ssm_with_its_root_device(cloud):
    base = describe(cloud, ["base_image"], ssm_parameter=SSM_PARAMETER)["base_image"]
    image = cloud["ec2"].describe_images(ImageIds=[cloud["base"]])["Images"][0]
    assert base == {"image_id": cloud["base"], "source": "ssm", "ssm_parameter": SSM_PARAMETER, "name": image["Name"],
                    "state": "available", "root_device_name": image["RootDeviceName"],
                    "root_volume_size": image["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"]}


def test_base_image_not_found(cloud):
    missing = describe(cloud, ["base_image"], ssm_parameter="/no/such/parameter")["base_image"]
    assert (missing["image_id"], missing["source"], missing["name"]) == (None, "ssm", None)
    pinned = describe(cloud, ["base_image"], image_id="ami-0000000000000000f", ssm_parameter=SSM_PARAMETER)["base_image"]
    assert (pinned["image_id"], pinned["source"], pinned["ssm_parameter"], pinned["name"]) == ("ami-0000000000000000f", "option", None, None)


# ------------------------------------------------------------------ exact calls (Stubber)

@pytest.fixture
def stubbed(monkeypatch):
    from ansible_collections.amazon.aws.plugins.module_utils import cloud as aws_cloud
    monkeypatch.setattr(aws_cloud.time, "sleep", lambda seconds: None)
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    ssm = boto3.client("ssm", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    made = []

    def ssm_factory():
        made.append(True)
        return RetryingBotoClientWrapper(ssm, retry_decorator())

    with Stubber(ec2) as ec2_stub, Stubber(ssm) as ssm_stub:
        yield RetryingBotoClientWrapper(ec2, retry_decorator()), ssm_factory, ec2_stub, ssm_stub, made
        ec2_stub.assert_no_pending_responses()
        ssm_stub.assert_no_pending_responses()


BASE = {"ImageId": "ami-0123456789abcdef0", "Name": "al2023-ami", "State": "available", "RootDeviceName": "/dev/xvda",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-0123456789abcdef0", "VolumeSize": 8}}]}


def test_a_recorded_base_reads_no_ssm_parameter(stubbed):
    ec2, ssm_factory, ec2_stub, _ssm_stub, made = stubbed
    ec2_stub.add_response("describe_images", {"Images": [BASE]}, {"ImageIds": [BASE["ImageId"]]})
    base = si.base_image_facts(ec2, ssm_factory, [{"base_image_id": None}, {"base_image_id": BASE["ImageId"]}], ssm_parameter=SSM_PARAMETER)
    assert (base["image_id"], base["source"], base["root_device_name"], base["root_volume_size"]) == (BASE["ImageId"], "recorded", "/dev/xvda", 8)
    assert made == []  # no SSM client made


def test_the_ssm_parameter_read_is_retried_when_throttled(stubbed):
    ec2, ssm_factory, ec2_stub, ssm_stub, _made = stubbed
    ssm_stub.add_client_error("get_parameter", "ThrottlingException", "Rate exceeded", expected_params={"Name": SSM_PARAMETER})
    ssm_stub.add_response("get_parameter", {"Parameter": {"Name": SSM_PARAMETER, "Value": BASE["ImageId"], "Type": "String"}},
                          {"Name": SSM_PARAMETER})
    ec2_stub.add_response("describe_images", {"Images": [BASE]}, {"ImageIds": [BASE["ImageId"]]})
    base = si.base_image_facts(ec2, ssm_factory, [], ssm_parameter=SSM_PARAMETER)
    assert (base["image_id"], base["source"], base["name"]) == (BASE["ImageId"], "ssm", "al2023-ami")


def test_a_base_that_aws_does_not_know(stubbed):
    ec2, ssm_factory, ec2_stub, _ssm_stub, _made = stubbed
    ec2_stub.add_client_error("describe_images", "InvalidAMIID.NotFound", "no", expected_params={"ImageIds": [BASE["ImageId"]]})
    base = si.base_image_facts(ec2, ssm_factory, [], image_id=BASE["ImageId"], ssm_parameter=SSM_PARAMETER)
    assert (base["image_id"], base["source"], base["name"], base["root_device_name"]) == (BASE["ImageId"], "option", None, None)


def test_images_whose_names_clash_with_the_stacks_next_versions(cloud):
    ec2 = cloud["ec2"]
    ours, _snapshot = bake(cloud, "Web Server v1", 1, "f1")
    bake(cloud, "Web Server v2", 2, "f2", stack="blue")  # another stack's image of the same name base
    hand = ec2.run_instances(ImageId=cloud["base"], InstanceType="t2.micro", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    by_hand = ec2.create_image(InstanceId=hand, Name="Web Server v3")["ImageId"]  # the lab done by hand
    ec2.create_image(InstanceId=hand, Name="Web Server v3 copy")
    live = builder(cloud, fingerprint="f4", image_name="Web Server v4")
    ec2.create_image(InstanceId=live, Name="Web Server v4")  # ours, not tagged yet: no clash
    clashes = si.describe_stack(Retrying(ec2), None, None, "lab", ["builder"], image_name_base="Web Server")["builder"]["name_clashes"]
    assert [(c["name"], c["image_id"] == by_hand, c["stack"]) for c in clashes] == \
        [("Web Server v2", False, "blue"), ("Web Server v3", True, "untagged")]
    assert ours not in [c["image_id"] for c in clashes]
    assert describe(cloud, ["builder"])["builder"]["name_clashes"] == []
