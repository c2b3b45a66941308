# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts module executions, changed results and per-task time for scripts/bench.py.

Enabled by the benchmark only: ANSIBLE_CALLBACK_PLUGINS=tests/bench/callback,
ANSIBLE_CALLBACKS_ENABLED=bench_counter, HA_WEB_BENCH_OUT=<file.json> (written at the end).
A module execution is an ok/changed/failed result (each loop item counts), not skipped, of a
task whose action runs a module: set_fact, assert, debug, include_* and similar are left out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: bench_counter
type: aggregate
short_description: counts module executions for the benchmark
description:
  - Writes the number of module executions, changed results and per-task durations as JSON to
    the file named by the environment variable E(HA_WEB_BENCH_OUT).
requirements:
  - enable in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time
from collections import Counter

from ansible.plugins.callback import CallbackBase

# Actions that run no module on the target (controller-side only).
NOT_MODULES = frozenset([
    "set_fact", "assert", "debug", "fail", "meta", "include_tasks", "import_tasks", "include_role",
    "import_role", "include_vars", "include", "pause", "add_host", "group_by", "set_stats",
    "import_playbook", "validate_argument_spec", "noop",
])


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_counter"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.started = time.time()
        self.task_started = {}
        self.module_runs = 0
        self.by_action = Counter()
        self.results = Counter()
        self.tasks = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.task_started[task._uuid] = time.time()

    def v2_playbook_on_handler_task_start(self, task):
        self.task_started[task._uuid] = time.time()

    @staticmethod
    def _short(action):
        return (action or "").rsplit(".", 1)[-1]

    def _count(self, result, status):
        task = result._task
        action = self._short(task.action)
        res = result._result or {}
        items = res.get("results") if isinstance(res.get("results"), list) and (task.loop or task.loop_with) else None
        if items is not None:
            runs = sum(1 for item in items if isinstance(item, dict) and not item.get("skipped"))
        else:
            runs = 1
        if action in NOT_MODULES:
            runs = 0
        self.module_runs += runs
        if runs:
            self.by_action[action] += runs
        self.results[status] += 1
        if res.get("changed"):
            self.results["changed"] += 1
        start = self.task_started.get(task._uuid, self.started)
        self.tasks.append({
            "name": task.get_name(),
            "action": action,
            "host": result._host.get_name(),
            "status": status,
            "changed": bool(res.get("changed")),
            "module_runs": runs,
            "seconds": round(time.time() - start, 3),
        })

    def v2_runner_on_ok(self, result):
        self._count(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self.results["skipped"] += 1

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        summary = {h: stats.summarize(h) for h in hosts}
        out = {
            "module_runs": self.module_runs,
            "changed": sum(s["changed"] for s in summary.values()),
            "failed": sum(s["failures"] + s["unreachable"] for s in summary.values()),
            "recap": summary,
            "results": dict(self.results),
            "by_action": dict(sorted(self.by_action.items())),
            "tasks": self.tasks,
            "seconds": round(time.time() - self.started, 3),
        }
        path = os.environ.get("HA_WEB_BENCH_OUT")
        if path:
            with open(path, "w") as handle:
                json.dump(out, handle, indent=1)
