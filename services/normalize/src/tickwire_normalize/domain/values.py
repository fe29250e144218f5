"""Reading typed values out of venue JSON, with rejects that say which field was wrong."""

from __future__ import annotations

import math
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons


def decimal_field(message: dict[str, Any], name: str) -> float | None:
    """A decimal string (or JSON number) as float64; float() of a decimal string is correctly
    rounded, so nothing is lost beyond float64's own precision."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={value!r} is not a decimal number"
        ) from None
    if not math.isfinite(number):
        raise RejectedRecord(reasons.NON_FINITE, f"{name}={value!r} is not finite")
    return number


def int_field(message: dict[str, Any], name: str) -> int | None:
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={value!r} is not an integer")
    try:
        return int(value)
    except ValueError:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={value!r} is not an integer"
        ) from None


def str_field(message: dict[str, Any], name: str) -> str | None:
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={value!r} is not a string")
    return value
