"""Fixtures for end-to-end runs against a private embedded cloud (moto server on loopback)."""
import os

import pytest

from lab_env import ROOT, Cloud


@pytest.fixture(scope="module")
def cloud():
    os.makedirs(os.path.join(ROOT, ".cloud"), exist_ok=True)
    server = Cloud()
    yield server
    server.stop()
