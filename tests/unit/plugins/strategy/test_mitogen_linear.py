# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import sys

import pytest

import ansible_mitogen.affinity
import ansible_mitogen.strategy
from ansible.errors import AnsibleError
from ansible.plugins.strategy.linear import StrategyModule as LinearStrategyModule

PLUGIN = "ansible_collections.immersionday.ha_web.plugins.strategy.mitogen_linear"


def load_plugin(monkeypatch, with_mitogen):
    # Importing the plugin replaces mitogen's policy: put the original back after the test.
    monkeypatch.setattr(ansible_mitogen.affinity, "policy", ansible_mitogen.affinity.policy)
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
