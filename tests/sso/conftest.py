"""The single sign-on tests share one real OpenID provider (tests/sso_provider.py)."""

import pytest
from sso_provider import running_provider


@pytest.fixture(scope="session")
def oidc_provider():
    with running_provider() as provider:
        yield provider


@pytest.fixture
def provider(oidc_provider):
    """The provider with its directory as at the start, and no tampering."""
    oidc_provider.reset()
    yield oidc_provider
    oidc_provider.reset()


@pytest.fixture
def app_config(provider):
    return provider.settings()
