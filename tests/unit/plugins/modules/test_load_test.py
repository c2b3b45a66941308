"""The load_test module: option checks, check mode, the flow between loadgen and report (loadgen patched)."""
import json
from unittest.mock import patch

import pytest

from ansible_collections.immersionday.ha_web.plugins.modules import load_test
from ansible_collections.immersionday.ha_web.tests.unit.module_runner import run_module

LG = "ansible_collections.immersionday.ha_web.plugins.modules.load_test.loadgen."


def run(args, check=False):
    return run_module(load_test, args, check)


RECORDS = [(0.0, 0.01, 200, None, "i-a"), (0.1, 0.02, 200, None, "i-b"), (0.2, 0.03, 502, "http_502", "i-b")]


@pytest.fixture()
def traffic():
    with patch(LG + "run_load", return_value=(RECORDS, 1.0, 1000.0, {}, 2)) as run_load, \
            patch(LG + "probe_zones", return_value=({"i-a": "az-a", "i-b": "az-c"}, 3)) as probe, \
            patch(LG + "press_load_test") as press:
        press.return_value = {"presses": 6, "instances": ["i-a", "i-b"], "loaded": ["i-a", "i-b"], "not_loaded": [], "complete": True,
                              "responses": [{"instance_id": "i-a", "started": True}, {"instance_id": "i-b", "started": False}]}
        yield run_load, probe, press


def test_load_figures(traffic):
    run_load, probe, press = traffic
    failed, res = run({"url": "http://lb/", "requests": 3, "concurrency": 2})
    assert not failed
    assert run_load.call_args.kwargs == {"path": "/", "method": "GET", "concurrency": 2, "duration_seconds": None, "requests": 3,
                                         "request_timeout": 5.0, "validate_certs": True}
    assert probe.call_args.args[1] == {"i-a", "i-b"} and probe.call_args.args[2] == "/api/status"
    assert res["requests"] == 3 and res["ok"] == 2 and res["errored"] == 1 and res["errors"] == {"http_502": 1}
    assert res["per_instance"] == {"i-a": 1, "i-b": 2} and res["per_az"] == {"az-a": 1, "az-c": 2}
    assert res["connections"] == 2 and res["zone_probes"] == 3
    assert res["changed"] is False
    press.assert_not_called()
    # A top-level "path" would make Ansible decorate the result with file attributes (state, mode, owner...).
    assert "path" not in res and res["request_path"] == "/"


def test_press_only_and_changed_when_a_load_started(traffic):
    run_load, probe, press = traffic
    failed, res = run({"url": "http://lb/", "load_test_path": "load-test", "load_test_seconds": 60, "load_test_instances": 2})
    assert not failed
    run_load.assert_not_called()
    assert press.call_args.args[1] == "/load-test"
    assert press.call_args.kwargs == {"seconds": 60, "max_presses": 20, "expected_instances": 2, "request_timeout": 5.0,
                                      "validate_certs": True}
    assert res["load_test_press"]["loaded"] == ["i-a", "i-b"] and res["changed"] is True
    assert "requests" not in res


def test_press_incomplete_warns(traffic):
    run_load, probe, press = traffic
    press.return_value = {"presses": 20, "instances": ["i-a", "i-b"], "loaded": ["i-a"], "not_loaded": ["i-b"], "complete": False,
                          "responses": []}
    with patch.object(load_test.AnsibleModule, "warn") as warn:
        failed, res = run({"url": "http://lb/", "load_test_path": "/load-test"})
    warn.assert_called_once_with("LOAD TEST is not running on every instance after 20 presses: loaded ['i-a'], not loaded ['i-b']")
    assert res["changed"] is False


def test_check_mode_sends_nothing(traffic, tmp_path):
    run_load, probe, press = traffic
    failed, res = run({"url": "http://lb:8080/x", "duration_seconds": 10, "load_test_path": "/load-test",
                       "report_path": str(tmp_path / "r")}, check=True)
    assert not failed and res["changed"] is False
    assert res["would"] == {"url": "http://lb:8080/x", "method": "GET", "concurrency": 8, "duration_seconds": 10.0, "requests": None,
                            "load_test_path": "/load-test", "report_path": str(tmp_path / "r"), "send_traffic": False}
    run_load.assert_not_called()
    press.assert_not_called()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, msg", [
    ({"url": "ftp://lb/", "requests": 1}, "url 'ftp://lb/' refused: scheme 'ftp' is not supported; only http:// and https:// URLs are load-tested"),
    ({"url": "http://lb/"}, "give duration_seconds or requests (or both): a load test must be bounded"),
    ({"url": "http://lb/", "requests": 0}, "requests must be from 1 to 1000000, got 0"),
    ({"url": "http://lb/", "duration_seconds": 700}, "duration_seconds must be more than 0 and at most 600, got 700.0"),
    ({"url": "http://lb/", "report_from": "/x.json"}, "report_from needs report_path"),
    ({"url": "http://lb/", "report_from": "/x.json", "report_path": "/y", "requests": 3},
     "report_from renders an earlier report and sends no traffic: drop duration_seconds, requests and load_test_path"),
    ({"url": "http://lb/", "load_test_path": "/load-test", "load_test_max_presses": 0}, "load_test_max_presses must be from 1 to 1000, got 0"),
])
def test_refusals_before_any_traffic(traffic, args, msg):
    for check in (False, True):
        failed, res = run(args, check=check)
        assert failed and res["msg"] == msg
    for m in traffic:
        m.assert_not_called()


def test_report_written_and_re_rendered(traffic, tmp_path):
    base = str(tmp_path / "rep")
    failed, res = run({"url": "http://lb/", "requests": 3, "report_path": base})
    assert not failed and res["changed"] is True
    assert (res["report_json"], res["report_html"]) == (base + ".json", base + ".html")
    with open(base + ".json") as f:
        doc = json.load(f)
    assert doc["series"]["instances"] == [] and doc["requests"] == 3
    traffic[0].reset_mock()
    failed, res = run({"url": "http://lb/", "report_from": base + ".json", "report_path": base,
                       "capacity_timeline": [{"t": 0, "epoch": 1005.0, "healthy": 2}, {"t": 9, "epoch": 1014.0, "healthy": 4}]})
    assert not failed
    traffic[0].assert_not_called()
    assert res["series"]["instances"] == [[5.0, 2], [14.0, 4]]
    assert "path" not in res and res["request_path"] == "/"
    with open(base + ".html") as f:
        assert 'data-series="instances"' in f.read()


def test_report_of_an_earlier_version_gives_no_path_key(traffic, tmp_path):
    base = str(tmp_path / "old")
    with open(base + ".json", "w") as f:
        json.dump({"url": "http://lb/", "method": "GET", "path": "/", "concurrency": 8}, f)
    failed, res = run({"url": "http://lb/", "report_from": base + ".json", "report_path": base})
    assert not failed and "path" not in res and res["request_path"] == "/"


def test_report_from_missing_file(tmp_path):
    failed, res = run({"url": "http://lb/", "report_from": str(tmp_path / "nope.json"), "report_path": str(tmp_path / "r")})
    assert failed and res["msg"].startswith("load_test failed: [Errno 2] No such file or directory")
