"""The inventories give each stack its own Python interpreter under mitogen's strategy.

Mitogen runs the modules of every host that shares an interpreter line in one process, one after
the other: two stacks deployed from one inventory would wait for each other's waits. The shell's
parent is the process that ran the module, so two hosts report two pids when they do not share.
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
    - name: Report the pid of the interpreter that runs this host's modules
      ansible.builtin.shell: echo $PPID
      changed_when: false
      register: interpreter
    - name: Write it down
      ansible.builtin.copy:
        content: "{{ interpreter.stdout }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}"
"""


@pytest.fixture
def two_stacks(tmp_path):
    """An inventory of two stacks that uses the embedded cloud's group_vars."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.yml").write_text("stacks:\n  hosts:\n    s1: {stack_name: s1}\n    s2: {stack_name: s2}\n")
    os.symlink(os.path.join(ROOT, "inventories", "local", "group_vars"), str(inventory / "group_vars"))
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    return inventory, play, tmp_path


def interpreter_pids(two_stacks, strategy):
    inventory, play, out = two_stacks
    env = dict(os.environ, ANSIBLE_STRATEGY=strategy, ANSIBLE_NOCOLOR="1")
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), str(play),
                                "-e", json.dumps({"out_dir": str(out)})],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    return [(out / host).read_text().strip() for host in ("s1", "s2")]


def test_mitogen_gives_each_stack_its_own_interpreter(two_stacks):
    first, second = interpreter_pids(two_stacks, "mitogen_linear")
    assert first.isdigit() and second.isdigit()
    assert first != second


def test_the_plain_strategy_runs_with_the_same_inventory(two_stacks):
    first, second = interpreter_pids(two_stacks, "linear")
    assert first.isdigit() and second.isdigit()
