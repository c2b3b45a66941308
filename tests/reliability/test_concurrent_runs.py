"""One run per stack at a time (issue 19, finding 3): the stack's lock (module stack_lock, the SSM
parameter /ha_web/<stack>/lock) on one private embedded cloud.

- Two site.yml processes started together on a fresh cloud: both succeed, the second waits for the
  first (its wait names the first's ansible-playbook process), and the account holds exactly one of
  everything (once in CI; three rounds, each on a fresh cloud, with HA_WEB_TEST_SCOPE=full).
- A lock held by a run of another machine stops a run that waits less than its expiry, with a
  message naming the holder and the expiry, before any change.
- The lock of a run of another machine that died is taken over once it expires, not later.
- The lock of a run killed here (SIGKILL of its whole session) does not block the next run at all:
  its ansible-playbook process is gone.
- Bad lock settings (not whole numbers of seconds) stop the run before the lock, naming each variable.

The tests run in order; the later ones rerun the stack the first one deployed.
"""
import getpass
import json
import re
import socket
import time

import rel_env as R

STACK = "lab"
LOCK = "/ha_web/%s/lock" % STACK
ROUNDS = 3 if R.FULL else 1
ME = "%s@%s" % (getpass.getuser(), socket.gethostname())
# Short polls: the waiting run retries every few seconds (each attempt is a module execution,
# whose CPU the deploying run needs on a small machine).
POLL = 3
GHOST = {"kind": "immersionday.ha_web/stack_lock", "token": "t-ghost", "user": "ghost", "host": "elsewhere", "pid": 4242,
         "pid_start": "1", "boot": "b-elsewhere", "pidns": "pid:[1]", "purpose": "site.yml", "since": "x", "expires": "y"}
RETRY = re.compile(r"^FAILED - RETRYING: \[%s\]: Wait for the lock of stack %s \(up to \d+ s\), held by (\S+) \(pid (\d+), (\S+)\)"
                   % (STACK, STACK), re.M)


def ssm(cloud):
    return R.client(cloud.url, "ssm")


def plant(cloud, ttl):
    """A lock taken by a run of another machine (its process is not ours to see)."""
    value = json.dumps(dict(GHOST, ttl=ttl))
    ssm(cloud).put_parameter(Name=LOCK, Value=value, Type="String", Overwrite=True)
    return value


def lock_value(cloud):
    try:
        return ssm(cloud).get_parameter(Name=LOCK)["Parameter"]["Value"]
    except ssm(cloud).exceptions.ParameterNotFound:
        return None


def finish(process, timeout=900):
    process.wait(timeout)
    process.log.close()
    return R.tail(process.log_path, 10 ** 6)


def by_stack_tag(url, stack):
    """Live resources carrying the exact stack tag, by kind (the builder instance, terminated, and
    deleted resources whose tags moto keeps, are not live)."""
    live = R.inventory(url)
    ids = set(i for kind in live.values() for i in kind)
    tags = R.client(url, "ec2").describe_tags(Filters=[{"Name": "key", "Values": ["ha_web:stack"]}])["Tags"]
    found = {}
    for tag in tags:
        if tag["Value"] == stack and tag["ResourceId"] in ids:
            found[tag["ResourceType"]] = found.get(tag["ResourceType"], 0) + 1
    mine = R.inventory_of_stack(url, stack)
    found["load-balancer-or-target-group"] = len(mine["elbv2"])
    found["auto-scaling-group"] = len(mine["groups"])
    return found


# A deployed stack, by stack tag: the EC2 resources (NAT gateway and Elastic IP as moto files their
# tags), the load balancer and target group, the group.
ONE_STACK_BY_TAG = {
    "vpc": 1, "subnet": 4, "internet-gateway": 1, "route-table": 2, "security-group": 2, "nat-gateway": 1, "vpc-elastic-ip": 1,
    "image": 1, "snapshot": 1, "launch-template": 1, "instance": 2,
    "load-balancer-or-target-group": 2, "auto-scaling-group": 1,
}


def test_concurrent_deploys_of_one_stack_end_with_one_of_everything(cloud, tmp_path):
    for round_ in range(1, ROUNDS + 1):
        if round_ > 1:
            R.reset(cloud)
        extra = ["-e", json.dumps({"ha_web_lock_poll_interval": POLL, "ha_web_lock_wait": 600})]
        first = R.start(cloud, "site.yml", *extra, log_path=str(tmp_path / ("a%d.log" % round_)))
        second = R.start(cloud, "site.yml", *extra, log_path=str(tmp_path / ("b%d.log" % round_)))
        logs = {first.pid: finish(first), second.pid: finish(second)}
        assert (first.returncode, second.returncode) == (0, 0), "\n\n".join(log[-3000:] for log in logs.values())
        waited = dict((pid, RETRY.findall(log)) for pid, log in logs.items())
        waiters = [pid for pid, lines in waited.items() if lines]
        assert len(waiters) == 1, "exactly one run waits for the other: %s" % waited
        holder_pid = [pid for pid in logs if pid not in waiters][0]
        who, pid, purpose = waited[waiters[0]][0]
        assert (who, int(pid), purpose) == (ME, holder_pid, "site.yml"), "the wait names the other run's ansible-playbook process"
        assert R.counts(R.added(cloud.baseline, R.inventory(cloud.url))) == R.ONE_STACK
        assert by_stack_tag(cloud.url, STACK) == ONE_STACK_BY_TAG
        assert lock_value(cloud) is None, "both runs released the lock"
        print("round %d: run %d deployed, run %d waited %d polls" % (round_, holder_pid, waiters[0], len(waited[waiters[0]])))


