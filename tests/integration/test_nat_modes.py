"""network_nat_mode on a fresh embedded cloud, the network alone (site.yml --tags network): the
tests run in order against one cloud; each step needs the previous one.

CI runs a bounded sample: a bad mode and `regional` (which moto lacks) stop before any change, a
per_az stack deploys, reruns with changed=0 and tears down to nothing. HA_WEB_TEST_SCOPE=full
also starts from the lab's single gateway and switches single -> per_az -> single, checking
between the build and the end of each switch that every private subnet still routes through an
available NAT gateway, and that the lab's network is exactly the lab's again afterwards; and a
route through a live gateway (zone a's table pointed at zone c's gateway, zone a's deleted) that
keeps it through the build and moves only once zone a's new gateway is available.
`regional` itself is proven by unit tests against the real EC2 API model
(tests/unit/plugins/module_utils/test_regional_nat_gateway.py, test_network_nat.py)."""
import os

import boto3
import pytest

from lab_env import check_lab, playbook

FULL = (os.environ.get("HA_WEB_TEST_SCOPE") or "ci") == "full"
REGION = "ap-northeast-2"


@pytest.fixture(scope="module")
def lab(cloud):
    return {"cloud": cloud}


def network(lab, *args):
    return playbook(lab["cloud"], "site.yml", "--tags", "network", *args)


def look(lab, *args):
    result = check_lab(lab["cloud"], *args)
    assert result.returncode == 0, result.stdout
    return result.stdout


def ec2_of(lab):
    return boto3.client("ec2", region_name=REGION, endpoint_url=lab["cloud"].url, aws_access_key_id="testing", aws_secret_access_key="testing")


def live_gateways(lab):
    return ec2_of(lab).describe_nat_gateways(Filters=[{"Name": "state", "Values": ["pending", "available"]}])["NatGateways"]


def component_of(resource):
    return dict((t["Key"], t["Value"]) for t in resource.get("Tags", []))["ha_web:component"]


def nothing_was_made(lab):
    ec2 = ec2_of(lab)
    tagged = [{"Name": "tag:ha_web:stack", "Values": ["lab"]}]
    return ec2.describe_vpcs(Filters=tagged)["Vpcs"] == [] and ec2.describe_addresses(Filters=tagged)["Addresses"] == []


def test_a_bad_mode_stops_before_any_aws_call(lab):
    run = network(lab, "-e", "network_nat_mode=dual")
    assert run.rc != 0
    assert "network_nat_mode 'dual' must be one of single, per_az, regional" in run.output, run.output[-3000:]
    assert "Find by its tags the network" not in run.output
    assert nothing_was_made(lab)


def test_regional_stops_before_any_change_where_the_endpoint_lacks_it(lab):
    run = network(lab, "-e", "network_nat_mode=regional")
    assert run.rc != 0
    assert "network_nat_mode regional needs an endpoint that creates regional NAT gateways" in run.output, run.output[-3000:]
    assert "InvalidSubnetID.NotFound" in run.output  # moto's answer to the DryRun, quoted
    assert run.recap["lab"]["changed"] == 0
    assert nothing_was_made(lab)


if FULL:
    def test_the_lab_network_first(lab):
        run = network(lab)
        assert run.rc == 0, run.output[-4000:]
        look(lab, "present", "--tasks", "1")


def switch(lab, mode):
    """A switch in two steps: the build alone (network_build_only.yml), after which the old mode
    still carries the private subnets beside the new gateways, then the whole run, which moves
    them and removes the old mode."""
    args = ("-e", "network_nat_mode=" + mode)
    run = playbook(lab["cloud"], "../tests/integration/network_build_only.yml", *args)
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() > 0  # the new mode's addresses, gateways and tables
    assert len(live_gateways(lab)) == 3  # single's one and per_az's two, side by side
    look(lab, "egress")
    run = network(lab, *args)
    assert run.rc == 0, run.output[-4000:]
    return run


def test_per_az_deploys_a_gateway_and_a_route_table_per_zone(lab):
    run = switch(lab, "per_az") if FULL else network(lab, "-e", "network_nat_mode=per_az")
    assert run.rc == 0, run.output[-4000:]
    assert "(per_az)" in run.output  # the summary names the mode and both gateways
    look(lab, "present", "--tasks", "1", "--nat-mode", "per_az")


def test_per_az_rerun_changes_nothing(lab):
    run = network(lab, "-e", "network_nat_mode=per_az")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed() == 0, run.output[-4000:]


if FULL:
    def test_a_route_through_a_live_gateway_moves_only_once_its_own_is_available(lab):
        # Zone a's gateway deleted by hand after its table was pointed at zone c's: the table keeps
        # that live route through the build and moves (ReplaceRoute) only once the new gateway is up.
        ec2 = ec2_of(lab)
        nats = dict((component_of(n), n["NatGatewayId"]) for n in live_gateways(lab))
        tables = dict((component_of(t), t["RouteTableId"])
                      for t in ec2.describe_route_tables(Filters=[{"Name": "tag:ha_web:stack", "Values": ["lab"]}])["RouteTables"])
        ec2.replace_route(RouteTableId=tables["private-rt-a"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nats["nat-c"])
        ec2.delete_nat_gateway(NatGatewayId=nats["nat-a"])
        run = playbook(lab["cloud"], "../tests/integration/network_build_only.yml", "-e", "network_nat_mode=per_az")
        assert run.rc == 0, run.output[-4000:]
        routes = ec2.describe_route_tables(RouteTableIds=[tables["private-rt-a"]])["RouteTables"][0]["Routes"]
        assert [r.get("NatGatewayId") for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == [nats["nat-c"]]
        look(lab, "egress")
        run = network(lab, "-e", "network_nat_mode=per_az")
        assert run.rc == 0, run.output[-4000:]
        look(lab, "present", "--tasks", "1", "--nat-mode", "per_az")

    def test_back_to_single_is_the_lab_exactly(lab):
        switch(lab, "single")
        look(lab, "present", "--tasks", "1")
        run = network(lab)
        assert run.changed() == 0, run.output[-4000:]


def test_teardown_leaves_nothing(lab):
    run = playbook(lab["cloud"], "teardown.yml", "--tags", "network")
    assert run.rc == 0, run.output[-4000:]
    look(lab, "absent")
