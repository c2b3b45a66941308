# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mitogen_linear
short_description: mitogen's linear strategy, unpinned, with Jinja plugins loaded before the forks
version_added: 0.1.0
description:
  - The linear strategy of L(mitogen for Ansible,https://mitogen.networkgenomics.com/ansible_detailed.html)
    (C(pip install mitogen)), with the scheduler left to the kernel.
  - mitogen pins its processes to CPUs. On a 2-CPU machine it keeps one CPU for its connection
    multiplexer and pins the Ansible controller, every worker and every module interpreter to
    the other, so that stacks deployed side by side take turns on one CPU while the second
    idles (4 stacks - 31 s pinned, 21 s unpinned). This strategy skips the pinning.
  - It also loads the Jinja filter and test plugins (ansible-core's and this collection's) in the
    controller before the first worker is forked. ansible-core loads them on first use in each
    process, and the linear strategy forks one worker per task and host, so every worker loaded
    them again (0.3-0.4 s of a no-op rerun of the lab); now the workers inherit them.
  - Needs the Python package C(mitogen) on the controller; the plain C(ansible.builtin.linear)
    strategy needs nothing.
author:
  - Immersion Day HA web maintainers (@immersionday)
"""

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError as exc:
    MITOGEN_IMPORT_ERROR = exc
else:
    MITOGEN_IMPORT_ERROR = None
    # The base Policy assigns nothing; mitogen looks the policy up at every assignment.
    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

import os

from ansible.errors import AnsibleError
from ansible.plugins.loader import filter_loader
from ansible.plugins.loader import test_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.template import Templar

OWN_FILTERS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filter")


def load_jinja_plugins():
    """Load the Jinja plugins that the forked workers would each load again."""
    filter_loader.get("ansible.builtin.ternary")  # loads every builtin filter file
    test_loader.get("ansible.builtin.truthy")  # and every builtin test file
    for name in sorted(os.listdir(OWN_FILTERS)):
        if name.endswith(".py") and not name.startswith("_"):
            filter_loader.get("immersionday.ha_web." + name[:-3])  # each file holds the filter of its name
    Templar(loader=None).template("{{ 0 }}")  # the shared Jinja lexer (ansible-core caches it per process)


if MITOGEN_IMPORT_ERROR is None:

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin,
                         ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)):
        def run(self, iterator, play_context):
            load_jinja_plugins()
            return super(StrategyModule, self).run(iterator, play_context)

else:

    class StrategyModule(LinearStrategyModule):
        def __init__(self, *args, **kwargs):
            raise AnsibleError("the strategy immersionday.ha_web.mitogen_linear needs the Python package mitogen "
                               "on the controller (pip install mitogen), or use ANSIBLE_STRATEGY=linear: %s"
                               % MITOGEN_IMPORT_ERROR)
