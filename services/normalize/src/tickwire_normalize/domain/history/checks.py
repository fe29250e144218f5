"""Checks of the records a history mapping makes, one per kind: the first failure rejects the
record with a reason code. Ticks are checked by the live tick checks (without the age limit)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import BAR, SHORT_INTEREST, SHORT_VOLUME
from tickwire_normalize.domain.validate import check_names

_US_PER_DAY = 86_400_000_000
_UNITS_US = {"m": 60_000_000, "h": 3_600_000_000, "d": _US_PER_DAY}
# Intraday bars of an hour or more start where the exchange's session does: Yahoo's hourly bars of
# New York equities start at 09:30, 10:30, ... Such bars are held to the quarter-hour grid every
# session opening lies on; minute bars to their own length, daily bars to 00:00 UTC.
_SESSION_GRID_US = 15 * 60_000_000


def grid_us(length: int) -> int:
    """The grid a bar of `length` µs must start on."""
    if 3_600_000_000 <= length < _US_PER_DAY:
        return _SESSION_GRID_US
    return length


def interval_us(interval: str) -> int | None:
    """1m, 5m, 15m, 1h, 4h, 1d -> its length in µs; None for anything else."""
    count, unit = interval[:-1], interval[-1:]
    if unit not in _UNITS_US or not count.isdigit() or int(count) <= 0:
        return None
    return int(count) * _UNITS_US[unit]


def _number(record: dict[str, Any], name: str, *, positive: bool) -> float:
    value = record.get(name)
    if value is None:
        raise RejectedRecord(reasons.MISSING_VALUE, f"no {name}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name} is not a number: {value!r}")
    if not math.isfinite(value):
        raise RejectedRecord(reasons.NON_FINITE, f"{name}={value}")
    if positive and value <= 0:
        raise RejectedRecord(reasons.NON_POSITIVE_PRICE, f"{name}={value}")
    if value < 0:
        raise RejectedRecord(reasons.NEGATIVE_SIZE, f"{name}={value}")
    return float(value)


def _optional(record: dict[str, Any], name: str, *, positive: bool = False) -> None:
    if record.get(name) is not None:
        _number(record, name, positive=positive)


def _identity(record: dict[str, Any]) -> None:
    check_names(record)
    if not record.get("instrument"):
        raise RejectedRecord(reasons.MISSING_IDENTITY, "no instrument")


def check_bar(bar: dict[str, Any], received_ts: int, max_future_s: float) -> None:
    """OHLC present, finite and positive; high and low contain open and close; volume >= 0;
    the start on the interval's UTC grid (see grid_us); the bar closed by its receipt (give or
    take the clock drift allowed to live ticks)."""
    _identity(bar)
    open_, high, low, close = (
        _number(bar, name, positive=True) for name in ("open", "high", "low", "close")
    )
    _number(bar, "volume", positive=False)
    _optional(bar, "adj_close", positive=True)
    if high < max(open_, close) or low > min(open_, close):
        raise RejectedRecord(
            reasons.BAR_INCONSISTENT, f"open {open_} high {high} low {low} close {close}"
        )
    length = interval_us(str(bar.get("interval") or ""))
    start = bar.get("start_ts")
    if not isinstance(start, int):
        raise RejectedRecord(reasons.MISSING_IDENTITY, "no bar start")
    if length is None or start % grid_us(length):
        raise RejectedRecord(
            reasons.BAR_OFF_GRID, f"start_ts {start} is not on the {bar.get('interval')!r} grid"
        )
    if start + length > received_ts + max_future_s * 1_000_000:
        raise RejectedRecord(
            reasons.FUTURE_BAR,
            f"bar [{start}, {start + length}) ends after received_ts {received_ts}",
        )


def _date(record: dict[str, Any], name: str, received_ts: int) -> None:
    day = record.get(name)
    if not isinstance(day, int) or isinstance(day, bool):
        raise RejectedRecord(reasons.MISSING_IDENTITY, f"no {name}")
    if day * _US_PER_DAY > received_ts:
        raise RejectedRecord(
            reasons.FUTURE_DATE, f"{name} {day} is after received_ts {received_ts}"
        )


def check_short_volume(record: dict[str, Any], received_ts: int, _max_future_s: float) -> None:
    _identity(record)
    _date(record, "trade_date", received_ts)
    _number(record, "short_volume", positive=False)
    _number(record, "total_volume", positive=False)
    _optional(record, "short_exempt_volume")


def check_short_interest(record: dict[str, Any], received_ts: int, _max_future_s: float) -> None:
    _identity(record)
    _date(record, "settlement_date", received_ts)
    _number(record, "short_interest", positive=False)
    for name in ("previous_short_interest", "average_daily_volume", "days_to_cover"):
        _optional(record, name)


CHECKS: dict[str, Callable[[dict[str, Any], int, float], None]] = {
    BAR: check_bar,
    SHORT_VOLUME: check_short_volume,
    SHORT_INTEREST: check_short_interest,
}
