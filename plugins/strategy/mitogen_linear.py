# -*- coding: utf-8 -*-
# Copyright: Immersion Day HA web maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: mitogen_linear
short_description: mitogen's linear strategy, unpinned, with one warm module process per host
version_added: 0.1.0
description:
  - The linear strategy of L(mitogen for Ansible,https://mitogen.networkgenomics.com/ansible_detailed.html)
    (C(pip install mitogen)), changed as follows.
  - No CPU pinning. mitogen pins its processes to CPUs. On a 2-CPU machine it keeps one CPU for its
    connection multiplexer and pins the Ansible controller, every worker and every module
    interpreter to the other, so that stacks deployed side by side take turns on one CPU while the
    second idles (4 stacks - 31 s pinned, 21 s unpinned).
  - One module process per inventory host. mitogen runs the modules of all hosts whose
    connection looks the same (C(local) with the same interpreter) in one process, one after the
    other (mitogen issue 496), so one stack would wait for another's image and instance waits.
  - A C(local) host whose interpreter is the controller's own Python gets a fork of mitogen's
    connection multiplexer (itself a fork of the controller) instead of a new interpreter. A new
    interpreter is sent every Ansible module it imports, as source, and compiles it; the fork has
    them loaded. While the controller runs the play's first tasks, the multiplexer imports this
    collection's modules, their module_utils and boto3, and parses the AWS service models, so
    that the forks start with all of it (first module run of a no-op rerun 1.5 s -> 0.5 s). A
    fork then drops the four hooks by which ansible-core makes C(ansible.module_utils) report to
    the controller (warnings and deprecations to its display, its JSON encoder and traceback
    settings), so that modules behave as in a new interpreter. Any other interpreter line gets
    a new interpreter, as under mitogen's own strategy.
  - The Jinja filter and test plugins (ansible-core's and this collection's) are loaded in the
    controller before the first worker is forked. ansible-core loads them on first use in each
    process, and the linear strategy forks one worker per task and host, so every worker loaded
    them again (0.3-0.4 s of a no-op rerun of the lab); now the workers inherit them.
  - Compiled Jinja templates are kept on disk (C(~/.cache/immersionday.ha_web/templates), see
    C(plugins/plugin_utils/template_cache.py); C(HA_WEB_TEMPLATE_CACHE) names another directory,
    empty turns it off). ansible-core compiles every template string in every forked worker
    again; a no-op rerun of 4 stacks spent about 1 CPU-second of its 7 compiling.
  - At exit the controller's objects are frozen (C(gc.freeze)), so that the interpreter's final
    garbage collection skips them; walking the heap of a controller that loaded a playbook took
    0.3-0.4 s after the last line of output.
  - Needs the Python package C(mitogen) on the controller; the plain C(ansible.builtin.linear)
    strategy needs nothing.
author:
  - Immersion Day HA web maintainers (@immersionday)
"""

import atexit
import functools
import gc
import importlib
import logging
import os
import sys
import threading

try:
    import ansible_mitogen.affinity
    import ansible_mitogen.connection
    import ansible_mitogen.loaders
    import ansible_mitogen.process
    import ansible_mitogen.services
    import ansible_mitogen.strategy
    import mitogen.fork
except ImportError as exc:
    MITOGEN_IMPORT_ERROR = exc
else:
    MITOGEN_IMPORT_ERROR = None

from ansible.errors import AnsibleError
from ansible.plugins.loader import filter_loader
from ansible.plugins.loader import test_loader
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule
from ansible.template import Templar
from ansible_collections.immersionday.ha_web.plugins.plugin_utils import template_cache
from ansible_collections.immersionday.ha_web.plugins.plugin_utils.wrapping import original

COLLECTION = "ansible_collections.immersionday.ha_web"
PLUGINS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWN_FILTERS = os.path.join(PLUGINS, "filter")
OWN_MODULES = os.path.join(PLUGINS, "modules")
LOG = logging.getLogger("ansible_mitogen.immersionday.ha_web")


def _own_plugin_names(directory):
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith(".py") and not name.startswith("_"))


def load_jinja_plugins():
    """Load the Jinja plugins that the forked workers would each load again."""
    filter_loader.get("ansible.builtin.ternary")  # loads every builtin filter file
    test_loader.get("ansible.builtin.truthy")  # and every builtin test file
    for name in _own_plugin_names(OWN_FILTERS):
        filter_loader.get("immersionday.ha_web." + name)  # each file holds the filter of its name
    Templar(loader=None).template("{{ 0 }}")  # the shared Jinja lexer (ansible-core caches it per process)


def connect_local(spec):
    """mitogen's connection arguments for a local host: a process of its own, a fork when it runs our Python."""
    name = "ha_web-" + spec.inventory_name()
    python_path = spec.python_path()
    if python_path == [sys.executable]:
        return {"method": "fork", "kwargs": {"name": name}}
    return {"method": "local", "kwargs": {"python_path": python_path, "name": name}}


class WarmUp:
    """What a module process imports, imported in the multiplexer before it forks one."""

    def __init__(self):
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.run, name="ha_web-warm-up")
        self._thread.daemon = True
        self._thread.start()

    def wait(self):
        """Before a fork: a fork made while another thread imports would copy a half-imported module."""
        if self._thread is not None:
            self._thread.join()

    @staticmethod
    def run():
        try:
            for name in ansible_mitogen.services.ContextService.ALWAYS_PRELOAD:  # what mitogen sends a new interpreter
                importlib.import_module(name)
            for name in _own_plugin_names(OWN_MODULES):  # each guards its main(): importing runs nothing
                importlib.import_module(COLLECTION + ".plugins.modules." + name)
            importlib.import_module(COLLECTION + ".plugins.module_utils.stack").load_service_models()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # The module process imports it again and reports what is missing the usual way.
            LOG.debug("warm-up of the module processes stopped: %r", exc)


