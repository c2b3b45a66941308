# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/stack_lock.py: the stack's lock with stubbed SSM answers (free, held, expired,
holder gone, races lost at each step, throttling), and the machine's view of processes from a
fake /proc."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import json
import os

import pytest
from botocore.stub import ANY

from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_lock as sl

NAME = "/ha_web/lab/lock"
NOW = 1796400000.0  # AWS's clock in the stubbed answers
ME = {"user": "bob", "host": "ws2", "pid": 200, "pid_start": "900", "boot": "b-1", "pidns": "pid:[1]"}
ALICE = {"user": "alice", "host": "ws1", "pid": 4242, "pid_start": "777", "boot": "b-other", "pidns": "pid:[9]"}


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def stubbed(stubbed_client):
    return stubbed_client("ssm")


class FakeMachine(object):
    """Processes of this machine: `alive` pids (with their start), as seen by a run of identity ME."""

    def __init__(self, alive=None):
        self.alive = alive or {}

    def is_gone(self, holder, me):
        return sl.Machine().sees(holder, me) and self.alive.get(holder["pid"]) != holder.get("pid_start")

    def is_me(self, holder, me):
        return sl.Machine().sees(holder, me) and (holder["pid"], holder["pid_start"]) == (me["pid"], me["pid_start"])


def holder(identity, ttl=3600, token="t-alice", purpose="site.yml"):
    value = dict(identity, kind=sl.VALUE_KIND, token=token, purpose=purpose, ttl=ttl, since="x", expires="y")
    return value


def mine(token="t-bob", ttl=3600, purpose="site.yml"):
    return holder(ME, ttl=ttl, token=token, purpose=purpose)


def answer(value, modified_ago, now=NOW):
    """A GetParameter answer: the value, modified `modified_ago` seconds before AWS's `now`."""
    modified = datetime.datetime.fromtimestamp(now - modified_ago, tz=datetime.timezone.utc)
    return {"Parameter": {"Name": NAME, "Type": "String", "Value": value if isinstance(value, str) else sl.encode(value),
                          "Version": 1, "LastModifiedDate": modified},
            "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {"date": email.utils.formatdate(now, usegmt=True)}}}


def put(stubber, name, value=None):
    stubber.add_response("put_parameter", {"Version": 1, "Tier": "Standard"},
                         {"Name": name, "Value": sl.encode(value) if value else ANY, "Type": "String", "Overwrite": False,
                          "Description": sl.DESCRIPTION})


def put_exists(stubber, name, value=None):
    stubber.add_client_error("put_parameter", "ParameterAlreadyExists", "exists", 400,
                             expected_params={"Name": name, "Value": sl.encode(value) if value else ANY, "Type": "String",
                                              "Overwrite": False, "Description": sl.DESCRIPTION})


def get(stubber, name, value, modified_ago):
    stubber.add_response("get_parameter", answer(value, modified_ago), {"Name": name})


def get_missing(stubber, name):
    stubber.add_client_error("get_parameter", "ParameterNotFound", "gone", 400, expected_params={"Name": name})


def delete(stubber, name):
    stubber.add_response("delete_parameter", {}, {"Name": name})


def marker_of(token, name=NAME):
    return name + sl.BREAK_SUFFIX + token


# ----------------------------------------------------------------------------------- take

def test_free_lock_is_taken_with_one_call(stubbed):
    ssm, stubber = stubbed
    put(stubber, NAME, mine())
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME)
    assert outcome.acquired and outcome.broken == []


def test_held_by_another_run_is_not_taken_and_names_the_holder(stubbed):
    ssm, stubber = stubbed
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, holder(ALICE), modified_ago=60)
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME)
    assert not outcome.acquired
    facts = outcome.current.facts()
    assert facts["description"] == ("alice@ws1 (pid 4242, site.yml) since 2026-12-04T15:59:00Z, expires 2026-12-04T16:59:00Z"
                                    " (in 3540 s)")
    assert (facts["user"], facts["host"], facts["pid"], facts["expires_in"], facts["foreign"]) == ("alice", "ws1", 4242, 3540, False)
    assert "token" not in facts


