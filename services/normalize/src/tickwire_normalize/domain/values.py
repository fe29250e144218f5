"""Reading typed values out of venue JSON, with rejects that say which field was wrong.
Every reader returns None for a missing or null field and raises RejectedRecord for a bad one."""

from __future__ import annotations

import math
import re
import reprlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1  # what an Avro long holds
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxlong, _SHOWN.maxother = 3, 60, 60, 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_DIGITS = re.compile(r"-?[0-9]{1,19}")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def shown(value: Any) -> str:
    """A bad value as a reject message quotes it: its repr, cut short in length and depth (a
    hostile payload may nest lists as deep as the JSON decoder allows)."""
    return _SHOWN.repr(value)


def decimal_field(message: dict[str, Any], name: str) -> float | None:
    """A decimal string (or JSON number) as float64; float() of a decimal string is correctly
    rounded, so nothing is lost beyond float64's own precision."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a decimal number"
        ) from None
    except OverflowError:  # a JSON integer beyond float64's range
        raise RejectedRecord(reasons.NON_FINITE, f"{name}={shown(value)} is out of range") from None
    if not math.isfinite(number):
        raise RejectedRecord(reasons.NON_FINITE, f"{name}={shown(value)} is not finite")
    return number


def int_field(message: dict[str, Any], name: str) -> int | None:
    """An integer (a JSON integer or a string of one) that fits the tick schema's 64-bit long;
    a larger one could never be written out, so it is rejected here."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not an integer"
        )
    try:
        number = int(value)
    except ValueError:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not an integer"
        ) from None
    if not _LONG_MIN <= number <= _LONG_MAX:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} does not fit 64 bits"
        )
    return number


def str_field(message: dict[str, Any], name: str) -> str | None:
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a string")
    return _text(name, value)


def _text(name: str, value: str) -> str:
    # JSON may escape a lone UTF-16 surrogate (\ud800), which no UTF-8 writer can store.
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise RejectedRecord(
                reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not valid text"
            ) from None
    return value


def id_field(message: dict[str, Any], name: str) -> str | None:
    """A venue's id, a JSON string or integer, as a string (trade ids)."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not an id")
    return _text(name, value)


def side_field(message: dict[str, Any], name: str) -> str | None:
    """A trade side written buy/sell in any case as the tick schema's buy | sell; any other label
    leaves the side unknown rather than losing the trade."""
    value = str_field(message, name)
    side = None if value is None else value.lower()
    return side if side in ("buy", "sell") else None


def object_field(message: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A nested JSON object (Deribit's stats and greeks, a frame's data)."""
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a JSON object"
        )
    return value


def objects_field(message: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A list of JSON objects (a frame's tickers, trades or events); missing means none."""
    value = message.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a list of JSON objects"
        )
    return value


def epoch_millis_field(message: dict[str, Any], name: str) -> int | None:
    """Milliseconds since the epoch (a JSON integer or a string of digits) as UTC microseconds."""
    value = message.get(name)
    if value is None:
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value) * 1000
    if isinstance(value, int) and not isinstance(value, bool) and _LONG_MIN <= value <= _LONG_MAX:
        return value * 1000
    raise RejectedRecord(
        reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not epoch milliseconds"
    )


def rfc3339_field(message: dict[str, Any], name: str) -> int | None:
    """An RFC 3339 time (any number of fraction digits, Z or an offset) as UTC microseconds;
    digits beyond the microsecond are dropped, as the tick schema keeps microseconds."""
    value = message.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a time")
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not an RFC 3339 time"
        )
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction, zulu, sign, off_hours, off_minutes = match.group(7, 8, 9, 10, 11)
    micros = int((fraction or "").ljust(6, "0")[:6])
    try:
        offset = timedelta()
        if not zulu:
            offset = timedelta(hours=int(off_hours), minutes=int(off_minutes))
            offset = -offset if sign == "-" else offset
        moment = datetime(year, month, day, hour, minute, second, micros, timezone(offset))
    except ValueError:  # month 13, hour 25, an offset of a day or more, ...
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"{name}={shown(value)} is not a valid time"
        ) from None
    return (moment - _EPOCH) // _ONE_US


def book_side(
    message: dict[str, Any], price_name: str, amount_name: str
) -> tuple[float | None, float | None]:
    """Best price and amount of one side of a book. Venues show an empty side as price 0 (with
    amount 0 or none); that is no level at all, not a price of zero."""
    price = decimal_field(message, price_name)
    amount = decimal_field(message, amount_name)
    if price == 0 and not amount:
        return None, None
    return price, amount


# Marks a tick whose exchange_ts must stay out of its dedup key (see venues.VenueMapping).
TIME_NOT_IDENTITY = "_exchange_ts_not_identity"


def present(tick: dict[str, Any]) -> dict[str, Any]:
    """The tick without its empty fields: a field the venue did not send stays absent."""
    return {name: value for name, value in tick.items() if value is not None}
