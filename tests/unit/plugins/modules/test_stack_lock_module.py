# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack_lock module with stubbed SSM answers: what it returns and says to the playbook."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import json

import pytest
from botocore.stub import ANY

from ansible.module_utils.testing import patch_module_args
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_lock as sl
from ansible_collections.immersionday.ha_web.plugins.modules import stack_lock

NAME = "/ha_web/lab/lock"
NOW = 1796400000.0
ME = {"user": "bob", "host": "ws2", "pid": 200, "pid_start": "900", "boot": "b-1", "pidns": "pid:[1]"}
ALICE = {"user": "alice", "host": "ws1", "pid": 4242, "pid_start": "777", "boot": "b-0", "pidns": "pid:[9]"}


# AWSRetry backs off through time.sleep: never really sleep (fixture no_backoff_sleep, tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("no_backoff_sleep")


@pytest.fixture
def ssm(monkeypatch, stubbed_client):
    client, stubber = stubbed_client("ssm")
    monkeypatch.setattr(stack_lock, "aws_client", lambda module, service: client)
    return stubber


class Here(object):
    """This run is ME; every other holder's process is unknown (another machine)."""

    def identity(self):
        return dict(ME)

    def is_gone(self, holder, me):
        return False

    def is_me(self, holder, me):
        return holder.get("pid") == me["pid"] and holder.get("boot") == me["boot"]


def run(capsys, args, check_mode=False):
    module_args = dict(dict(region="ap-northeast-2", stack_name="lab"), **args)
    if check_mode:
        module_args["_ansible_check_mode"] = True
    with patch_module_args(module_args):
        with pytest.raises(SystemExit):
            stack_lock.main(machine=Here())
    return json.loads(capsys.readouterr().out)


def value(identity, token, ttl=3600, purpose="site.yml"):
    return sl.encode(dict(identity, kind=sl.VALUE_KIND, token=token, ttl=ttl, purpose=purpose, since="x", expires="y"))


