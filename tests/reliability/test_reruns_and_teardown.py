"""Reruns and teardown, on one cloud holding two stacks: `lab` (inventories/local) and `blue` (a
second host added by a temporary inventory, deployed in the same run); `ghost` never exists.

The tests run in order; each needs the previous one.
"""
import os

import pytest

import rel_env as R


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory):
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    path.write_text("stacks:\n  hosts:\n    blue:\n      stack_name: blue\n    ghost:\n      stack_name: ghost\n")
    return {"inventory": str(path)}


def test_three_runs_give_the_same_resources_and_no_change(cloud, two_stacks):
    """Runs 1-3 of site.yml on both stacks: same ids (outputs files and the account inventory),
    changed=0 on runs 2 and 3."""
    seen = []
    for number in (1, 2, 3):
        run = R.run(cloud, "site.yml", "-i", two_stacks["inventory"], "--limit", "lab,blue")
        assert run.rc == 0, run.output[-4000:]
        if number > 1:
            assert run.changed("lab") == 0 and run.changed("blue") == 0, run.output[-4000:]
        seen.append((R.outputs("lab"), R.outputs("blue"), R.inventory(cloud.url)))
    assert seen[0] == seen[1] == seen[2]
    assert R.counts(R.added(cloud.baseline, seen[0][2])) == dict((k, 2 * v) for k, v in R.ONE_STACK.items())
    look = R.check_lab(cloud, "present")
    assert look.returncode == 0, look.stdout
    two_stacks["blue_before"] = R.inventory_of_stack(cloud.url, "blue")
    assert two_stacks["blue_before"]["groups"] and len(two_stacks["blue_before"]["instances"]) == 2


def test_teardown_removes_one_stack_and_leaves_the_other_untouched(cloud, two_stacks):
    run = R.run(cloud, "teardown.yml", "-i", two_stacks["inventory"], "--limit", "lab")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed("lab") > 0
    look = R.check_lab(cloud, "absent")
    assert look.returncode == 0, look.stdout
    assert R.inventory_of_stack(cloud.url, "blue") == two_stacks["blue_before"]
    # the account holds exactly blue's resources again
    assert R.counts(R.added(cloud.baseline, R.inventory(cloud.url))) == R.ONE_STACK
    assert not os.path.exists(os.path.join(R.OUTPUTS, "lab.ap-northeast-2.json"))
    assert os.path.exists(os.path.join(R.OUTPUTS, "blue.ap-northeast-2.json"))


def test_second_teardown_and_teardown_of_a_stack_that_never_existed_are_no_ops(cloud, two_stacks):
    run = R.run(cloud, "teardown.yml", "-i", two_stacks["inventory"], "--limit", "lab,ghost")
    assert run.rc == 0, run.output[-4000:]
    assert run.changed("lab") == 0 and run.changed("ghost") == 0, run.output[-4000:]
    assert R.inventory_of_stack(cloud.url, "blue") == two_stacks["blue_before"]


def test_teardown_of_the_second_stack_leaves_the_account_as_it_was(cloud, two_stacks):
    run = R.run(cloud, "teardown.yml", "-e", "stack_name=blue")
    assert run.rc == 0, run.output[-4000:]
    look = R.check_lab(cloud, "absent", "--stack", "blue")
    assert look.returncode == 0, look.stdout
    assert R.left_over(cloud.baseline, R.inventory(cloud.url)) == {}
