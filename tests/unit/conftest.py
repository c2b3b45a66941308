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


@pytest.fixture
def no_backoff_sleep(monkeypatch):
    """AWSRetry's jittered backoff sleeps through time.sleep: never really sleep in tests. The list
    of the seconds it would have slept."""
    from ansible_collections.amazon.aws.plugins.module_utils import cloud
    slept = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


@pytest.fixture
def stubbed_client():
    """stubbed_client(service) -> (a client retried as our modules' are, its active Stubber); every
    stubbed answer must have been used by the end of the test."""
    import boto3
    from botocore.stub import Stubber
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
    from ansible_collections.immersionday.ha_web.plugins.module_utils.stack import retry_decorator

    stubbers = []

    def make(service, region="ap-northeast-2"):
        client = boto3.client(service, region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return RetryingBotoClientWrapper(client, retry_decorator()), stubber

    yield make
    for stubber in stubbers:
        stubber.deactivate()
        stubber.assert_no_pending_responses()