def test_run_that_waits_less_than_the_holders_expiry_stops_naming_it_before_any_change(cloud):
    planted = plant(cloud, ttl=3600)
    try:
        run = R.run(cloud, "site.yml", "-e", json.dumps({"ha_web_lock_wait": 2, "ha_web_lock_poll_interval": 1, "asg_max_size": 5}))
        assert run.rc != 0
        assert re.search(r"stack lab is locked by another run: ghost@elsewhere \(pid 4242, site.yml\) since \S+Z, "
                         r"expires \S+Z \(in \d+ s\)\. It is released when that run ends", run.output), run.output[-3000:]
        assert "delete the SSM parameter /ha_web/lab/lock (region ap-northeast-2)" in run.output
        assert lock_value(cloud) == planted, "another run's lock is never released or changed"
        group = R.client(cloud.url, "autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["Web-ASG"])["AutoScalingGroups"][0]
        assert group["MaxSize"] == 4, "asg_max_size=5 was not applied: the run stopped before any change"
    finally:
        ssm(cloud).delete_parameter(Name=LOCK)


def test_expired_lock_of_another_machine_is_taken_over_at_its_expiry(cloud, tmp_path):
    """The run waits (the ghost's lock holds), then the ghost's lock is renewed with 6 s to live: the
    run takes it over no sooner than its expiry and no later than its expiry plus one poll and the
    time of one attempt (a module execution, slow on a busy machine)."""
    ttl, poll = 6, 2
    plant(cloud, ttl=3600)
    process = R.start(cloud, "site.yml", "-e", json.dumps({"ha_web_lock_wait": 300, "ha_web_lock_poll_interval": poll}),
                      log_path=str(tmp_path / "waiting.log"))
    deadline = time.monotonic() + 180
    while not RETRY.search(R.tail(process.log_path, 10 ** 6)) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    renewed = plant(cloud, ttl=ttl)
    planted_at = time.monotonic()
    while lock_value(cloud) == renewed and process.poll() is None and time.monotonic() < planted_at + 120:
        time.sleep(0.1)
    taken_after = time.monotonic() - planted_at
    output = finish(process)
    assert process.returncode == 0, output[-3000:]
    retries = RETRY.findall(output)
    assert retries and retries[0][0] == "ghost@elsewhere", "it waited while the lock held"
    assert ttl - 0.5 <= taken_after <= ttl + poll + 15, "taken over %.1f s after a renewal with %d s to live" % (taken_after, ttl)
    assert "Removed the stale lock of stack lab (expired): ghost@elsewhere (pid 4242, site.yml)" in output.replace("\n", " ")
    assert lock_value(cloud) is None
    print("the ghost's lock (%d s to live) was taken over after %.1f s" % (ttl, taken_after))


def test_lock_of_a_run_killed_here_does_not_block_the_next_run(cloud, tmp_path):
    process = R.start(cloud, "site.yml", "-e", json.dumps({"ha_web_lock_ttl": 30}), log_path=str(tmp_path / "killed.log"))
    deadline, value = time.monotonic() + 120, None
    while value is None and time.monotonic() < deadline and process.poll() is None:
        value = lock_value(cloud)
        time.sleep(0.1)
    alive = R.kill_group(process)
    assert value and json.loads(value)["pid"] == process.pid, R.tail(process.log_path)
    assert process.returncode == -9 and not alive
    assert lock_value(cloud) == value, "the killed run left its lock"
    started = time.monotonic()
    run = R.run(cloud, "site.yml", "-e", json.dumps({"ha_web_lock_wait": 120, "ha_web_lock_poll_interval": 1}))
    assert run.rc == 0 and run.changed() == 0, run.output[-3000:]
    assert RETRY.findall(run.output) == [], "it did not wait for the killed run's lock"
    assert time.monotonic() - started < 120
    assert "Removed the stale lock of stack lab (holder gone)" in run.output.replace("\n", " ")
    assert lock_value(cloud) is None
    print("the next run took the killed run's lock at once: %.1f s" % run.seconds)


def test_bad_lock_settings_stop_before_the_lock(cloud):
    run = R.run(cloud, "site.yml", "-e", "ha_web_lock_wait=abc", "-e", json.dumps({"ha_web_lock_ttl": 0, "ha_web_lock_poll_interval": 1.5}))
    assert run.rc != 0
    assert ('ha_web_lock_ttl "0" must be a whole number of seconds, at least 1; ha_web_lock_wait "abc" must be a whole number '
            'of seconds; ha_web_lock_poll_interval "1.5" must be a whole number of seconds, at least 1') in " ".join(run.output.split())
    assert "TASK [Take the lock of stack lab]" not in run.output
    assert lock_value(cloud) is None
