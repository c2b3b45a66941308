#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: load_test
short_description: HTTP load generator for the lab's load balancer, with LOAD TEST presses and a report
version_added: 0.1.0
description:
  - Sends HTTP requests to O(url) from O(concurrency) threads on keep-alive connections, bounded by
    O(duration_seconds) and/or O(requests) (hard caps 600 s and 1,000,000 requests).
  - Returns totals, errors by kind (V(timeout), V(connection), V(tls), V(protocol), V(http_<status>)), latency
    p50/p90/p99, requests per second per second, and how many requests each instance answered
    (from the C(X-Instance-Id) header, else the C(instance_id) of a JSON answer).
  - With O(load_test_path), presses the sample application's LOAD TEST (POST) through the URL until every
    instance that answers reports its load test running, or O(load_test_max_presses) is spent.
  - With O(report_path), writes a JSON report and a self-contained HTML page with SVG charts (requests/s,
    latency percentiles, and the group's instance count from O(capacity_timeline)).
  - Only V(http) and V(https) URLs are accepted; anything else is refused, with the reason, before any traffic.
  - In check mode no request is sent; the module returns what it would do.
  - Not an AWS module; it needs no credentials.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  url:
    description:
      - Target, e.g. the load balancer's C(http://<dns name>/). Only http and https.
    type: str
    required: true
  path:
    description:
      - Path requested during the load; default the path (and query) of O(url).
    type: str
  method:
    description:
      - HTTP method of the load requests.
    type: str
    default: GET
    choices: [GET, HEAD]
  concurrency:
    description:
      - Worker threads, each with its own keep-alive connection (at most 256).
    type: int
    default: 8
  duration_seconds:
    description:
      - Length of the load in seconds (at most 600). At least one of O(duration_seconds) and O(requests) is needed
        for a load; without both, only the LOAD TEST presses (O(load_test_path)) or the report (O(report_from)) run.
    type: float
  requests:
    description:
      - Number of requests to send (at most 1,000,000). With O(duration_seconds), the first bound reached ends the load.
    type: int
  request_timeout:
    description:
      - Timeout of one request in seconds (connect and each read).
    type: float
    default: 5.0
  validate_certs:
    description:
      - Verify the server's certificate on https.
    type: bool
    default: true
  zone_probe_path:
    description:
      - After the load, path answering JSON C({instance_id, availability_zone}) asked a few times to map
        the instances that answered to their availability zones (C(per_az)). Empty string to skip.
    type: str
    default: /api/status
  load_test_path:
    description:
      - Path of the application's LOAD TEST action (e.g. V(/load-test)), POSTed through O(url) after the load.
    type: str
  load_test_seconds:
    description:
      - Seconds of CPU load each instance should run (sent as form field C(seconds)); default the application's own.
    type: int
  load_test_max_presses:
    description:
      - Budget of LOAD TEST presses.
    type: int
    default: 20
  load_test_instances:
    description:
      - Number of distinct instances to load; when unset, pressing stops once every instance that answered is
        loaded and twice as many further presses found no new instance.
    type: int
  report_path:
    description:
      - Write the report to C(<report_path>.json) and C(<report_path>.html) (a trailing C(.json) or C(.html) is dropped).
    type: path
  report_from:
    description:
      - Render the report from this earlier JSON report instead of sending traffic (e.g. to add the capacity timeline
        once the group has scaled out). Needs O(report_path).
    type: path
  capacity_timeline:
    description:
      - The group's instance count over time, plotted in the report. Items C({t, instances}) with t in seconds since
        the load test started, or capacity_wait's C(timeline) items (C(healthy) count; C(epoch) re-based on the load
        test's start).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Send 500 requests through the load balancer and see which instances and AZs answer
  immersionday.ha_web.load_test:
    url: "http://{{ ha_web_alb.dns_name }}/"
    requests: 500
    concurrency: 8

- name: Press LOAD TEST on every instance behind the load balancer
  immersionday.ha_web.load_test:
    url: "http://{{ ha_web_alb.dns_name }}/"
    load_test_path: /load-test

- name: Load for 30 s and write outputs/lab-load-test.json and .html
  immersionday.ha_web.load_test:
    url: http://127.0.0.1:8080/
    duration_seconds: 30
    concurrency: 16
    report_path: outputs/lab-load-test

- name: Add the group's instance count to the report, no traffic
  immersionday.ha_web.load_test:
    url: http://127.0.0.1:8080/
    report_from: outputs/lab-load-test.json
    report_path: outputs/lab-load-test
    capacity_timeline: "{{ capacity.timeline }}"
"""

RETURN = r"""
url:
  description: The URL the load went to.
  returned: always
  type: str
request_path:
  description: The path (and query) requested during the load, or pressed for LOAD TEST only.
  returned: when not in check mode
  type: str
  sample: /
method:
  description: The HTTP method of the load requests.
  returned: when not in check mode
  type: str
  sample: GET
concurrency:
  description: The worker threads that sent the load.
  returned: when not in check mode
  type: int
  sample: 8
requests:
  description: Requests sent (answered or failed).
  returned: when a load ran
  type: int
  sample: 500
ok:
  description: Requests answered with a status below 400.
  returned: when a load ran
  type: int
errored:
  description: Requests that failed (any error kind). Not named C(failed), which Ansible reserves.
  returned: when a load ran
  type: int
errors:
  description: Failed requests by kind (timeout, connection, tls, protocol, http_<status>).
  returned: when a load ran
  type: dict
  sample: {"connection": 3, "http_502": 1}
status_codes:
  description: Answers by HTTP status.
  returned: when a load ran
  type: dict
  sample: {"200": 497, "502": 1}
elapsed_seconds:
  description: Wall time of the load.
  returned: when a load ran
  type: float
rps:
  description: Mean requests per second.
  returned: when a load ran
  type: float
latency_ms:
  description: Latency of answered requests in milliseconds.
  returned: when a load ran
  type: dict
  contains:
    min: {description: Fastest., type: float, returned: always}
    mean: {description: Mean., type: float, returned: always}
    p50: {description: Median., type: float, returned: always}
    p90: {description: 90th percentile., type: float, returned: always}
    p99: {description: 99th percentile., type: float, returned: always}
    max: {description: Slowest., type: float, returned: always}
timeline:
  description: One bucket per second since the start (requests completed in that second).
  returned: when a load ran
  type: list
  elements: dict
  sample: [{"t": 0, "requests": 812, "errors": 0, "rps": 812.0, "p50_ms": 4.1, "p90_ms": 7.9, "p99_ms": 12.3}]
per_instance:
  description: Answers per instance id (header X-Instance-Id, else JSON instance_id).
  returned: when a load ran
  type: dict
  sample: {"i-0abc": 250, "i-0def": 250}
per_az:
  description: Answers per availability zone, for the instances whose zone is known.
  returned: when a load ran
  type: dict
  sample: {"ap-northeast-2a": 250, "ap-northeast-2c": 250}
instances:
  description: Instance ids that answered.
  returned: when a load ran
  type: list
  elements: str
zones:
  description: Availability zone of each instance that answered, where known.
  returned: when a load ran
  type: dict
started_epoch:
  description: Unix time the load started.
  returned: when a load ran
  type: float
connections:
  description: TCP connections the workers opened (keep-alive makes this close to O(concurrency)).
  returned: when a load ran
  type: int
zone_probes:
  description: Requests sent to O(zone_probe_path) after the load.
  returned: when a load ran
  type: int
load_test_press:
  description: The LOAD TEST presses.
  returned: when O(load_test_path) is given
  type: dict
  contains:
    presses: {description: POSTs sent., type: int, returned: always}
    instances: {description: Instances that answered a press., type: list, elements: str, returned: always}
    loaded: {description: Instances whose load test started or was running., type: list, elements: str, returned: always}
    not_loaded: {description: Instances that answered without reporting a running load test., type: list, elements: str, returned: always}
    complete: {description: Every instance (or O(load_test_instances)) loaded., type: bool, returned: always}
    responses: {description: One entry per press., type: list, elements: dict, returned: always}
report_json:
  description: Path of the JSON report.
  returned: when O(report_path) is given and not in check mode
  type: str
report_html:
  description: Path of the HTML report.
  returned: when O(report_path) is given and not in check mode
  type: str
series:
  description: The points of the report's charts (requests/s, latency percentiles, instances), each a list of C([t, value]).
  returned: when O(report_path) is given and not in check mode
  type: dict
would:
  description: What the run would do (check mode only).
  returned: check mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.immersionday.ha_web.plugins.module_utils import loadgen
from ansible_collections.immersionday.ha_web.plugins.module_utils import report as report_utils


def argument_spec():
    return dict(
        url=dict(type="str", required=True),
        path=dict(type="str"),
        method=dict(type="str", default="GET", choices=["GET", "HEAD"]),
        concurrency=dict(type="int", default=8),
        duration_seconds=dict(type="float"),
        requests=dict(type="int"),
        request_timeout=dict(type="float", default=5.0),
        validate_certs=dict(type="bool", default=True),
        zone_probe_path=dict(type="str", default="/api/status"),
        load_test_path=dict(type="str"),
        load_test_seconds=dict(type="int"),
        load_test_max_presses=dict(type="int", default=20),
        load_test_instances=dict(type="int"),
        report_path=dict(type="path"),
        report_from=dict(type="path"),
        capacity_timeline=dict(type="list", elements="dict"),
    )


def run(module):
    p = module.params
    target = loadgen.check_url(p["url"])
    path = loadgen.target_path(target, p["path"])
    has_load = p["duration_seconds"] is not None or p["requests"] is not None
    if p["report_from"]:
        if not p["report_path"]:
            raise loadgen.LoadTestError("report_from needs report_path")
        if has_load or p["load_test_path"]:
            raise loadgen.LoadTestError("report_from renders an earlier report and sends no traffic: drop duration_seconds, requests and load_test_path")
    elif not has_load and not p["load_test_path"]:
        raise loadgen.LoadTestError("give duration_seconds or requests (or both): a load test must be bounded")
    concurrency = p["concurrency"]
    if has_load:
        concurrency = loadgen.check_bounds(p["concurrency"], p["duration_seconds"], p["requests"], p["request_timeout"])
    if p["load_test_path"] and not 0 < p["load_test_max_presses"] <= loadgen.MAX_PRESSES:
        raise loadgen.LoadTestError("load_test_max_presses must be from 1 to %d, got %s" % (loadgen.MAX_PRESSES, p["load_test_max_presses"]))

    result = dict(changed=False, url=p["url"])
    if module.check_mode:
        would = loadgen.plan(target, path, p["method"], concurrency, p["duration_seconds"], p["requests"], p["load_test_path"])
        would["report_path"] = p["report_path"]
        would["send_traffic"] = False
        result["would"] = would
        result["msg"] = "check mode: no request sent"
        return result

    if p["report_from"]:
        data = report_utils.load_report(p["report_from"])
        if "path" in data:  # a report written before the key was renamed
            data["request_path"] = data.pop("path")
    else:
        # Not "path": Ansible adds file attributes (state, mode, owner...) to a result with a top-level "path".
        data = dict(url=p["url"], method=p["method"], request_path=path, concurrency=concurrency)
        if has_load:
            records, elapsed, started, zones, connects = loadgen.run_load(
                target, path=path, method=p["method"], concurrency=concurrency, duration_seconds=p["duration_seconds"],
                requests=p["requests"], request_timeout=p["request_timeout"], validate_certs=p["validate_certs"])
            instances = set(r[4] for r in records if r[4])
            probes = 0
            if p["zone_probe_path"] and instances and not instances.issubset(zones):
                found, probes = loadgen.probe_zones(target, instances, loadgen.target_path(target, p["zone_probe_path"]),
                                                    request_timeout=p["request_timeout"], validate_certs=p["validate_certs"])
                found.update(zones)
                zones = found
            data.update(loadgen.summarize(records, elapsed, started, zones))
            data["connections"] = connects
            data["zone_probes"] = probes
        if p["load_test_path"]:
            press = loadgen.press_load_test(
                target, loadgen.target_path(target, p["load_test_path"]), seconds=p["load_test_seconds"],
                max_presses=p["load_test_max_presses"], expected_instances=p["load_test_instances"],
                request_timeout=p["request_timeout"], validate_certs=p["validate_certs"])
            data["load_test_press"] = press
            if any(r.get("started") for r in press["responses"]):
                result["changed"] = True
            if not press["complete"]:
                module.warn("LOAD TEST is not running on every instance after %d presses: loaded %s, not loaded %s"
                            % (press["presses"], press["loaded"] or "none", press["not_loaded"] or "none"))
    result.update(data)
    if p["report_path"]:
        rep = report_utils.build_report(data, p["capacity_timeline"])
        result["report_json"], result["report_html"] = report_utils.write_report(p["report_path"], rep)
        result["series"] = rep["series"]
        result["changed"] = True
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except loadgen.LoadTestError as e:
        module.fail_json(msg=str(e))
    except (IOError, OSError, ValueError) as e:
        module.fail_json(msg="load_test failed: %s" % e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
