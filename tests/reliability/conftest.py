"""Fixtures of the reliability suite: one private embedded cloud per test module."""
import os

import pytest

from rel_env import ROOT, Cloud, reset


@pytest.fixture(scope="module")
def cloud():
    os.makedirs(os.path.join(ROOT, ".cloud"), exist_ok=True)
    server = Cloud()
    reset(server)  # warm-up; sets server.baseline, the empty cloud's inventory
    yield server
    server.stop()
