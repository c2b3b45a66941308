"""Benchmark of the load generator (module load_test) against the sample app on loopback.

    .venv/bin/python scripts/loadgen_bench.py [--seconds 10] [--concurrency 1,4,8] [--repeat 3]

Starts the sample application (roles/web_ami/files/ha_web_app.py) on 127.0.0.1 with a fake
instance metadata service, then runs plugins/module_utils/loadgen.run_load in this process for
each concurrency. Prints per run: requests/s, latency p50/p99, errors, and the CPU the generator
spent (this process: user + sys) and the app spent, as CPU seconds and per 1,000 requests.
Traffic goes to 127.0.0.1 only.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from ansible_collections.immersionday.ha_web.plugins.module_utils import loadgen  # noqa: E402
from support.fake_imds import FakeIMDS  # noqa: E402

APP = os.path.join(ROOT, "roles", "web_ami", "files", "ha_web_app.py")


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_of(pid):
    """user + sys CPU seconds of a running process, from /proc."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start_app(imds_url):
    port = free_port()
    proc = subprocess.Popen([sys.executable, APP, "--port", str(port), "--bind", "127.0.0.1", "--imds-url", imds_url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as reply:  # loopback only
                if reply.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit("the sample app did not come up on %s" % url)
        time.sleep(0.05)


def one_run(url, concurrency, seconds, app_pid):
    gen0, app0 = own_cpu(), cpu_of(app_pid)
    target = loadgen.check_url(url + "/")
    records, elapsed, started, zones, connects = loadgen.run_load(target, path="/", concurrency=concurrency, duration_seconds=seconds)
    gen_cpu, app_cpu = own_cpu() - gen0, cpu_of(app_pid) - app0
    summary = loadgen.summarize(records, elapsed, started, zones)
    total = summary["requests"]
    return {
        "concurrency": concurrency,
        "seconds": summary["elapsed_seconds"],
        "requests": total,
        "requests_per_second": summary["rps"],
        "p50_ms": summary["latency_ms"]["p50"],
        "p99_ms": summary["latency_ms"]["p99"],
        "errors": summary["errored"],
        "connections": connects,
        "generator_cpu_s": round(gen_cpu, 2),
        "generator_cpu_s_per_1000": round(gen_cpu * 1000.0 / total, 3) if total else None,
        "app_cpu_s": round(app_cpu, 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    parser.add_argument("--concurrency", default="1,4,8", help="comma-separated concurrencies")
    parser.add_argument("--repeat", type=int, default=1, help="runs per concurrency")
    parser.add_argument("--json", metavar="FILE", help="also write the runs as JSON")
    args = parser.parse_args(argv)

    imds = FakeIMDS(instance_id="i-0bench0000000000a", availability_zone="ap-northeast-2a").start()
    app, url = start_app(imds.url)
    runs = []
    try:
        columns = ("concurrency", "requests", "req/s", "p50_ms", "p99_ms", "errors", "gen_cpu_s", "gen_cpu/1000", "app_cpu_s")
        print("%11s %8s %9s %8s %8s %7s %9s %13s %8s" % columns)
        for concurrency in [int(c) for c in args.concurrency.split(",")]:
            for _repeat in range(args.repeat):
                run = one_run(url, concurrency, args.seconds, app.pid)
                runs.append(run)
                print("%11d %8d %9.1f %8s %8s %7d %9.2f %13s %8.2f" % (
                    run["concurrency"], run["requests"], run["requests_per_second"], run["p50_ms"], run["p99_ms"],
                    run["errors"], run["generator_cpu_s"], run["generator_cpu_s_per_1000"], run["app_cpu_s"]))
    finally:
        app.terminate()
        app.wait(10)
        imds.stop()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"runs": runs, "cpus": os.cpu_count()}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
