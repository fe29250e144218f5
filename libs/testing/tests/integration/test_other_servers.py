"""The servers of the other TimescaleDB build: named by the environment, checked for their build,
and in `env` mode never made up when the environment names none."""

from __future__ import annotations

import pytest

from tickwire_core.errors import ConfigError
from tickwire_testing.plugin import (
    SERVER_VARS,
    STACK_MODE_VAR,
    Stack,
    server_license,
    server_with_license,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def other_build(stack: Stack) -> str:
    """The build the stack's own server does not run."""
    return "apache" if server_license(stack.database_url) == "timescale" else "timescale"


def env_mode(monkeypatch: pytest.MonkeyPatch, stack: Stack) -> None:
    monkeypatch.setenv(STACK_MODE_VAR, "env")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", stack.kafka_bootstrap_servers)
    monkeypatch.setenv("DATABASE_URL", stack.database_url)


def test_env_mode_names_the_variable_it_needs(
    stack: Stack, other_build: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_mode(monkeypatch, stack)
    monkeypatch.delenv(SERVER_VARS[other_build], raising=False)
    refused = pytest.raises(ConfigError, match=SERVER_VARS[other_build])
    with refused, server_with_license(stack, other_build):
        pass


def test_a_named_server_of_the_wrong_build_is_refused(
    stack: Stack, other_build: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVER_VARS[other_build], stack.database_url)
    refused = pytest.raises(ConfigError, match=f"{SERVER_VARS[other_build]} names a server running")
    with refused, server_with_license(stack, other_build):
        pass


def test_a_named_server_of_the_right_build_is_used_as_it_is(
    stack: Stack,
    other_build: str,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    other_url = request.getfixturevalue(f"{other_build}_server_url")
    env_mode(monkeypatch, stack)
    monkeypatch.setenv(SERVER_VARS[other_build], other_url)
    with server_with_license(stack, other_build) as url:
        assert url == other_url
        assert server_license(url) == other_build
    # The stack's own server still serves its own build, whatever the variables say.
    with server_with_license(stack, "timescale" if other_build == "apache" else "apache") as url:
        assert url == stack.database_url
