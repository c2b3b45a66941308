"""Fixtures of the security tests: one IAM-enforcing embedded cloud for the session (each test
module deploys its own stack into it), the deployer's policy, and sample app instances on loopback."""
import os

import pytest

from iam_env import ROOT, IamCloud, load_policy


@pytest.fixture(scope="session")
def iam_cloud():
    os.makedirs(os.path.join(ROOT, ".cloud"), exist_ok=True)
    cloud = IamCloud()
    try:
        cloud.create_deployer(load_policy())
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture(scope="session")
def policy():
    return load_policy()
