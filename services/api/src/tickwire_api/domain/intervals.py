"""Bar intervals ("1s" .. "1d") as seconds, the stored bars they are built from, and the time
ranges a request may ask for."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
_INTERVAL = re.compile(r"^([1-9][0-9]{0,5})([smhd])$")
MIN_SECONDS = 1
MAX_SECONDS = 86_400
INTERVAL_PATTERN = _INTERVAL.pattern


class RangeError(ValueError):
    """A request's time range or interval is refused; `parameter` names the one to fix."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def interval_seconds(interval: str) -> int:
    """ "15m" -> 900. Anything but a whole number of s, m, h or d between 1 s and 1 d is refused."""
    match = _INTERVAL.match(interval)
    if match is None:
        raise RangeError(
            "interval", f"interval {interval!r} is not a number followed by s, m, h or d"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise RangeError("interval", f"interval {interval!r} is not between 1s and 1d")
    return seconds


def base_interval(seconds: int) -> str:
    """The stored bars to aggregate: minute bars when they tile the interval (sixty times fewer
    rows to read), else second bars."""
    return "1m" if seconds % 60 == 0 else "1s"


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise RangeError("end", f"end {end.isoformat()} is not after start {start.isoformat()}")


def check_range_days(start: datetime, end: datetime, max_days: int, setting: str) -> None:
    """`setting` names the variable that sets the cap, for the operator the client asks."""
    check_range(start, end)
    if end - start > timedelta(days=max_days):
        raise RangeError(
            "end",
            f"the range from start to end is longer than {max_days} days (the server's "
            f"{setting}): ask for it in shorter ranges",
        )


def check_buckets(start: datetime, end: datetime, seconds: int, max_buckets: int) -> int:
    """The number of buckets [start, end) spans at `seconds` each (a partial one counts)."""
    check_range(start, end)
    span = end - start
    step = timedelta(seconds=seconds)
    buckets = -(-span // step)
    if buckets > max_buckets:
        raise RangeError(
            "end",
            f"{buckets} buckets of {seconds}s from start to end; at most {max_buckets} (the "
            "server's TICKWIRE_MAX_BUCKETS): shorten the range or widen the interval",
        )
    return buckets


def bar_seconds(interval: str, start: datetime, end: datetime, max_buckets: int) -> int:
    """The interval in seconds, once it and the buckets of [start, end) are within the caps."""
    seconds = interval_seconds(interval)
    check_buckets(start, end, seconds, max_buckets)
    return seconds