def test_expired_lock_is_broken_under_a_marker_then_taken(stubbed):
    ssm, stubber = stubbed
    dead = holder(ALICE, ttl=600)
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, dead, modified_ago=601)
    put(stubber, marker_of("t-alice"))             # this run alone breaks t-alice
    get(stubber, NAME, dead, modified_ago=601)     # still the expired value
    delete(stubber, NAME)
    delete(stubber, marker_of("t-alice"))
    put(stubber, NAME, mine())
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME)
    assert outcome.acquired
    assert [(lock.holder["user"], reason) for lock, reason in outcome.broken] == [("alice", "expired")]


def test_expiry_is_judged_on_aws_clock_not_the_local_one(stubbed):
    """One second before its expiry on AWS's clock the lock holds, whatever the local clock says."""
    ssm, stubber = stubbed
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, holder(ALICE, ttl=600), modified_ago=599)
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME, clock=lambda: NOW + 86400)
    assert not outcome.acquired and outcome.current.remaining == 1


def test_lock_of_a_gone_process_on_this_machine_is_broken_before_its_expiry(stubbed):
    """A run interrupted or killed here (same boot, same pid namespace, its ansible-playbook gone)."""
    ssm, stubber = stubbed
    killed = holder(dict(ME, pid=150, pid_start="850"), token="t-killed")
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, killed, modified_ago=30)
    put(stubber, marker_of("t-killed"))
    get(stubber, NAME, killed, modified_ago=30)
    delete(stubber, NAME)
    delete(stubber, marker_of("t-killed"))
    put(stubber, NAME, mine())
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(alive={200: "900"}), ME)
    assert outcome.acquired and [reason for _lock, reason in outcome.broken] == ["holder gone"]


def test_pid_reused_by_another_process_counts_as_gone_and_a_live_one_holds(stubbed):
    ssm, stubber = stubbed
    live = holder(dict(ME, pid=150, pid_start="850"), token="t-live")
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, live, modified_ago=30)
    assert not sl.take(ssm, NAME, mine(), FakeMachine(alive={150: "850"}), ME).acquired
    machine = FakeMachine(alive={150: "851"})  # pid 150 now belongs to a process started later
    assert machine.is_gone(live, ME)


def test_process_of_another_machine_or_pid_namespace_is_never_judged_gone(stubbed):
    ssm, stubber = stubbed
    other_ns = holder(dict(ME, pid=150, pidns="pid:[2]"), token="t-container")
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, other_ns, modified_ago=30)
    assert not sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired
    assert not FakeMachine().is_gone(holder(ALICE), ME)


def test_race_lost_at_create_after_breaking(stubbed):
    """The stale lock is gone, but another run created its lock first: that run won."""
    ssm, stubber = stubbed
    dead = holder(ALICE, ttl=600)
    carol = holder(dict(ALICE, user="carol", host="ws3"), token="t-carol")
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, dead, modified_ago=700)
    put(stubber, marker_of("t-alice"))
    get_missing(stubber, NAME)                    # already removed (by its holder, or carol after her break)
    delete(stubber, marker_of("t-alice"))
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, carol, modified_ago=1)
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME)
    assert not outcome.acquired and outcome.current.holder["user"] == "carol"


def test_another_run_breaking_the_same_lock_is_left_to_it(stubbed):
    """Its marker exists and holds: this run deletes nothing and waits."""
    ssm, stubber = stubbed
    dead = holder(ALICE, ttl=600)
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, dead, modified_ago=700)
    put_exists(stubber, marker_of("t-alice"))
    stubber.add_response("get_parameter", answer(holder(dict(ALICE, user="carol"), ttl=sl.MARKER_TTL, token="t-m"), 2),
                         {"Name": marker_of("t-alice")})
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME)
    assert not outcome.acquired and outcome.current.holder["user"] == "alice" and outcome.broken == []


