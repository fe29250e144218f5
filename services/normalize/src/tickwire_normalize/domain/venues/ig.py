"""Mapping of IG Lightstreamer MARKET item updates (assembled by the connector into full snapshots
of string-or-null values) to ticks of kind "quote"."""

from __future__ import annotations

import re
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons, symbols
from tickwire_normalize.domain.reads import not_mapped
from tickwire_normalize.domain.values import (
    TIME_NOT_IDENTITY,
    decimal_field,
    epoch_millis_field,
    object_field,
    present,
    shown,
    str_field,
)

PROVIDER = "ig"

_MARKET_ITEM = "MARKET:"
_CURRENCY_PAIR_EPIC = re.compile(r"CS\.D\.([A-Z]{3})([A-Z]{3})\.[A-Z0-9_]+\.IP")
# ISO 4217 codes of the currencies IG quotes pairs in; a six-letter epic of other letters (a
# commodity or an index) is not a currency pair.
CURRENCIES = frozenset({
    "AUD", "BRL", "CAD", "CHF", "CNH", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "ILS", "INR",
    "JPY", "KRW", "MXN", "NOK", "NZD", "PLN", "RUB", "SEK", "SGD", "THB", "TRY", "TWD", "USD",
    "ZAR",
})  # fmt: skip

# IG field -> tick field. The chart tick item's names (CHART:<epic>:TICK: OFR, DAY_HIGH, ...),
# which the connector asks for, and the MARKET:<epic> item's own names (OFFER, HIGH, ...) for the
# same values; where an update carries both, the chart tick's is taken (it comes first here).
_VALUES = {
    "BID": "bid_price",
    "OFR": "ask_price",
    "OFFER": "ask_price",
    "LTP": "last_traded_price",
    "LTV": "last_traded_volume",
    "TTV": "incremental_trading_volume",
    "DAY_OPEN_MID": "day_open_mid",
    "MID_OPEN": "day_open_mid",
    "DAY_NET_CHG_MID": "day_net_change_mid",
    "CHANGE": "day_net_change_mid",
    "DAY_PERC_CHG_MID": "day_percent_change_mid",
    "CHANGE_PCT": "day_percent_change_mid",
    "DAY_HIGH": "day_high",
    "HIGH": "day_high",
    "DAY_LOW": "day_low",
    "LOW": "day_low",
}
_READ = (*_VALUES, "UTM", "MARKET_STATE")


def _currency_pair(epic: str) -> tuple[str, str] | None:
    match = _CURRENCY_PAIR_EPIC.fullmatch(epic)
    if match is None or not {match.group(1), match.group(2)} <= CURRENCIES:
        return None
    return match.group(1), match.group(2)


# A currency-pair epic (CS.D.EURUSD.TODAY.IP) -> EUR-USD; any other epic stays as it is.
symbol = symbols.spot_pairs(_currency_pair)


def map_message(_feed: str, message: Any, received_ts: int) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    item = str_field(message, "item") or ""
    if not item.startswith(_MARKET_ITEM):
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"ig item {shown(item)}")
    values = object_field(message, "values")
    if values is None:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "ig update without values")
    # UPDATE_TIME is a UK time of day to the second, without a date: UTM (epoch ms) or the
    # receipt time stands in. MARKET_DELAY (delayed prices or not) has no place in a tick.
    not_mapped(values, "UPDATE_TIME", "MARKET_DELAY")
    # An empty value carries no more than a null one.
    values = {name: None if (value := values.get(name)) == "" else value for name in _READ}
    state = str_field(values, "MARKET_STATE")
    venue_time = epoch_millis_field(values, "UTM")
    tick: dict[str, Any] = {
        "kind": "quote",
        "venue_instrument": item.removeprefix(_MARKET_ITEM) or None,
        "exchange_ts": received_ts if venue_time is None else venue_time,
        "order_book_state": None if state is None else state.lower(),
        TIME_NOT_IDENTITY: True if venue_time is None else None,
    }
    for name, field in _VALUES.items():
        value = decimal_field(values, name)
        if tick.get(field) is None:
            tick[field] = value
    return [present(tick)]
