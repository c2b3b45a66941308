"""The unit tests answer AWS with stubs or with moto in process. An endpoint in the environment
(the Makefile exports the embedded cloud's; a user may have LocalStack's) must not send them
elsewhere."""
import os

import pytest


@pytest.fixture(autouse=True)
def no_endpoint_from_the_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
