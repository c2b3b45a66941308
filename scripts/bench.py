"""Benchmark: fresh deploy, no-op rerun and teardown of the lab on a fresh embedded cloud.

    .venv/bin/python scripts/bench.py --repeat 3 --json bench/results/bench.json
        [--slow 20] [--stacks 1,4] [--strategy linear|free]

Starts its own moto server on a free loopback port, warms it up (the first image listing is
slow), and puts the test proxy (tests/proxy/awsproxy.py, record mode) in front of it; the
playbooks reach it through AWS_ENDPOINT_URL. Per repetition and variant it runs
`ansible-playbook -i <inventory> playbooks/site.yml` twice (fresh, no-op) and
`playbooks/teardown.yml`, measuring wall time, CPU time of ansible (children's user+sys),
module executions and changed= (callback tests/bench/callback/bench_counter.py), and AWS API
calls (total, mutating) from the proxy's record. Prints a table per run and the medians, and
writes {runs, medians, variants, comparisons, environment} as JSON.

Variants: the instant cloud with one stack (always: `medians` are its figures); `--stacks 1,4`
adds N stacks s1..sN deployed in parallel from one generated inventory; `--slow SCALE` adds
the slow cloud (AWS waits / SCALE) and reports the time it adds to a fresh deploy against the
scaled waits of the critical path.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.proxy.awsproxy import AwsProxy, CRITICAL_PATH, SLOW_DURATIONS, critical_path_seconds, summarize  # noqa: E402

REGION = "ap-northeast-2"
PHASES = (("fresh", "site.yml"), ("noop", "site.yml"), ("teardown", "teardown.yml"))
FIGURES = ("wall_s", "cpu_s", "cloud_cpu_s", "module_runs", "api_calls", "api_mutating", "changed")
# The roles' poll intervals (roles/*/defaults/main.yml), scaled with the slow cloud.
DEFAULT_POLL_INTERVALS = {"web_ami_poll_interval": 10, "alb_poll_interval": 5, "asg_poll_interval": 5}
# Targets of issue 17 (instant cloud, one stack, plain strategy), and of its slow-cloud and
# N-stack comparisons.
TARGETS = {"fresh_wall_s": 20.0, "noop_wall_s": 12.0, "slow_added_ratio": 1.1, "stacks_ratio": 2.0}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_bin(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name) or name


class Moto:
    """A fresh moto server of our own on a free loopback port."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([venv_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("moto server exited; see %s" % log_path)
            try:
                urllib.request.urlopen(self.url + "/moto-api/data.json", timeout=1).read(1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto server did not answer within 30 s")

    def warm_up(self):
        import boto3

        ec2 = boto3.client("ec2", endpoint_url=self.url, region_name=REGION, aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        started = time.monotonic()
        ec2.describe_images(Owners=["amazon"], MaxResults=5)
        return time.monotonic() - started

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def stacks_inventory(directory, count, base):
    """An inventory of `count` stacks s1..sN sharing the local inventory's group_vars."""
    os.makedirs(directory, exist_ok=True)
    hosts = "".join("    s%d:\n      stack_name: s%d\n" % (i, i) for i in range(1, count + 1))
    with open(os.path.join(directory, "hosts.yml"), "w") as handle:
        handle.write("---\nstacks:\n  hosts:\n" + hosts)
    link = os.path.join(directory, "group_vars")
    if not os.path.exists(link):
        os.symlink(os.path.join(base, "group_vars"), link)
    return directory


def process_cpu_s(pid):
    """User + system CPU seconds of a process so far (Linux /proc), None elsewhere."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cloud_cpu_s(moto_pid):
    """CPU the embedded cloud has used: moto's process and this one (the proxy's threads)."""
    moto = process_cpu_s(moto_pid)
    own = resource.getrusage(resource.RUSAGE_SELF)
    return None if moto is None else moto + own.ru_utime + own.ru_stime


def run_playbook(playbook, inventory, env, log_path, moto_pid, extra_vars=None):
    counts_path = log_path + ".counts.json"
    env = dict(env, HA_WEB_BENCH_OUT=counts_path)
    if os.path.exists(counts_path):
        os.remove(counts_path)
    cmd = [venv_bin("ansible-playbook"), "-i", inventory, playbook]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cloud_before = cloud_cpu_s(moto_pid)
    started = time.monotonic()
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cloud_after = cloud_cpu_s(moto_pid)
    cloud = None if cloud_before is None or cloud_after is None else round(cloud_after - cloud_before, 2)
    counts = {}
    if os.path.exists(counts_path):
        with open(counts_path) as handle:
            counts = json.load(handle)
    with open(log_path) as handle:
        text = handle.read()
    recap = text.rsplit("PLAY RECAP", 1)[-1] if "PLAY RECAP" in text else ""
    recap_changed = sum(int(n) for n in re.findall(r"\bchanged=(\d+)", recap)) if recap else None
    return {
        "rc": rc,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cloud_cpu_s": cloud,
        "module_runs": counts.get("module_runs"),
        "changed": counts.get("changed", recap_changed),
        "failed": counts.get("failed"),
        "module_runs_by_action": counts.get("by_action"),
        "slowest_tasks": sorted(counts.get("tasks", []), key=lambda t: -t["seconds"])[:5],
        "log": os.path.relpath(log_path, ROOT) if log_path.startswith(ROOT) else log_path,
    }


def base_env(proxy_url, strategy):
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": proxy_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "ANSIBLE_CALLBACK_PLUGINS": os.pathsep.join(
            p for p in (os.path.join(ROOT, "tests", "bench", "callback"), os.environ.get("ANSIBLE_CALLBACK_PLUGINS")) if p),
        "ANSIBLE_CALLBACKS_ENABLED": ",".join(
            p for p in ("bench_counter", os.environ.get("ANSIBLE_CALLBACKS_ENABLED")) if p),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "HA_WEB_CLOUD_PORT"):
        env.pop(name, None)
    if strategy:
        env["ANSIBLE_STRATEGY"] = strategy
    return env


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def medians_of(runs):
    out = {}
    for phase, _label in PHASES:
        rows = [r for r in runs if r["phase"] == phase]
        if rows:
            out[phase] = {k: median([r[k] for r in rows]) for k in FIGURES}
            out[phase]["runs"] = len(rows)
            out[phase]["failed_runs"] = sum(1 for r in rows if r["rc"] != 0)
    return out


def print_row(row):
    print("%-16s %3s %-8s %7.2f %7.2f %9s %8s %8s %8s %8s %3s" % (
        row["variant"], row["repeat"], row["phase"], row["wall_s"], row["cpu_s"], row["cloud_cpu_s"], row["module_runs"],
        row["api_calls"], row["api_mutating"], row["changed"], row["rc"]), flush=True)


HEADER = "%-16s %3s %-8s %7s %7s %9s %8s %8s %8s %8s %3s" % (
    "variant", "rep", "phase", "wall_s", "cpu_s", "cloud_cpu", "modules", "api", "api_mut", "changed", "rc")


def stacks_comparison(one, many):
    """N stacks against one: the fresh deploys' median wall times and their ratio."""
    one_s, many_s = one["fresh"]["wall_s"], many["fresh"]["wall_s"]
    return {"fresh_one_s": one_s, "fresh_n_s": many_s, "ratio": round(many_s / one_s, 3)}


def machine_speed():
    """Seconds of a fixed pure-Python workload, best of 3: how fast the machine is right now.

    This machine's speed drifts by 1.5x within an hour; runs whose calibration differs do not
    compare, and a run whose start and end differ was not steady either.
    """
    best = None
    for _attempt in range(3):
        start = time.perf_counter()
        total = 0
        for number in range(1000000):
            total += number * number % 7
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return round(best, 3)


def environment(moto_warmup, strategy, calibration):
    def version(module):
        try:
            return __import__(module).__version__
        except Exception:  # pylint: disable=broad-except
            return None

    try:
        from ansible.release import __version__ as ansible_version
    except ImportError:
        ansible_version = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = None
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "ansible_core": ansible_version,
        "boto3": version("boto3"),
        "botocore": version("botocore"),
        "moto": version("moto"),
        "strategy": strategy or os.environ.get("ANSIBLE_STRATEGY") or "ansible.cfg default (ansible.builtin.linear)",
        "moto_warmup_s": round(moto_warmup, 2),
        "calibration_s": calibration,
        "git_commit": commit,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of fresh / no-op / teardown")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--slow", type=float, metavar="SCALE", help="also run on the slow cloud (AWS waits / SCALE)")
    parser.add_argument("--stacks", default="1", help="comma-separated stack counts, e.g. 1,4 (one inventory, in parallel)")
    parser.add_argument("--strategy", choices=("linear", "free"),
                        help="ANSIBLE_STRATEGY (default: ansible.cfg's)")
    parser.add_argument("--playbook-dir", default=os.path.join(ROOT, "playbooks"),
                        help="directory holding site.yml and teardown.yml")
    parser.add_argument("--inventory", default=os.path.join(ROOT, "inventories", "local"),
                        help="inventory of the one-stack variant (its group_vars serve the N-stack ones)")
    parser.add_argument("--logs", help="directory for playbook logs (default: beside --json, else a temp dir)")
    args = parser.parse_args(argv)

    stack_counts = sorted({int(n) for n in args.stacks.split(",") if n.strip()} | {1})
    logs = args.logs or (os.path.join(os.path.dirname(os.path.abspath(args.json)), "logs") if args.json else tempfile.mkdtemp(prefix="bench-"))
    os.makedirs(logs, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="bench-inv-")

    variants = [{"name": "base", "stacks": 1, "slow": None, "inventory": args.inventory}]
    for count in stack_counts:
        if count > 1:
            inv = stacks_inventory(os.path.join(workdir, "stacks%d" % count), count, args.inventory)
            variants.append({"name": "stacks=%d" % count, "stacks": count, "slow": None, "inventory": inv})
    if args.slow:
        # The whole timeline is scaled, our polling included: a 10 s poll on a 300 s AMI wait is
        # 10 s / SCALE here, not 10 s.
        polls = dict((name, round(seconds / args.slow, 3)) for name, seconds in DEFAULT_POLL_INTERVALS.items())
        variants.append({"name": "slow=%g" % args.slow, "stacks": 1, "slow": args.slow, "inventory": args.inventory,
                         "extra_vars": polls})
        # Waits dominate there, as on AWS: do the stacks wait side by side or one after another?
        most = max(stack_counts)
        if most > 1:
            variants.append({"name": "slow=%g,stacks=%d" % (args.slow, most), "stacks": most, "slow": args.slow,
                             "inventory": os.path.join(workdir, "stacks%d" % most), "extra_vars": polls})

    calibration = {"start": machine_speed()}
    moto = Moto(os.path.join(logs, "moto.log"))
    runs = []
    try:
        warm = moto.warm_up()
        print("bench: moto %s (warm-up DescribeImages %.2f s), logs in %s; machine speed %.3f s (fixed workload)"
              % (moto.url, warm, logs, calibration["start"]), flush=True)
        print(HEADER, flush=True)
        for rep in range(1, args.repeat + 1):
            for variant in variants:
                proxy = AwsProxy(moto.url, slow=variant["slow"]).start()
                try:
                    env = base_env(proxy.url, args.strategy)
                    if variant["stacks"] > 8:
                        env["ANSIBLE_FORKS"] = str(variant["stacks"])
                    for phase, playbook in PHASES:
                        mark = len(proxy.record)
                        log_path = os.path.join(logs, "%s-%d-%s.log" % (variant["name"].replace("=", ""), rep, phase))
                        row = {"variant": variant["name"], "stacks": variant["stacks"], "slow": variant["slow"],
                               "repeat": rep, "phase": phase}
                        row.update(run_playbook(os.path.join(args.playbook_dir, playbook), variant["inventory"], env, log_path,
                                                moto.proc.pid, variant.get("extra_vars")))
                        calls = summarize(proxy.record[mark:])
                        row.update({"api_calls": calls["total"], "api_mutating": calls["mutating"],
                                    "api_errors": calls["errors"], "api_by_action": calls["by_action"]})
                        runs.append(row)
                        print_row(row)
                        if row["rc"] != 0:
                            print("  failed (rc %s), see %s; last lines:" % (row["rc"], row["log"]), flush=True)
                            with open(log_path) as handle:
                                sys.stdout.write("".join("    " + line for line in handle.readlines()[-15:]))
                finally:
                    proxy.stop()
    finally:
        moto.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    calibration["end"] = machine_speed()
    by_variant = {v["name"]: medians_of([r for r in runs if r["variant"] == v["name"]]) for v in variants}
    base = by_variant["base"]
    comparisons = {}
    checks = {}
    if base.get("fresh"):
        checks["fresh_wall_s"] = {"value": base["fresh"]["wall_s"], "limit": TARGETS["fresh_wall_s"],
                                  "ok": base["fresh"]["wall_s"] <= TARGETS["fresh_wall_s"]}
    if base.get("noop"):
        checks["noop_wall_s"] = {"value": base["noop"]["wall_s"], "limit": TARGETS["noop_wall_s"],
                                 "ok": base["noop"]["wall_s"] <= TARGETS["noop_wall_s"]}
        checks["noop_changed"] = {"value": base["noop"]["changed"], "limit": 0, "ok": base["noop"]["changed"] == 0}
    if args.slow and base.get("fresh"):
        slow = by_variant["slow=%g" % args.slow]["fresh"]["wall_s"]
        critical = critical_path_seconds(args.slow)
        added = round(slow - base["fresh"]["wall_s"], 2)
        comparisons["slow"] = {
            "scale": args.slow, "fresh_instant_s": base["fresh"]["wall_s"], "fresh_slow_s": slow, "added_s": added,
            "critical_path_waits_s": round(critical, 2), "ratio": round(added / critical, 3),
            "critical_path": ["%s %g s" % (k, SLOW_DURATIONS[k]) for k in CRITICAL_PATH],
        }
        checks["slow_added_ratio"] = {"value": comparisons["slow"]["ratio"], "limit": TARGETS["slow_added_ratio"],
                                      "ok": comparisons["slow"]["ratio"] <= TARGETS["slow_added_ratio"]}
    for variant in variants:
        if variant["slow"] and variant["stacks"] > 1:
            comparisons[variant["name"]] = stacks_comparison(by_variant["slow=%g" % args.slow], by_variant[variant["name"]])
    for count in stack_counts:
        if count > 1 and base.get("fresh"):
            comparisons["stacks=%d" % count] = comparison = stacks_comparison(base, by_variant["stacks=%d" % count])
            checks["stacks%d_ratio" % count] = {"value": comparison["ratio"], "limit": TARGETS["stacks_ratio"],
                                                "ok": comparison["ratio"] <= TARGETS["stacks_ratio"]}

    print("\nmedians (%d repetition%s)" % (args.repeat, "" if args.repeat == 1 else "s"))
    print("%-16s %-8s %7s %7s %9s %8s %8s %8s %8s" % (
        "variant", "phase", "wall_s", "cpu_s", "cloud_cpu", "modules", "api", "api_mut", "changed"))
    for name, phases in by_variant.items():
        for phase, m in phases.items():
            row = (name, phase, m["wall_s"], m["cpu_s"], m["cloud_cpu_s"], m["module_runs"], m["api_calls"], m["api_mutating"],
                   m["changed"])
            print("%-16s %-8s %7s %7s %9s %8s %8s %8s %8s" % row)
    for name, comp in comparisons.items():
        print("%s: %s" % (name, json.dumps(comp)))
    print("machine speed (fixed workload): %.3f s at the start, %.3f s at the end" % (calibration["start"], calibration["end"]))
    for name, check in checks.items():
        print("check %-18s %-6s %s (limit %s)" % (name, "ok" if check["ok"] else "MISSED", check["value"], check["limit"]))

    result = {
        "runs": runs,
        "medians": base,
        "variants": by_variant,
        "comparisons": comparisons,
        "checks": checks,
        "environment": environment(warm, args.strategy, calibration),
    }
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
        print("bench: wrote %s" % args.json)
    return 1 if any(r["rc"] != 0 for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
