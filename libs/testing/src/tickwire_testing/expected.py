"""What the API is to serve after a backfill, written out from the vendors' fixture files by the
documented rules (docs/history.md), not by the code under test."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def iso(us: int) -> str:
    """A time as the API writes it."""
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat().replace("+00:00", "Z")


def bar(start_us: int, o: Any, h: Any, low: Any, c: Any, v: Any) -> tuple[Any, ...]:
    return (start_us, float(o), float(h), float(low), float(c), float(v))


def from_iso(text: str) -> int:
    """A time the API wrote, in µs since the epoch."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.replace(microsecond=0).timestamp()) * 1_000_000 + moment.microsecond


def served_bar(row: dict[str, Any]) -> tuple[Any, ...]:
    """The same fields of a bar the API served."""
    return (from_iso(row["start_ts"]), row["open"], row["high"], row["low"], row["close"],
            row["volume"])  # fmt: skip


def micros(seconds: float) -> int:
    """Seconds with a fraction, as a venue writes them, to whole microseconds."""
    return int(Decimal(repr(seconds)).scaleb(6).to_integral_value())