def test_stale_value_replaced_while_the_marker_was_taken_is_not_deleted(stubbed):
    """Between the first read and the read under the marker, the lock changed hands: not ours to delete."""
    ssm, stubber = stubbed
    dead = holder(ALICE, ttl=600)
    carol = holder(dict(ALICE, user="carol"), token="t-carol")
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, dead, modified_ago=700)
    put(stubber, marker_of("t-alice"))
    get(stubber, NAME, carol, modified_ago=1)      # no delete_parameter of the lock follows
    delete(stubber, marker_of("t-alice"))
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, carol, modified_ago=1)
    assert not sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired


def test_marker_left_by_a_breaker_that_died_is_broken_one_level_down(stubbed):
    ssm, stubber = stubbed
    dead = holder(ALICE, ttl=600)
    marker = marker_of("t-alice")
    dead_marker = holder(dict(ALICE, user="dave"), ttl=sl.MARKER_TTL, token="t-dave")
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, dead, modified_ago=5000)
    put_exists(stubber, marker)
    stubber.add_response("get_parameter", answer(dead_marker, sl.MARKER_TTL + 1), {"Name": marker})
    put(stubber, marker_of("t-dave", marker))
    stubber.add_response("get_parameter", answer(dead_marker, sl.MARKER_TTL + 1), {"Name": marker})
    delete(stubber, marker)
    delete(stubber, marker_of("t-dave", marker))
    put(stubber, marker)
    get(stubber, NAME, dead, modified_ago=5000)
    delete(stubber, NAME)
    delete(stubber, marker)
    put(stubber, NAME, mine())
    assert sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired


def test_foreign_value_is_never_broken(stubbed):
    ssm, stubber = stubbed
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, "someone's own parameter", modified_ago=10 ** 7)
    outcome = sl.take(ssm, NAME, mine(), FakeMachine(), ME)
    assert not outcome.acquired and outcome.current.holder is None
    assert outcome.current.facts() == {"description": "a value that is not a lock of immersionday.ha_web (someone's own parameter)",
                                       "foreign": True}


def test_create_that_went_through_but_whose_answer_was_lost_is_ours(stubbed):
    """A retried PutParameter finds its own first attempt: the token is ours."""
    ssm, stubber = stubbed
    put_exists(stubber, NAME, mine())
    get(stubber, NAME, mine(), modified_ago=0)
    assert sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired


def test_released_between_create_and_read_is_tried_again(stubbed):
    ssm, stubber = stubbed
    put_exists(stubber, NAME, mine())
    get_missing(stubber, NAME)
    put(stubber, NAME, mine())
    assert sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired


def test_held_by_this_very_process_raises(stubbed):
    """Two inventory hosts with one stack_name in one run: waiting would wait for itself."""
    ssm, stubber = stubbed
    put_exists(stubber, NAME, mine(token="t-new"))
    get(stubber, NAME, mine(token="t-host1"), modified_ago=1)
    with pytest.raises(sl.SameRun) as e:
        sl.take(ssm, NAME, mine(token="t-new"), FakeMachine(alive={200: "900"}), ME)
    assert "bob@ws2 (pid 200, site.yml)" in str(e.value)


