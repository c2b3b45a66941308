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
        for key in ("wall_s", "cpu_s", "module_runs", "api_calls", "api_mutating", "changed"):
            assert key in median, (phase, key)
    assert figures["medians"]["noop"]["changed"] == 0
    assert figures["medians"]["fresh"]["changed"] > 0
    assert figures["medians"]["fresh"]["api_calls"] > 0 and figures["medians"]["noop"]["api_calls"] > 0
    assert figures["medians"]["noop"]["api_mutating"] == 0
    assert figures["medians"]["teardown"]["changed"] > 0
