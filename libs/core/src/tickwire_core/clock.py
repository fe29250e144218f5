"""Time as tickwire carries it: integer UTC microseconds since the epoch."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_us() -> int:
    return time.time_ns() // 1_000


def to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).replace(microsecond=us % 1_000_000)


def from_datetime(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetime: tickwire times are UTC and must say so")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
