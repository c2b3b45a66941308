#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: stack_lock
short_description: Take or release the lock of an HA web stack, kept in the AWS account
version_added: 0.1.0
description:
  - One run per stack at a time, across machines and AWX nodes. The lock is the SSM parameter
    C(/ha_web/<stack_name>/lock) in the stack's region, created with C(Overwrite=False), which SSM
    grants to exactly one caller. Its value names the holder (user@host, the C(ansible-playbook) process,
    O(purpose), since when) and its time to live O(ttl).
  - O(state=present) makes one attempt and does not wait. It returns RV(acquired=true) and the
    RV(token) that releases the lock, or RV(acquired=false) and RV(held=true) with the RV(holder), and
    the caller waits (a task's C(until)) or stops. It fails (not RV(held)) when the lock is held by
    the very C(ansible-playbook) process that asks for it again (two inventory hosts with one
    O(stack_name)), or on an AWS error.
  - A stale lock is broken, then taken. Stale means its time to live has passed, judged on AWS's clock
    (the parameter's last modification against the Date of the answer), or its holder ran on this
    machine (same boot, same pid namespace) and its C(ansible-playbook) process has ended (killed,
    interrupted). Two runs breaking one stale lock at once are serialized by a marker parameter
    C(<lock>-break-<token>) created without overwrite, so neither deletes the other's new lock.
  - A value that is not a lock of this collection is never broken; it holds until someone deletes it.
  - O(state=absent) deletes the lock only when it carries O(token). Another holder's lock is left in
    place, with a warning (this run's lock expired and was taken over). So is this run's own lock
    when its expiry is less than a minute (or a quarter of O(ttl)) away, since another run may be
    breaking it at that moment; it expires and the next run takes it at once.
  - Throttling is retried with jittered backoff.
  - In check mode the lock is read, never written; C(changed) says whether it would be taken or released.
author:
  - Immersion Day HA web maintainers (@immersionday)
options:
  stack_name:
    description:
      - The stack. Letters, digits and hyphens, as the stack name rule of the roles requires.
    type: str
    required: true
  state:
    description: V(present) takes the lock (one attempt), V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  token:
    description: The RV(token) that O(state=present) returned. Required with O(state=absent).
    type: str
  ttl:
    description:
      - Seconds the lock holds without its holder. A run that outlives it may see its lock broken by
        another run, so keep it well above the longest run (a deploy on AWS takes 15 to 30 minutes).
    type: int
    default: 3600
  purpose:
    description: What the holder runs (for example V(site.yml)), shown to a run that finds the lock held.
    type: str
    default: ''
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - IAM actions C(ssm:PutParameter), C(ssm:GetParameter) and C(ssm:DeleteParameter) on
    C(arn:aws:ssm:<region>:<account>:parameter/ha_web/*).
"""

EXAMPLES = r"""
- name: Take the lock of the stack (one attempt)
  immersionday.ha_web.stack_lock:
    stack_name: lab
    purpose: site.yml
  register: lock

- name: Wait up to 5 minutes for a run that holds it
  immersionday.ha_web.stack_lock:
    stack_name: lab
    purpose: site.yml
  register: lock_wait
  until: not (lock_wait.held | default(false))
  retries: 30
  delay: 10
  failed_when: not (lock_wait.acquired | default(false))
  when: not lock.acquired

- name: Release it
  immersionday.ha_web.stack_lock:
    stack_name: lab
    state: absent
    token: "{{ lock_wait.token | default(lock.token, true) }}"
"""

RETURN = r"""
parameter:
  description: The SSM parameter that is the lock.
  returned: always
  type: str
  sample: /ha_web/lab/lock
acquired:
  description: This run holds the lock now (O(state=present); false in check mode).
  returned: when O(state=present)
  type: bool
held:
  description: Another run holds the lock (O(state=present)); wait and try again, or stop.
  returned: when O(state=present)
  type: bool
token:
  description: What releases the lock (O(state=absent)); null when not acquired.
  returned: when O(state=present)
  type: str
  sample: 3f0c9a3e5b6d4c1e8a7b2d9f0e1c2b3a
released:
  description: The lock was deleted (O(state=absent)).
  returned: when O(state=absent)
  type: bool
outcome:
  description:
    - C(released), C(gone) (there was no lock), C(other) (another holder's, left in place) or C(expiring)
      (this run's, too close to its expiry to delete safely, left to expire).
  returned: when O(state=absent)
  type: str
  sample: released
holder:
  description: The holder of the lock after the call (this run's when acquired; another run's when held), null when none.
  returned: always
  type: dict
  contains:
    user: {description: The user who runs it., type: str}
    host: {description: The machine it runs on., type: str}
    pid: {description: "Its C(ansible-playbook) process (null when unknown).", type: int}
    purpose: {description: What it runs., type: str}
    ttl: {description: Its time to live in seconds., type: int}
    since: {description: When it took the lock (UTC)., type: str}
    expires: {description: When the lock expires (UTC)., type: str}
    expires_in: {description: Seconds left before it expires (AWS's clock)., type: int, returned: when read from AWS}
    foreign: {description: The value is not a lock of this collection (never broken)., type: bool}
    description: {description: All of the above in one line., type: str}
  sample: {"user": "alice", "host": "ws1", "pid": 4242, "purpose": "site.yml", "ttl": 3600, "since": "2026-12-04T17:40:02Z",
           "expires": "2026-12-04T18:40:02Z", "expires_in": 3412, "foreign": false,
           "description": "alice@ws1 (pid 4242, site.yml) since 2026-12-04T17:40:02Z, expires 2026-12-04T18:40:02Z (in 3412 s)"}
broken:
  description: Stale locks removed before taking it (O(state=present)), each with why.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{"reason": "holder gone", "holder": {"description": "alice@ws1 (pid 4242, site.yml) since ..."}}]
"""

try:
    import botocore  # noqa: F401
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.immersionday.ha_web.plugins.module_utils.names import stack_name_errors
from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import aws_client
from ansible_collections.immersionday.ha_web.plugins.module_utils import stack_lock as sl


def held_message(stack_name, lock, region):
    if lock.holder is None:
        return ("stack %s is locked by the SSM parameter %s (region %s), whose value is not a lock of immersionday.ha_web: "
                "it never expires by itself. Delete that parameter if nothing else uses it." % (stack_name, lock.name, region))
    return ("stack %s is locked by another run: %s. It is released when that run ends; the lock of a run killed on "
            "another machine holds until it expires. If you are sure that run is over, delete the SSM parameter %s "
            "(region %s)." % (stack_name, lock.describe(), lock.name, region))


def present(module, ssm, name, machine):
    me = machine.identity()
    holder = sl.new_holder(me, module.params["purpose"], module.params["ttl"])
    stack_name, region = module.params["stack_name"], module.region
    if module.check_mode:
        current = sl.read(ssm, name)
        would = current is None or sl.stale(current, machine, me) is not None
        module.exit_json(changed=would, parameter=name, acquired=False, held=not would, token=None, broken=[],
                         holder=current.facts() if current else None,
                         msg="would take the lock" if would else held_message(stack_name, current, region))
    try:
        outcome = sl.take(ssm, name, holder, machine, me)
    except sl.SameRun as e:
        module.fail_json(msg="stack %s is already locked by this very run (%s): two inventory hosts have stack_name %s; "
                             "give each stack one host" % (stack_name, e, stack_name), parameter=name)
    broken = [dict(reason=reason, holder=lock.facts()) for lock, reason in outcome.broken]
    for lock, reason in outcome.broken:
        module.warn("Removed the stale lock of stack %s (%s): %s" % (stack_name, reason, lock.describe()))
    if outcome.acquired:
        module.exit_json(changed=True, parameter=name, acquired=True, held=False, token=holder["token"], broken=broken,
                         holder=sl.holder_facts(holder), msg="took the lock of stack %s" % stack_name)
    module.exit_json(changed=bool(broken), parameter=name, acquired=False, held=True, token=None, broken=broken,
                     holder=outcome.current.facts(), msg=held_message(stack_name, outcome.current, region))


def absent(module, ssm, name):
    token = module.params["token"]
    if module.check_mode:
        current = sl.read(ssm, name)
        ours = current is not None and current.token == token
        module.exit_json(changed=ours, parameter=name, released=False, outcome="released" if ours else ("other" if current else "gone"),
                         holder=current.facts() if current else None)
    outcome, current = sl.release(ssm, name, token)
    if outcome == "other":
        module.warn("The lock of stack %s is held by another run now (%s): this run outlived its lock's ttl and the lock "
                    "was taken over; it is left in place." % (module.params["stack_name"], current.describe()))
    elif outcome == "expiring":
        module.warn("The lock of stack %s expires in %d s: left to expire (the next run takes it at once) rather than "
                    "deleted while another run may be breaking it." % (module.params["stack_name"], max(0, current.remaining)))
    module.exit_json(changed=outcome == "released", parameter=name, released=outcome == "released", outcome=outcome,
                     holder=current.facts() if current is not None and outcome != "released" else None)


def main(machine=None):
    module = AnsibleAWSModule(
        argument_spec=dict(
            stack_name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            token=dict(type="str", no_log=False),
            ttl=dict(type="int", default=3600),
            purpose=dict(type="str", default=""),
        ),
        required_if=[["state", "absent", ["token"]]],
        supports_check_mode=True,
    )
    errors = stack_name_errors(module.params["stack_name"])
    if errors:
        module.fail_json(msg=errors[0])
    if module.params["ttl"] < 1:
        module.fail_json(msg="ttl %s must be at least 1 second" % module.params["ttl"])
    name = sl.parameter_name(module.params["stack_name"])
    ssm = aws_client(module, "ssm")
    try:
        if module.params["state"] == "present":
            present(module, ssm, name, machine or sl.Machine())
        else:
            absent(module, ssm, name)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to %s the lock %s" % ("take" if module.params["state"] == "present" else "release", name))


if __name__ == "__main__":
    main()
