# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run per stack at a time (the module stack_lock): a lock kept in the AWS account itself, so
that it holds across machines and AWX nodes.

The lock is the SSM parameter /ha_web/<stack_name>/lock of the stack's region. Taking it is one
PutParameter with Overwrite=False: SSM creates the parameter for exactly one caller and answers
ParameterAlreadyExists to the others. Its value (JSON) names the holder (user@host, the
ansible-playbook process, what it runs, since when) and its time to live. Releasing it deletes the
parameter only when it still carries the holder's own token.

A lock is stale when its time to live has passed (judged on AWS's clock: the parameter's
LastModifiedDate against the Date of the answer, so that no machine's clock matters) or when its
holder ran on this machine and its ansible-playbook process is gone (killed, interrupted). A stale
lock is broken under a marker, the parameter <lock>-break-<stale token> created without overwrite:
only the run that created the marker deletes the stale value (after reading it again), so two runs
breaking the same stale lock at once never delete each other's new lock. Then it creates its own
lock without overwrite like any taker; if that fails, another run won.

Small functions taking a boto3 SSM client wrapped by stack.aws_client (every call aws_retry=True).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import getpass
import json
import os
import socket
import time
import uuid

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

# The parameter's name; a stack name is letters, digits and hyphens (names.stack_name_errors).
PARAMETER = "/ha_web/%s/lock"
BREAK_SUFFIX = "-break-"
# A marker outlives any break (two calls, retried on throttling for at most a few minutes).
MARKER_TTL = 600
# A marker that is itself stale is broken the same way, one level down, at most this deep.
MAX_BREAK_DEPTH = 2
# A holder's own lock closer than this to its expiry is left to expire rather than deleted: another
# run may be breaking it at this moment, and a delete that lands after its new lock would remove it.
RELEASE_MARGIN = 60
DESCRIPTION = "Lock of an immersionday.ha_web stack: the run that holds it changes the stack (see its value)."
VALUE_KIND = "immersionday.ha_web/stack_lock"


class SameRun(Exception):
    """The lock is held by the ansible-playbook process that asks for it again."""


def parameter_name(stack_name):
    return PARAMETER % stack_name


def iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------- machine

class Machine(object):
    """Who runs this module, and whether a process of this machine still runs, from /proc (Linux).

    The holder of a lock is the ansible-playbook process (its pid and start time), on a boot of a
    machine (boot id) in a pid namespace: two containers of one host have different pid namespaces,
    so a process is judged gone only by a run that sees the same processes. Elsewhere (no /proc)
    nothing is known and locks expire by their time to live only.
    """

    def __init__(self, proc="/proc", pid=None):
        self.proc = proc
        self.pid = os.getpid() if pid is None else pid

    def _read(self, *path):
        try:
            with open(os.path.join(self.proc, *path), "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except (IOError, OSError):
            return None

    def stat(self, pid):
        """(ppid, start time in clock ticks since boot) of a process, None once it is gone (a zombie,
        ended but not reaped by its parent, is gone)."""
        text = self._read(str(pid), "stat")
        if not text or ")" not in text:
            return None
        fields = text.rsplit(")", 1)[1].split()
        try:
            return None if fields[0] in ("Z", "X") else (int(fields[1]), fields[19])
        except (IndexError, ValueError):
            return None

    def cmdline(self, pid):
        text = self._read(str(pid), "cmdline")
        return text.split("\0") if text else []

    def playbook_process(self):
        """(pid, start) of the ansible-playbook process that runs this module, or (None, None).

        The module's ancestors are a shell or two, a worker (forked from ansible-playbook: same
        command line) and ansible-playbook itself: the first ancestor whose command runs an
        ansible-* program, then up while the parent has the same command line.
        """
        pid, seen = self.pid, 0
        while pid and pid > 1 and seen < 32:
            seen += 1
            stat = self.stat(pid)
            if stat is None:
                return None, None
            argv = self.cmdline(pid)
            if any(os.path.basename(arg).startswith("ansible") for arg in argv[:2]):
                parent = self.stat(stat[0])
                while parent is not None and stat[0] > 1 and self.cmdline(stat[0]) == argv:
                    pid, stat = stat[0], parent
                    parent = self.stat(stat[0])
                return pid, stat[1]
            pid = stat[0]
        return None, None

    def boot_id(self):
        return (self._read("sys", "kernel", "random", "boot_id") or "").strip() or None

    def pid_namespace(self):
        try:
            return os.readlink(os.path.join(self.proc, "self", "ns", "pid"))
        except (IOError, OSError):
            return None

    def identity(self):
        pid, start = self.playbook_process()
        try:
            user = getpass.getuser()
        except (KeyError, OSError, ImportError):
            user = str(os.getuid())
        return {"user": user, "host": socket.gethostname(), "pid": pid, "pid_start": start,
                "boot": self.boot_id(), "pidns": self.pid_namespace()}

    def sees(self, holder, me):
        """Whether this run sees the holder's processes (same boot of the same machine, same pid namespace)."""
        return bool(holder.get("pid") and me.get("boot") and me.get("pidns")
                    and holder.get("boot") == me["boot"] and holder.get("pidns") == me["pidns"])

    def is_gone(self, holder, me):
        """The holder's ansible-playbook process is known to have ended (not merely unseen)."""
        if not self.sees(holder, me):
            return False
        stat = self.stat(holder["pid"])
        return stat is None or stat[1] != holder.get("pid_start")

    def is_me(self, holder, me):
        return self.sees(holder, me) and holder.get("pid") == me.get("pid") and holder.get("pid_start") == me.get("pid_start")


# ---------------------------------------------------------------------------------------- values

def new_holder(identity, purpose, ttl, clock=time.time):
    """The value a taker writes: who it is, what it runs, a fresh token and the time to live."""
    now = clock()
    holder = dict(identity)
    holder.update(kind=VALUE_KIND, token=uuid.uuid4().hex, purpose=purpose or "", ttl=int(ttl),
                  since=iso(now), expires=iso(now + int(ttl)))
    return holder


def encode(holder):
    return json.dumps(holder, sort_keys=True, separators=(",", ":"))


def decode(value):
    """The holder a value names, None when the value is not a lock of this collection."""
    try:
        holder = json.loads(value)
    except ValueError:
        return None
    if not isinstance(holder, dict) or holder.get("kind") != VALUE_KIND or not holder.get("token"):
        return None
    try:
        holder["ttl"] = int(holder.get("ttl"))
    except (TypeError, ValueError):
        return None
    return holder


def server_time(response, clock=time.time):
    """AWS's clock: the Date header of an answer (the local clock when an answer has none)."""
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    date = headers.get("date")
    if date:
        try:
            return email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            pass
    return clock()


def epoch(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    return float(value)


class Lock(object):
    """The parameter as one GetParameter saw it."""

    def __init__(self, name, value, modified, now):
        self.name = name
        self.value = value
        self.holder = decode(value)
        self.modified = modified
        self.now = now

    @property
    def token(self):
        return self.holder["token"] if self.holder else None

    @property
    def expires_at(self):
        return self.modified + self.holder["ttl"] if self.holder else None

    @property
    def remaining(self):
        """Seconds left before it expires (AWS's clock), None when it is not a lock of ours."""
        return self.expires_at - self.now if self.holder else None

    def facts(self):
        return holder_facts(self.holder, self.value, since=self.modified, expires=self.expires_at, remaining=self.remaining)

    def describe(self):
        return self.facts()["description"]


def holder_facts(holder, value=None, since=None, expires=None, remaining=None):
    """What the module returns about a holder (without its token: it is the holder's to release)."""
    if holder is None:
        return {"description": "a value that is not a lock of immersionday.ha_web (%s)" % (value or "")[:200], "foreign": True}
    since = iso(since) if since is not None else holder.get("since")
    expires = iso(expires) if expires is not None else holder.get("expires")
    who = "%s@%s" % (holder.get("user"), holder.get("host"))
    how = ", ".join(part for part in ("pid %s" % holder["pid"] if holder.get("pid") else "", holder.get("purpose") or "") if part)
    text = "%s%s since %s, expires %s" % (who, " (%s)" % how if how else "", since, expires)
    if remaining is not None:
        text += " (in %d s)" % max(0, remaining) if remaining > 0 else " (expired)"
    facts = dict((key, holder.get(key)) for key in ("user", "host", "pid", "purpose", "ttl"))
    facts.update(since=since, expires=expires, description=text, foreign=False)
    if remaining is not None:
        facts["expires_in"] = int(max(0, remaining))
    return facts


# ---------------------------------------------------------------------------------------- calls

def read(ssm, name, clock=time.time):
    """The lock as it is now, None when there is none."""
    try:
        response = ssm.get_parameter(Name=name, aws_retry=True)
    except is_boto3_error_code("ParameterNotFound"):
        return None
    parameter = response["Parameter"]
    return Lock(name, parameter["Value"], epoch(parameter["LastModifiedDate"]), server_time(response, clock))


def create(ssm, name, holder):
    """Create the parameter unless it exists (SSM decides, for exactly one caller). True if created."""
    try:
        ssm.put_parameter(Name=name, Value=encode(holder), Type="String", Overwrite=False, Description=DESCRIPTION,
                          aws_retry=True)
    except is_boto3_error_code("ParameterAlreadyExists"):
        return False
    return True


def delete(ssm, name):
    """True if deleted, False if it was already gone."""
    try:
        ssm.delete_parameter(Name=name, aws_retry=True)
    except is_boto3_error_code("ParameterNotFound"):
        return False
    return True


def stale(lock, machine, me):
    """Why the lock may be broken ('expired', 'holder gone'), None while it holds."""
    if lock.holder is None:
        return None  # not a lock of ours: never broken automatically
    if lock.remaining <= 0:
        return "expired"
    if machine.is_gone(lock.holder, me):
        return "holder gone"
    return None


class Outcome(object):
    def __init__(self, acquired, current=None, broken=None):
        self.acquired = acquired
        self.current = current  # the Lock seen that holds (None when acquired at the first try)
        self.broken = broken or []  # (Lock, reason) of the stale locks removed on the way


def take(ssm, name, holder, machine, me, clock=time.time, depth=0):
    """One attempt at taking the lock for `holder` (see new_holder): no waiting, a stale lock broken.

    Raises SameRun when this very ansible-playbook process holds it (two inventory hosts of one
    stack): waiting would wait for itself.
    """
    broken, current = [], None
    for _attempt in range(3):
        if create(ssm, name, holder):
            return Outcome(True, None, broken)
        current = read(ssm, name, clock)
        if current is None:
            continue  # released between our create and our read: try again
        if current.token == holder["token"]:
            return Outcome(True, current, broken)  # our create went through, its answer was lost and retried
        if depth == 0 and current.holder and machine.is_me(current.holder, me):
            raise SameRun(current.describe())
        reason = stale(current, machine, me)
        if reason is None or depth >= MAX_BREAK_DEPTH or not break_stale(ssm, current, machine, me, clock, depth):
            return Outcome(False, current, broken)
        broken.append((current, reason))
    return Outcome(False, current, broken)


def break_stale(ssm, lock, machine, me, clock=time.time, depth=0):
    """Remove a stale lock if no other run is removing it. True when the lock no longer holds that
    stale value (removed here, by its holder or by another run), False when another run breaks it."""
    marker_name = lock.name + BREAK_SUFFIX + lock.token
    marker = new_holder(me, "breaking the stale lock %s" % lock.name, MARKER_TTL, clock)
    if not take(ssm, marker_name, marker, machine, me, clock, depth + 1).acquired:
        return False
    try:
        again = read(ssm, lock.name, clock)
        if again is not None and again.value == lock.value:
            delete(ssm, lock.name)
        return True
    finally:
        delete(ssm, marker_name)


def release(ssm, name, token, clock=time.time):
    """Delete the lock if it carries this token. Returns (outcome, Lock seen): 'released', 'gone'
    (no lock), 'other' (another holder's: never deleted) or 'expiring' (ours, but its expiry is too
    close to delete it safely: left to expire, the next run takes it at once)."""
    current = read(ssm, name, clock)
    if current is None:
        return "gone", None
    if current.token != token:
        return "other", current
    if current.remaining < min(RELEASE_MARGIN, current.holder["ttl"] / 4.0):
        return "expiring", current
    return ("released" if delete(ssm, name) else "gone"), current
