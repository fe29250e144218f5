"""Shared pieces of the venue mapping tests: the venues' documented example messages and a raw
record builder that runs a message through normalize()."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tickwire_normalize.domain.normalize import Normalized, normalize
from tickwire_normalize.domain.validate import Limits
from tickwire_testing.fixtures import VENUE_FIXTURES

FIXTURES = VENUE_FIXTURES
NOW = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z, after every documented example
# The documented examples are years old; these limits let them through normalize() unchanged.
OLD_EXAMPLES = Limits(max_past_s=20 * 365 * 86_400.0)

Run = Callable[..., Normalized]


@pytest.fixture
def documented() -> Callable[[str], list[dict[str, Any]]]:
    """venue -> the example messages of its fixture file, in file order."""

    def load(venue: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = json.loads((FIXTURES / f"{venue}.json").read_text())[
            "messages"
        ]
        return messages

    return load


@pytest.fixture
def run() -> Run:
    """normalize() of one venue message wrapped in a raw record as ingest publishes it."""

    def run_one(
        provider: str,
        feed: str,
        message: object,
        received_ts: int = NOW,
        ingest_instance: str = "primary",
        limits: Limits = OLD_EXAMPLES,
    ) -> Normalized:
        payload = message if isinstance(message, bytes) else json.dumps(message).encode()
        record = {
            "provider": provider,
            "feed": feed,
            "ingest_instance": ingest_instance,
            "instrument": "",
            "received_ts": received_ts,
            "ingest_seq": 7,
            "content_type": "application/json",
            "payload": payload,
        }
        return normalize(record, limits)

    return run_one


@pytest.fixture
def one(run: Run) -> Callable[..., dict[str, Any]]:
    """The single tick of a one-tick message, or its reject raised."""

    def one_tick(*args: Any, **kwargs: Any) -> dict[str, Any]:
        out = run(*args, **kwargs)
        if out.rejects:
            raise out.rejects[0]
        assert len(out.ticks) == 1, out.ticks
        return out.ticks[0]

    return one_tick
