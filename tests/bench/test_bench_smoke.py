"""CI's bounded run of the benchmark: one repetition, checked for shape, not for speed.

Speed is judged by `make bench` (a benchmark prints figures; a timed test would be flaky)."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_one_repetition_reports_every_figure(tmp_path):
    report = tmp_path / "bench.json"
    completed = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench.py"), "--repeat", "1", "--json", str(report)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:]
    figures = json.loads(report.read_text())
    assert {"runs", "medians", "environment"} <= set(figures)
    for phase in ("fresh", "noop", "teardown"):
        median = figures["medians"][phase]
        for key in ("wall_s", "cpu_s", "cloud_cpu_s", "module_runs", "api_calls", "api_mutating", "changed"):
            assert key in median, (phase, key)
    assert figures["medians"]["noop"]["changed"] == 0
    assert figures["medians"]["fresh"]["changed"] > 0
    assert figures["medians"]["fresh"]["api_calls"] > 0 and figures["medians"]["noop"]["api_calls"] > 0
    # A no-op changes nothing of the stack: its only writes are the stack's lock, taken and released.
    assert figures["medians"]["noop"]["api_mutating"] == 2
    assert figures["medians"]["fresh"]["cloud_cpu_s"] > 0  # moto's and the proxy's CPU were read
    assert figures["medians"]["teardown"]["changed"] > 0
    # Runs compare only when the machine ran at the same speed: the calibration says whether it did.
    assert all(figures["environment"]["calibration_s"][when] > 0 for when in ("start", "end"))


STAND_IN_PLAY = """
- hosts: stacks
  gather_facts: false
  tasks:
    - name: Stand in for the lab
      ansible.builtin.debug:
        msg: "{{ stack_name }}"
"""


def test_slow_and_stacks_together_add_the_slow_multi_stack_comparison(tmp_path):
    """The variants' wiring, on stand-in playbooks (no AWS call): fast, and independent of the lab."""
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    for name in ("site.yml", "teardown.yml"):
        (playbooks / name).write_text(STAND_IN_PLAY)
    report = tmp_path / "bench.json"
    completed = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench.py"), "--repeat", "1", "--slow", "20",
                                "--stacks", "1,2", "--playbook-dir", str(playbooks), "--json", str(report)],
                               cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:]
    figures = json.loads(report.read_text())
    assert set(figures["variants"]) == {"base", "stacks=2", "slow=20", "slow=20,stacks=2"}
    assert set(figures["comparisons"]) == {"slow", "stacks=2", "slow=20,stacks=2"}
    both = figures["comparisons"]["slow=20,stacks=2"]
    assert both["fresh_one_s"] == figures["variants"]["slow=20"]["fresh"]["wall_s"]
    assert both["fresh_n_s"] == figures["variants"]["slow=20,stacks=2"]["fresh"]["wall_s"]
    hosts = {row["variant"]: row["stacks"] for row in figures["runs"]}
    assert hosts["slow=20,stacks=2"] == 2 and hosts["slow=20"] == 1
