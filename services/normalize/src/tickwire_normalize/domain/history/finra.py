"""Mapping of FINRA history rows to short_volume records (Reg SHO daily file rows, feed regsho)
and short_interest records (consolidated short interest rows, feed short_interest)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.history import SHORT_INTEREST, SHORT_VOLUME, HistoryRow, Mapped
from tickwire_normalize.domain.values import decimal_field, shown

PROVIDER = "finra"
_EPOCH = date(1970, 1, 1)
_FILE = re.compile(r"([A-Z]{4})shvol[0-9]{8}\.txt")
_PREFERRED = re.compile(r"([A-Z]+)p([A-Z]?)")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9./-]*")


def map_row(row: HistoryRow) -> list[Mapped]:
    if not isinstance(row.message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    if row.feed == "regsho":
        return [Mapped(SHORT_VOLUME, _short_volume(row.message, row.received_ts))]
    if row.feed == "short_interest":
        return [Mapped(SHORT_INTEREST, _short_interest(row.message, row.received_ts))]
    raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"finra feed {shown(row.feed)}")


def unified_symbol(vendor: str) -> str:
    """A FINRA symbol as Yahoo writes it: class shares BRK/B or BRK.B -> BRK-B, preferreds
    ABRpD -> ABR-PD (FINRA marks a preferred with a lower-case p)."""
    text = vendor.strip()
    preferred = _PREFERRED.fullmatch(text)
    if preferred:
        text = f"{preferred.group(1)}-P{preferred.group(2)}"
    text = re.sub(r"[./]", "-", text.upper())
    if not _SYMBOL.fullmatch(text):
        raise RejectedRecord(reasons.MISSING_IDENTITY, f"symbol {shown(vendor)} is not a ticker")
    return text


def _short_volume(message: dict[str, Any], received_ts: int) -> dict[str, Any]:
    facility = _FILE.fullmatch(str(message.get("_file", "")))
    if facility is None:
        raise RejectedRecord(
            reasons.MISSING_IDENTITY, f"_file={shown(message.get('_file'))} is no daily file"
        )
    if "_extra" in message:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"more fields than the header: {shown(message['_extra'])}"
        )
    short = _required(message, "ShortVolume")
    total = _required(message, "TotalVolume")
    # Files before 2011-02-28 have no ShortExemptVolume column; a row that lacks it in a
    # file that has it is cut short.
    exempt = _required(message, "ShortExemptVolume") if "ShortExemptVolume" in message else None
    if short > total:
        raise RejectedRecord(
            reasons.INCONSISTENT_VOLUME, f"ShortVolume {short} above TotalVolume {total}"
        )
    if exempt is not None and exempt > short:
        # ShortVolume counts short and short exempt sales, so the exempt part cannot exceed it.
        raise RejectedRecord(
            reasons.INCONSISTENT_VOLUME, f"ShortExemptVolume {exempt} above ShortVolume {short}"
        )
    market = message.get("Market")
    if market is None:
        raise RejectedRecord(reasons.MISSING_VALUE, "no Market column")
    return {
        "provider": PROVIDER,
        "instrument": _instrument(message, "Symbol"),
        "facility": facility.group(1),
        "trade_date": _days(message, "Date", "%Y%m%d"),
        "short_volume": short,
        "short_exempt_volume": exempt,
        "total_volume": total,
        "market": str(market),
        "received_ts": received_ts,
    }


def _short_interest(message: dict[str, Any], received_ts: int) -> dict[str, Any]:
    market = message.get("marketClassCode")
    return {
        "provider": PROVIDER,
        "instrument": _instrument(message, "symbolCode"),
        "settlement_date": _days(message, "settlementDate", "%Y-%m-%d"),
        "short_interest": _required(message, "currentShortPositionQuantity"),
        "previous_short_interest": _optional(message, "previousShortPositionQuantity"),
        "average_daily_volume": _optional(message, "averageDailyVolumeQuantity"),
        # Published as FINRA has it, its 999.99 cap for issues without volume included.
        "days_to_cover": _optional(message, "daysToCoverQuantity"),
        "market": market if isinstance(market, str) else "",
        "received_ts": received_ts,
    }


def _instrument(message: dict[str, Any], name: str) -> str:
    symbol = message.get(name)
    if not isinstance(symbol, str) or not symbol.strip():
        raise RejectedRecord(reasons.MISSING_IDENTITY, f"no {name}")
    return unified_symbol(symbol)


def _days(message: dict[str, Any], name: str, layout: str) -> int:
    """A date as days since 1970-01-01 (the Avro date)."""
    value = message.get(name)
    try:
        day = datetime.strptime(value, layout).date() if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise RejectedRecord(reasons.MISSING_IDENTITY, f"{name}={shown(value)} is not a date")
    return (day - _EPOCH).days


def _required(message: dict[str, Any], name: str) -> float:
    number = _optional(message, name)
    if number is None:
        raise RejectedRecord(reasons.MISSING_VALUE, f"no {name}")
    return number


def _optional(message: dict[str, Any], name: str) -> float | None:
    """A volume or quantity: a number or a string of one (files carry fractional shares since
    FINRA counts them); empty means absent; below zero is rejected."""
    if message.get(name) == "":
        return None
    number = decimal_field(message, name)
    if number is not None and number < 0:
        raise RejectedRecord(reasons.NEGATIVE_SIZE, f"{name}={shown(message.get(name))}")
    return number
