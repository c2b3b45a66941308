"""The execution strategy of ansible.cfg runs the stacks of one inventory side by side.

Two things made mitogen's strategy run them one after the other:
- hosts whose connection looks the same share one interpreter, which runs their modules in turn
  (mitogen #496): immersionday.ha_web.mitogen_linear gives each host a process of its own;
- mitogen pins its processes to CPUs; on 2 CPUs the controller, the workers and every module
  interpreter share one: immersionday.ha_web.mitogen_linear leaves scheduling to the kernel.
And its module processes are forks of the controller (through mitogen's multiplexer), which has
Ansible loaded, not new interpreters that mitogen sends every module as source; its workers
load compiled templates from the template cache instead of compiling them again.
The shell's parent is the process that ran the module, so two hosts report two pids when they
do not share it; a lookup runs in the worker.
"""

import json
import os
import subprocess

import pytest

from lab_env import BIN, ROOT

PLAY = """
- hosts: stacks
  gather_facts: false
  tasks:
    - name: Report the interpreter that runs this host's modules and the CPUs it may use
      ansible.builtin.shell: echo $PPID; grep Cpus_allowed_list /proc/$PPID/status; tr '\\0' ' ' < /proc/$PPID/cmdline
      changed_when: false
      register: module
    - name: Warn and deprecate from a module
      warner:
        host: "{{ inventory_hostname }}"
    - name: Write it down, with the CPUs the worker may use
      ansible.builtin.copy:
        content: "{{ {'module': module.stdout_lines, 'worker': lookup('ansible.builtin.pipe', 'grep Cpus_allowed_list /proc/self/status')} | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
"""


WARNER = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"host": {"type": "str"}})
    module.warn("a warning of the module on " + module.params["host"])
    module.deprecate("a deprecation of the module on " + module.params["host"], version="9.0.0", collection_name="immersionday.ha_web")
    module.exit_json(changed=False)


if __name__ == "__main__":
    main()
"""


@pytest.fixture
def two_stacks(tmp_path):
    """An inventory of two stacks that uses the embedded cloud's group_vars."""
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "warner.py").write_text(WARNER)
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text("stacks:\n  hosts:\n    s1: {stack_name: s1}\n    s2: {stack_name: s2}\n")
    os.symlink(os.path.join(ROOT, "inventories", "local", "group_vars"), str(inventory / "group_vars"))
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    return inventory, play, tmp_path


def cpu_list(line):
    """{0, 1} from 'Cpus_allowed_list:\t0-1'."""
    cpus = set()
    for part in line.split(":", 1)[1].strip().split(","):
        first, _dash, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def run_play(two_stacks, strategy=None, template_cache=None):
    """Per host: the module interpreter's pid and CPUs, and the worker's CPUs."""
    inventory, play, out = two_stacks
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LIBRARY=str(out / "library"), ANSIBLE_DEPRECATION_WARNINGS="1")
    if template_cache:
        env["HA_WEB_TEMPLATE_CACHE"] = str(template_cache)
    env.pop("ANSIBLE_STRATEGY", None)
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), str(play),
                                "-e", json.dumps({"out_dir": str(out)})],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    report = {"output": completed.stdout + completed.stderr}
    for host in ("s1", "s2"):
        seen = json.loads((out / ("%s.json" % host)).read_text())
        pid, module_cpus, command_line = seen["module"]
        report[host] = {"pid": int(pid), "module_cpus": cpu_list(module_cpus), "worker_cpus": cpu_list(seen["worker"]),
                        "command_line": command_line}
    return report


def test_the_default_strategy_gives_each_stack_its_own_interpreter_and_every_cpu(two_stacks):
    report = run_play(two_stacks)
    assert report["s1"]["pid"] != report["s2"]["pid"]
    ours = os.sched_getaffinity(0)
    for host in ("s1", "s2"):
        assert report[host]["module_cpus"] == ours, host
        assert report[host]["worker_cpus"] == ours, host
        # A fork of the controller keeps its command line; mitogen names a new interpreter "python(mitogen:...)".
        assert "ansible-playbook" in report[host]["command_line"], report[host]


def test_a_module_run_by_the_default_strategy_reports_its_warnings_and_deprecations(two_stacks):
    # The module process is a fork of the controller: ansible.module_utils must not report to
    # the controller's display from there (the messages would be lost), but into the result.
    output = run_play(two_stacks)["output"]
    for host in ("s1", "s2"):
        assert "[WARNING]: a warning of the module on %s" % host in output, output[-3000:]
        assert "[DEPRECATION WARNING]: a deprecation of the module on %s" % host in output, output[-3000:]


def cached_code(directory):
    """name -> when it was written, of each file of the template cache."""
    return dict((name, os.stat(os.path.join(d, name)).st_mtime_ns) for d, _s, names in os.walk(str(directory)) for name in names)


def test_the_default_strategy_compiles_each_template_once_into_its_cache(two_stacks):
    cache = two_stacks[2] / "template-cache"
    first = run_play(two_stacks, template_cache=cache)
    written = cached_code(cache)
    assert written  # the play's templates and conditionals, by two hosts' workers
    again = run_play(two_stacks, template_cache=cache)
    assert cached_code(cache) == written  # loaded, not compiled and written again
    for host in ("s1", "s2"):
        assert again[host]["worker_cpus"] == first[host]["worker_cpus"]
        assert "a warning of the module on %s" % host in again["output"]


def test_upstream_mitogen_pins_modules_to_fewer_cpus_which_is_why_we_wrap_it(two_stacks):
    # When this fails, mitogen stopped pinning and plugins/strategy/mitogen_linear.py can go.
    assert len(os.sched_getaffinity(0)) >= 2, "pinning is invisible on one CPU"
    report = run_play(two_stacks, "mitogen_linear")
    assert report["s1"]["module_cpus"] < os.sched_getaffinity(0)
    assert "(mitogen:" in report["s1"]["command_line"]  # and starts a new interpreter


def test_the_plain_strategy_runs_with_the_same_inventory(two_stacks):
    report = run_play(two_stacks, "linear")
    assert report["s1"]["module_cpus"] == os.sched_getaffinity(0)
