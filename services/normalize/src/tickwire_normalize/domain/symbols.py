"""Unified instrument names (BASE-QUOTE, BASE-QUOTE-PERP, BASE-QUOTE-YYYYMMDD,
BASE-QUOTE-YYYYMMDD-STRIKE-C|P) and the pieces of venue names they are built from."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

_ASSET = re.compile(r"[A-Z0-9]{1,20}")
_VENUE_EXPIRY = re.compile(r"([0-9]{1,2})([A-Z]{3})([0-9]{2})")  # 27DEC24, 1JUN21
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def is_asset(text: str) -> bool:
    """An asset code as the unified names carry it: upper-case letters and digits."""
    return _ASSET.fullmatch(text) is not None


def spot(base: str, quote: str) -> str:
    return f"{base}-{quote}"


def perpetual(base: str, quote: str) -> str:
    return f"{base}-{quote}-PERP"


def future(base: str, quote: str, expiry: date) -> str:
    return f"{base}-{quote}-{expiry:%Y%m%d}"


def option(base: str, quote: str, expiry: date, strike: str, right: str) -> str:
    return f"{base}-{quote}-{expiry:%Y%m%d}-{strike}-{right}"


def venue_expiry(text: str) -> date | None:
    """A DMMMYY expiry as venues write it (27DEC24) as a date; None if it is not one."""
    match = _VENUE_EXPIRY.fullmatch(text)
    if match is None or match.group(2) not in _MONTHS:
        return None
    try:
        return date(
            2000 + int(match.group(3)), _MONTHS.index(match.group(2)) + 1, int(match.group(1))
        )
    except ValueError:  # 31FEB25
        return None


def split_pair(name: str, quotes: Iterable[str]) -> tuple[str, str] | None:
    """BASE and QUOTE of a name written without a separator (BTCUSDT), by the longest known quote
    asset it ends with; None when no known quote ends it or nothing is left for the base."""
    if not is_asset(name):
        return None
    for quote in sorted(quotes, key=len, reverse=True):
        if name.endswith(quote) and len(name) > len(quote):
            return name[: -len(quote)], quote
    return None


def split_separated(name: str, separator: str) -> tuple[str, str] | None:
    """BASE and QUOTE of a name written with a separator (BTC/USD, BTC-USD); None otherwise."""
    parts = name.split(separator)
    if len(parts) != 2 or not all(is_asset(part) for part in parts):
        return None
    return parts[0], parts[1]


def spot_pairs(split: Callable[[str], tuple[str, str] | None]) -> Callable[[str], str]:
    """A venue's symbol() for spot names: BASE-QUOTE where `split` finds the pair in the venue's
    name, else the venue's name unchanged (symbol() never fails)."""

    def symbol(venue_instrument: str) -> str:
        pair = split(venue_instrument)
        return venue_instrument if pair is None else spot(*pair)

    return symbol


def separated_by(separator: str) -> Callable[[str], tuple[str, str] | None]:
    return lambda name: split_separated(name, separator)