def test_throttling_is_retried(stubbed, no_backoff_sleep):
    ssm, stubber = stubbed
    stubber.add_client_error("put_parameter", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_client_error("put_parameter", "TooManyUpdates", "concurrent updates", 400)
    put(stubber, NAME, mine())
    put_exists(stubber, NAME, mine())
    stubber.add_client_error("get_parameter", "ThrottlingException", "Rate exceeded", 400)
    get(stubber, NAME, holder(ALICE), modified_ago=5)
    assert sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired
    assert not sl.take(ssm, NAME, mine(), FakeMachine(), ME).acquired
    assert len(no_backoff_sleep) == 3


def test_other_errors_are_raised(stubbed):
    import botocore
    ssm, stubber = stubbed
    stubber.add_client_error("put_parameter", "AccessDeniedException", "not allowed", 400)
    with pytest.raises(botocore.exceptions.ClientError):
        sl.take(ssm, NAME, mine(), FakeMachine(), ME)


# ----------------------------------------------------------------------------------- release

def test_release_deletes_only_its_own_token(stubbed):
    ssm, stubber = stubbed
    get(stubber, NAME, mine(), modified_ago=100)
    delete(stubber, NAME)
    outcome, lock = sl.release(ssm, NAME, "t-bob")
    assert outcome == "released" and lock.holder["user"] == "bob"


def test_release_leaves_another_holders_lock(stubbed):
    ssm, stubber = stubbed
    get(stubber, NAME, holder(ALICE), modified_ago=100)
    outcome, lock = sl.release(ssm, NAME, "t-bob")
    assert outcome == "other" and lock.holder["user"] == "alice"


def test_release_when_already_gone(stubbed):
    ssm, stubber = stubbed
    get_missing(stubber, NAME)
    assert sl.release(ssm, NAME, "t-bob") == ("gone", None)


def test_release_when_deleted_between_read_and_delete(stubbed):
    ssm, stubber = stubbed
    get(stubber, NAME, mine(), modified_ago=100)
    stubber.add_client_error("delete_parameter", "ParameterNotFound", "gone", 400, expected_params={"Name": NAME})
    assert sl.release(ssm, NAME, "t-bob")[0] == "gone"


def test_release_leaves_its_own_lock_to_expire_when_its_expiry_is_close(stubbed):
    """Another run may be breaking it now: a delete landing after that run's new lock would remove it."""
    ssm, stubber = stubbed
    get(stubber, NAME, mine(ttl=3600), modified_ago=3600 - 59)
    outcome, lock = sl.release(ssm, NAME, "t-bob")
    assert outcome == "expiring" and lock.remaining == 59
    get(stubber, NAME, mine(ttl=3600), modified_ago=3600 - 61)
    delete(stubber, NAME)
    assert sl.release(ssm, NAME, "t-bob")[0] == "released"


def test_release_margin_of_a_short_ttl_is_a_quarter_of_it(stubbed):
    ssm, stubber = stubbed
    get(stubber, NAME, mine(ttl=20), modified_ago=14)
    delete(stubber, NAME)
    assert sl.release(ssm, NAME, "t-bob")[0] == "released"
    get(stubber, NAME, mine(ttl=20), modified_ago=16)
    assert sl.release(ssm, NAME, "t-bob")[0] == "expiring"


# ----------------------------------------------------------------------------------- values

def test_new_holder_value_round_trips_and_fits_a_standard_parameter():
    value = sl.new_holder(ME, "site.yml", 3600, clock=lambda: NOW)
    assert value["since"] == "2026-12-04T16:00:00Z" and value["expires"] == "2026-12-04T17:00:00Z"
    assert len(value["token"]) == 32 and value["token"] != sl.new_holder(ME, "site.yml", 3600)["token"]
    assert sl.decode(sl.encode(value)) == value
    assert len(sl.encode(value)) < 4096


@pytest.mark.parametrize("value", ["", "{", "[]", json.dumps({"token": "x", "ttl": 5}),
                                   json.dumps({"kind": sl.VALUE_KIND, "ttl": 5}),
                                   json.dumps({"kind": sl.VALUE_KIND, "token": "x", "ttl": "soon"})])
def test_values_that_are_not_our_locks(value):
    assert sl.decode(value) is None


def test_server_time_from_the_date_header_else_the_local_clock():
    assert sl.server_time(answer(mine(), 0)) == NOW
    assert sl.server_time({"ResponseMetadata": {"HTTPHeaders": {}}}, clock=lambda: 5.0) == 5.0
    assert sl.server_time({}, clock=lambda: 6.0) == 6.0


# ----------------------------------------------------------------------------------- machine

def fake_proc(root, processes, boot="b-1", zombies=()):
    """processes: pid -> (ppid, start, argv)."""
    for pid, (ppid, start, argv) in processes.items():
        folder = os.path.join(str(root), str(pid))
        os.makedirs(folder)
        fields = ["Z" if pid in zombies else "S", str(ppid)] + ["0"] * 17 + [start, "0"]
        with open(os.path.join(folder, "stat"), "w") as handle:
            handle.write("%d (%s) %s\n" % (pid, os.path.basename(argv[0])[:15], " ".join(fields)))
        with open(os.path.join(folder, "cmdline"), "w") as handle:
            handle.write("\0".join(argv) + "\0")
    os.makedirs(os.path.join(str(root), "sys", "kernel", "random"))
    with open(os.path.join(str(root), "sys", "kernel", "random", "boot_id"), "w") as handle:
        handle.write(boot + "\n")
    os.makedirs(os.path.join(str(root), "self", "ns"))
    os.symlink("pid:[4026531836]", os.path.join(str(root), "self", "ns", "pid"))
    return sl.Machine(proc=str(root), pid=max(processes))


PLAYBOOK = ["/venv/bin/python3", "/venv/bin/ansible-playbook", "-i", "inventories/local", "playbooks/site.yml"]
MODULE_CHAIN = {
    1: (0, "1", ["/sbin/init"]),
    90: (1, "5000", ["bash"]),
    100: (90, "5100", PLAYBOOK),                                 # ansible-playbook
    130: (100, "5300", PLAYBOOK),                                # its worker (a fork: same command line)
    131: (130, "5301", ["/bin/sh", "-c", "/bin/sh -c 'python3 AnsiballZ_stack_lock.py && sleep 0'"]),
    132: (131, "5302", ["/bin/sh", "-c", "python3 AnsiballZ_stack_lock.py && sleep 0"]),
    133: (132, "5303", ["/venv/bin/python3", "/root/.ansible/tmp/ansible-tmp-1/AnsiballZ_stack_lock.py"]),
}


def test_machine_finds_the_ansible_playbook_process_above_its_worker(tmp_path):
    machine = fake_proc(tmp_path, MODULE_CHAIN)
    assert machine.playbook_process() == (100, "5100")
    me = machine.identity()
    assert (me["pid"], me["pid_start"], me["boot"], me["pidns"]) == (100, "5100", "b-1", "pid:[4026531836]")


def test_machine_without_an_ansible_ancestor_knows_no_process(tmp_path):
    machine = fake_proc(tmp_path, {1: (0, "1", ["/sbin/init"]), 50: (1, "9", ["python3", "test.py"])})
    assert machine.playbook_process() == (None, None)
    assert not machine.is_gone(dict(ME, pid=None), dict(ME, pid=None))


def test_machine_judges_gone_processes_by_pid_and_start(tmp_path):
    machine = fake_proc(tmp_path, MODULE_CHAIN)
    me = dict(ME, pid=100, pid_start="5100", boot="b-1", pidns="pid:[4026531836]")
    assert not machine.is_gone(dict(me), me) and machine.is_me(dict(me), me)
    assert machine.is_gone(dict(me, pid=100, pid_start="4000"), me)   # pid reused since
    assert machine.is_gone(dict(me, pid=555), me)                     # no such process
    assert not machine.is_gone(dict(me, pid=555, boot="b-0"), me)     # an earlier boot, or another machine: unknown
    assert not machine.is_gone(dict(me, pid=555, pidns="pid:[5]"), me)


def test_machine_counts_a_zombie_as_gone(tmp_path):
    """An ansible-playbook killed but not reaped by its parent (AWX, a CI runner) is over."""
    machine = fake_proc(tmp_path, MODULE_CHAIN, zombies=(100,))
    me = dict(ME, pid=999, pid_start="1", boot="b-1", pidns="pid:[4026531836]")
    assert machine.is_gone(dict(me, pid=100, pid_start="5100"), me)
    assert not machine.is_gone(dict(me, pid=130, pid_start="5300"), me)