def answer(text, modified_ago):
    modified = datetime.datetime.fromtimestamp(NOW - modified_ago, tz=datetime.timezone.utc)
    return {"Parameter": {"Name": NAME, "Type": "String", "Value": text, "Version": 1, "LastModifiedDate": modified},
            "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {"date": email.utils.formatdate(NOW, usegmt=True)}}}


def put_params():
    return {"Name": NAME, "Value": ANY, "Type": "String", "Overwrite": False, "Description": sl.DESCRIPTION}


def test_takes_a_free_lock_and_returns_its_token(ssm, capsys):
    ssm.add_response("put_parameter", {"Version": 1}, put_params())
    result = run(capsys, {"purpose": "site.yml", "ttl": 1800})
    assert (result["changed"], result["acquired"], result["held"], result["parameter"]) == (True, True, False, NAME)
    assert len(result["token"]) == 32
    assert result["holder"]["description"].startswith("bob@ws2 (pid 200, site.yml) since ")
    assert result["holder"]["ttl"] == 1800 and result["broken"] == []


def test_lock_held_by_another_run_names_it_its_expiry_and_the_way_out(ssm, capsys):
    ssm.add_client_error("put_parameter", "ParameterAlreadyExists", "exists", 400, expected_params=put_params())
    ssm.add_response("get_parameter", answer(value(ALICE, "t-alice"), 600), {"Name": NAME})
    result = run(capsys, {"purpose": "teardown.yml"})
    assert "failed" not in result
    assert (result["changed"], result["acquired"], result["held"], result["token"]) == (False, False, True, None)
    assert result["msg"] == (
        "stack lab is locked by another run: alice@ws1 (pid 4242, site.yml) since 2026-12-04T15:50:00Z, expires "
        "2026-12-04T16:50:00Z (in 3000 s). It is released when that run ends; the lock of a run killed on another machine "
        "holds until it expires. If you are sure that run is over, delete the SSM parameter /ha_web/lab/lock (region ap-northeast-2).")
    assert result["holder"]["expires"] == "2026-12-04T16:50:00Z" and result["holder"]["expires_in"] == 3000


def test_foreign_parameter_with_the_lock_name_says_so(ssm, capsys):
    ssm.add_client_error("put_parameter", "ParameterAlreadyExists", "exists", 400, expected_params=put_params())
    ssm.add_response("get_parameter", answer("ami-0123", 10 ** 6), {"Name": NAME})
    result = run(capsys, {})
    assert result["held"] is True and result["holder"]["foreign"] is True
    assert "whose value is not a lock of immersionday.ha_web: it never expires by itself" in result["msg"]


def test_expired_lock_is_reported_as_broken(ssm, capsys):
    stale = value(ALICE, "t-alice", ttl=60)
    marker = NAME + "-break-t-alice"
    ssm.add_client_error("put_parameter", "ParameterAlreadyExists", "exists", 400, expected_params=put_params())
    ssm.add_response("get_parameter", answer(stale, 61), {"Name": NAME})
    ssm.add_response("put_parameter", {"Version": 1}, dict(put_params(), Name=marker))
    ssm.add_response("get_parameter", answer(stale, 61), {"Name": NAME})
    ssm.add_response("delete_parameter", {}, {"Name": NAME})
    ssm.add_response("delete_parameter", {}, {"Name": marker})
    ssm.add_response("put_parameter", {"Version": 1}, put_params())
    result = run(capsys, {})
    assert result["acquired"] is True and result["changed"] is True
    assert [(b["reason"], b["holder"]["user"]) for b in result["broken"]] == [("expired", "alice")]


def test_same_run_twice_fails_naming_the_inventory_mistake(ssm, capsys):
    ssm.add_client_error("put_parameter", "ParameterAlreadyExists", "exists", 400, expected_params=put_params())
    ssm.add_response("get_parameter", answer(value(ME, "t-host1"), 5), {"Name": NAME})
    result = run(capsys, {})
    assert result["failed"] is True
    assert "already locked by this very run" in result["msg"] and "two inventory hosts have stack_name lab" in result["msg"]
    assert "held" not in result


def test_check_mode_reads_and_writes_nothing(ssm, capsys):
    ssm.add_client_error("get_parameter", "ParameterNotFound", "none", 400, expected_params={"Name": NAME})
    result = run(capsys, {}, check_mode=True)
    assert (result["changed"], result["acquired"], result["held"]) == (True, False, False)
    ssm.add_response("get_parameter", answer(value(ALICE, "t-alice"), 5), {"Name": NAME})
    result = run(capsys, {}, check_mode=True)
    assert (result["changed"], result["acquired"], result["held"]) == (False, False, True)
    ssm.add_response("get_parameter", answer(value(ME, "t-bob"), 5), {"Name": NAME})
    result = run(capsys, {"state": "absent", "token": "t-bob"}, check_mode=True)
    assert (result["changed"], result["released"]) == (True, False)


def test_release_own_lock(ssm, capsys):
    ssm.add_response("get_parameter", answer(value(ME, "t-bob"), 100), {"Name": NAME})
    ssm.add_response("delete_parameter", {}, {"Name": NAME})
    result = run(capsys, {"state": "absent", "token": "t-bob"})
    assert (result["changed"], result["released"], result["outcome"], result["holder"]) == (True, True, "released", None)


def test_release_leaves_a_lock_taken_over_and_warns(ssm, capsys):
    ssm.add_response("get_parameter", answer(value(ALICE, "t-alice"), 100), {"Name": NAME})
    result = run(capsys, {"state": "absent", "token": "t-bob"})
    assert (result["changed"], result["released"], result["outcome"]) == (False, False, "other")
    warning = json.dumps(result["warnings"])
    assert "outlived its lock's ttl" in warning and "alice@ws1" in warning


def test_release_of_a_lock_already_gone(ssm, capsys):
    ssm.add_client_error("get_parameter", "ParameterNotFound", "none", 400, expected_params={"Name": NAME})
    result = run(capsys, {"state": "absent", "token": "t-bob"})
    assert (result["changed"], result["released"], result["outcome"]) == (False, False, "gone")


def test_aws_error_fails_with_the_action(ssm, capsys):
    ssm.add_client_error("put_parameter", "AccessDeniedException", "not authorized to perform: ssm:PutParameter", 400)
    result = run(capsys, {})
    assert result["failed"] is True and result["msg"].startswith("Failed to take the lock /ha_web/lab/lock")
    assert "held" not in result


@pytest.mark.parametrize("args,message", [
    ({"stack_name": "lab/../other"}, "stack_name \"lab/../other\" must be 1 to 24 letters"),
    ({"ttl": 0}, "ttl 0 must be at least 1 second"),
    ({"state": "absent"}, "state is absent but all of the following are missing: token"),
])
def test_bad_input_fails_before_any_call(ssm, capsys, args, message):
    result = run(capsys, args)
    assert result["failed"] is True and message in result["msg"]
