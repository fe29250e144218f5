"""Reconnect waits: capped exponential backoff with full jitter, and Retry-After parsing."""

import random
from datetime import UTC, datetime

import pytest

from tickwire_ingest.adapters.backoff import Backoff, parse_retry_after


def test_each_wait_lies_in_its_doubling_window_and_never_beyond_the_cap() -> None:
    backoff = Backoff(0.5, 4.0, random.Random(1))
    for n in range(1, 12):
        delay = backoff.next_delay()
        assert 0.5 <= delay <= min(4.0, 0.5 * 2**n)


def test_waits_are_spread_over_the_whole_window() -> None:
    rng = random.Random(7)
    delays = []
    for _ in range(500):
        backoff = Backoff(1.0, 60.0, rng, attempts=5)  # the window is 1 .. 60 s
        delays.append(backoff.next_delay())
    assert min(delays) < 5 and max(delays) > 55


def test_reset_starts_again_from_the_smallest_window() -> None:
    backoff = Backoff(0.5, 60.0, random.Random(3))
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_many_failures_do_not_overflow() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(5), attempts=10_000)
    assert 0.5 <= backoff.next_delay() <= 30.0


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0.25", 0.25),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 11:59:00 GMT", 0.0),  # already past: no wait beyond the backoff
        (None, None),
        ("soon", None),
        ("-5", None),
        ("nan", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_as_a_date(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, NOW) == seconds
