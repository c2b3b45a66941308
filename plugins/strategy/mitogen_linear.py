# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mitogen_linear
short_description: mitogen's linear strategy without its CPU pinning
version_added: 0.1.0
description:
  - The linear strategy of L(mitogen for Ansible,https://mitogen.networkgenomics.com/ansible_detailed.html)
    (C(pip install mitogen)), with the scheduler left to the kernel.
  - mitogen pins its processes to CPUs. On a 2-CPU machine it keeps one CPU for its connection
    multiplexer and pins the Ansible controller, every worker and every module interpreter to
    the other, so that stacks deployed side by side take turns on one CPU while the second
    idles (4 stacks - 31 s pinned, 21 s unpinned). This strategy skips the pinning and changes
    nothing else.
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

from ansible.errors import AnsibleError
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule

if MITOGEN_IMPORT_ERROR is None:

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin,
                         ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)):
        pass

else:

    class StrategyModule(LinearStrategyModule):
        def __init__(self, *args, **kwargs):
            raise AnsibleError("the strategy immersionday.ha_web.mitogen_linear needs the Python package mitogen "
                               "on the controller (pip install mitogen), or use ANSIBLE_STRATEGY=linear: %s"
                               % MITOGEN_IMPORT_ERROR)
