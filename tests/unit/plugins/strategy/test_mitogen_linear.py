# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import sys

import pytest

import ansible_mitogen.affinity
import ansible_mitogen.connection
import ansible_mitogen.process
import ansible_mitogen.services
import ansible_mitogen.strategy
import mitogen.fork
from ansible.errors import AnsibleError
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule

PLUGIN = "ansible_collections.immersionday.ha_web.plugins.strategy.mitogen_linear"


def load_plugin(monkeypatch, with_mitogen):
    # Importing the plugin patches mitogen: put the originals back after the test.
    monkeypatch.setattr(ansible_mitogen.affinity, "policy", ansible_mitogen.affinity.policy)
    monkeypatch.setitem(ansible_mitogen.connection.CONNECTION_METHOD, "local", ansible_mitogen.connection.CONNECTION_METHOD["local"])
    monkeypatch.setattr(ansible_mitogen.process, "setup_pool", ansible_mitogen.process.setup_pool)
    for name in ("_connect", "_send_module_forwards"):
        monkeypatch.setattr(ansible_mitogen.services.ContextService, name, getattr(ansible_mitogen.services.ContextService, name))
    monkeypatch.setattr(mitogen.fork.Connection, "_child_main", mitogen.fork.Connection._child_main)
    if not with_mitogen:
        for name in ("ansible_mitogen", "ansible_mitogen.affinity", "ansible_mitogen.loaders", "ansible_mitogen.strategy"):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, PLUGIN, raising=False)
    return importlib.import_module(PLUGIN)