WARM_UP = WarmUp()


def become_module_process():
    """In a fork of the controller: let ansible.module_utils act as in a module's own interpreter.

    Importing ansible-core's controller (ansible._internal, ansible.utils.display) sets these
    four hooks; with them a module's warnings and deprecations went to the controller's display
    of the fork (nowhere) instead of into the module's result.
    """
    from ansible.module_utils import _internal
    from ansible.module_utils._internal import _traceback

    _internal.is_controller = False
    _internal.get_controller_serialize_map = dict
    _internal.import_controller_module = _no_controller_module
    _traceback._is_traceback_enabled = _traceback._is_module_traceback_enabled


def _no_controller_module(_module_name):
    return None


def freeze_heap_at_exit():
    """Once per process: the interpreter's final collection would walk every object the run made."""
    atexit.unregister(gc.freeze)  # the strategy runs once per play
    atexit.register(gc.freeze)


def _patch_mitogen():
    # The base Policy assigns nothing; mitogen looks the policy up at every assignment.
    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()
    ansible_mitogen.connection.CONNECTION_METHOD["local"] = connect_local

    # functools.wraps keeps mitogen's own in __wrapped__: importing this plugin again wraps it, not our wrapper.
    setup_pool = original(ansible_mitogen.process.setup_pool)  # runs in the multiplexer when it starts

    @functools.wraps(setup_pool)
    def setup_pool_and_warm_up(pool):
        setup_pool(pool)
        WARM_UP.start()

    service = ansible_mitogen.services.ContextService
    connect, send_module_forwards = original(service._connect), original(service._send_module_forwards)

    @functools.wraps(connect)
    def connect_after_warm_up(self, key, spec, via=None):
        WARM_UP.wait()
        return connect(self, key, spec, via=via)

    @functools.wraps(send_module_forwards)
    def send_module_forwards_to_new_interpreters(self, context):
        stream = self.router.stream_by_id(context.context_id)
        if not isinstance(getattr(stream, "conn", None), mitogen.fork.Connection):  # a fork has them
            send_module_forwards(self, context)

    # Runs only in the child of a fork the multiplexer makes (mitogen.fork.on_fork also runs in workers).
    child_main = original(mitogen.fork.Connection._child_main)

    @functools.wraps(child_main)
    def child_main_as_module_process(self, childfp):
        become_module_process()
        return child_main(self, childfp)

    ansible_mitogen.process.setup_pool = setup_pool_and_warm_up
    service._connect = connect_after_warm_up
    service._send_module_forwards = send_module_forwards_to_new_interpreters
    mitogen.fork.Connection._child_main = child_main_as_module_process


if MITOGEN_IMPORT_ERROR is None:
    _patch_mitogen()

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin,
                         ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)):
        def run(self, iterator, play_context):
            load_jinja_plugins()
            template_cache.install()
            freeze_heap_at_exit()
            return super(StrategyModule, self).run(iterator, play_context)

else:

    class StrategyModule(LinearStrategyModule):
        def __init__(self, *args, **kwargs):
            raise AnsibleError("the strategy immersionday.ha_web.mitogen_linear needs the Python package mitogen "
                               "on the controller (pip install mitogen), or use ANSIBLE_STRATEGY=linear: %s"
                               % MITOGEN_IMPORT_ERROR)