def test_with_mitogen_it_is_mitogens_linear_strategy(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    assert issubclass(plugin.StrategyModule, ansible_mitogen.strategy.StrategyMixin)
    assert issubclass(plugin.StrategyModule, LinearStrategyModule)


def test_with_mitogen_no_process_gets_pinned(monkeypatch):
    load_plugin(monkeypatch, with_mitogen=True)
    policy = ansible_mitogen.affinity.policy
    # FixedPolicy (LinuxPolicy on Linux) is the one that pins.
    assert not isinstance(policy, ansible_mitogen.affinity.FixedPolicy)
    before = os.sched_getaffinity(0)
    policy.assign_controller()
    policy.assign_muxprocess(0)
    policy.assign_worker()
    policy.assign_subprocess()
    assert os.sched_getaffinity(0) == before


def test_without_mitogen_it_says_what_to_install_or_use_instead(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=False)
    with pytest.raises(AnsibleError, match=r"needs the Python package mitogen .*pip install mitogen.*ANSIBLE_STRATEGY=linear"):
        plugin.StrategyModule(None)


def test_the_jinja_plugins_are_loaded_in_the_controller_before_the_forks(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    loaded = []
    monkeypatch.setattr(plugin.filter_loader, "get", lambda name: loaded.append(("filter", name)))
    monkeypatch.setattr(plugin.test_loader, "get", lambda name: loaded.append(("test", name)))
    plugin.load_jinja_plugins()
    own = sorted(name[:-3] for name in os.listdir(plugin.OWN_FILTERS) if name.endswith(".py") and name != "__init__.py")
    assert "stack_scoped" in own
    assert loaded == ([("filter", "ansible.builtin.ternary"), ("test", "ansible.builtin.truthy")]
                      + [("filter", "immersionday.ha_web." + name) for name in own])


def test_every_file_of_our_filters_holds_the_filter_of_its_name(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    for name in os.listdir(plugin.OWN_FILTERS):
        if name.endswith(".py") and name != "__init__.py":
            module = importlib.import_module("ansible_collections.immersionday.ha_web.plugins.filter." + name[:-3])
            assert set(module.FilterModule().filters()) == {name[:-3]}, name


class FakeSpec:
    def __init__(self, host, python_path):
        self.host, self.path = host, python_path

    def inventory_name(self):
        return self.host

    def python_path(self):
        return self.path


def test_a_host_running_the_controllers_python_gets_a_fork_of_its_own(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    assert ansible_mitogen.connection.CONNECTION_METHOD["local"] is plugin.connect_local
    s1 = plugin.connect_local(FakeSpec("s1", [sys.executable]))
    s2 = plugin.connect_local(FakeSpec("s2", [sys.executable]))
    assert s1 == {"method": "fork", "kwargs": {"name": "ha_web-s1"}}
    assert s1 != s2  # mitogen keys its contexts by these arguments: one per host


def test_another_interpreter_gets_a_new_process_of_its_own(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    assert plugin.connect_local(FakeSpec("s1", ["/usr/bin/python3"])) == {
        "method": "local", "kwargs": {"python_path": ["/usr/bin/python3"], "name": "ha_web-s1"}}
    assert plugin.connect_local(FakeSpec("s1", [sys.executable, "-X", "dev"]))["method"] == "local"


def test_the_warm_up_imports_what_a_module_process_imports(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    imported, loaded = [], []

    class FakeStack:
        def load_service_models(self):
            loaded.append(True)

    monkeypatch.setattr(plugin.importlib, "import_module", lambda name: imported.append(name) or FakeStack())
    plugin.WarmUp.run()
    assert set(ansible_mitogen.services.ContextService.ALWAYS_PRELOAD) <= set(imported)
    own = plugin.COLLECTION + ".plugins.modules."
    assert sorted(name[len(own):] for name in imported if name.startswith(own)) == sorted(
        name[:-3] for name in os.listdir(plugin.OWN_MODULES) if name.endswith(".py") and name != "__init__.py")
    assert imported[-1] == plugin.COLLECTION + ".plugins.module_utils.stack"
    assert loaded == [True]


def test_a_failed_warm_up_leaves_the_imports_to_the_module_process(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)

    def no_boto3(name):
        raise ImportError("No module named 'boto3'")

    monkeypatch.setattr(plugin.importlib, "import_module", no_boto3)
    plugin.WarmUp.run()  # does not raise


def test_the_multiplexer_warms_up_when_it_starts_and_forks_after_the_warm_up(monkeypatch):
    calls = []
    monkeypatch.setattr(ansible_mitogen.process, "setup_pool", lambda pool: calls.append(("setup_pool", pool)))
    monkeypatch.setattr(ansible_mitogen.services.ContextService, "_connect",
                        lambda self, key, spec, via=None: calls.append(("connect", key)) or "context")
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    monkeypatch.setattr(plugin.WARM_UP, "start", lambda: calls.append(("warm-up", "start")))
    monkeypatch.setattr(plugin.WARM_UP, "wait", lambda: calls.append(("warm-up", "wait")))
    ansible_mitogen.process.setup_pool("pool")
    assert ansible_mitogen.services.ContextService._connect(None, "key", {}) == "context"
    assert calls == [("setup_pool", "pool"), ("warm-up", "start"), ("warm-up", "wait"), ("connect", "key")]


def test_only_a_new_interpreter_is_sent_the_modules_a_fork_already_has(monkeypatch):
    sent = []
    monkeypatch.setattr(ansible_mitogen.services.ContextService, "_send_module_forwards",
                        lambda self, context: sent.append(context.context_id))
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    fork = object.__new__(mitogen.fork.Connection)
    streams = {1: type("Stream", (), {"conn": fork}), 2: type("Stream", (), {"conn": object()})}

    class FakeService:
        router = type("Router", (), {"stream_by_id": staticmethod(streams.get)})

    for context_id in (1, 2):
        ansible_mitogen.services.ContextService._send_module_forwards(FakeService(), type("Context", (), {"context_id": context_id}))
    assert sent == [2]


def test_loading_the_plugin_again_wraps_mitogens_functions_once(monkeypatch):
    original = ansible_mitogen.services.ContextService._connect
    load_plugin(monkeypatch, with_mitogen=True)
    load_plugin(monkeypatch, with_mitogen=True)
    assert ansible_mitogen.services.ContextService._connect.__wrapped__ is original


class ExitHooks:
    """atexit's register and unregister, on a list."""

    def __init__(self):
        self.registered = []

    def register(self, function):
        self.registered.append(function)

    def unregister(self, function):
        self.registered = [hook for hook in self.registered if hook is not function]


def test_at_exit_the_heap_is_frozen_once(monkeypatch):
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    exit_hooks = ExitHooks()
    monkeypatch.setattr(plugin, "atexit", exit_hooks)
    plugin.freeze_heap_at_exit()
    plugin.freeze_heap_at_exit()  # a playbook of several plays runs the strategy once per play
    assert exit_hooks.registered == [plugin.gc.freeze]


def test_a_fork_drops_the_hooks_that_make_module_utils_report_to_the_controller(monkeypatch):
    from ansible.module_utils import _internal
    from ansible.module_utils._internal import _traceback
    from ansible.module_utils.common import warnings

    plugin = load_plugin(monkeypatch, with_mitogen=True)
    for name in ("is_controller", "get_controller_serialize_map", "import_controller_module"):
        monkeypatch.setattr(_internal, name, getattr(_internal, name))
    monkeypatch.setattr(_traceback, "_is_traceback_enabled", _traceback._is_traceback_enabled)
    monkeypatch.setattr(warnings, "_global_warnings", {})
    monkeypatch.setattr(_internal, "is_controller", True)  # what importing ansible-core's controller does
    plugin.become_module_process()
    warnings.warn("a warning for the module's result")
    assert warnings.get_warning_messages() == ("a warning for the module's result",)
    assert _internal.import_controller_module("ansible.utils.display") is None
    assert _internal.get_controller_serialize_map() == {}
    assert _traceback._is_traceback_enabled is _traceback._is_module_traceback_enabled


def test_only_the_child_of_a_fork_drops_them(monkeypatch):
    calls = []
    monkeypatch.setattr(mitogen.fork.Connection, "_child_main", lambda self, childfp: calls.append(("child_main", childfp)))
    plugin = load_plugin(monkeypatch, with_mitogen=True)
    monkeypatch.setattr(plugin, "become_module_process", lambda: calls.append(("become_module_process",)))
    mitogen.fork.Connection._child_main(None, "childfp")
    assert calls == [("become_module_process",), ("child_main", "childfp")]
    assert mitogen.fork.on_fork.__name__ == "on_fork"  # also called in workers, which stay controllers
