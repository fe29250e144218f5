"""Mapping of the simulator's messages (see tickwire_ingest.domain.simulator) to the tick schema."""

from __future__ import annotations

from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.values import decimal_field, int_field, str_field

PROVIDER = "simulator"


def symbol(venue_instrument: str) -> str:
    return venue_instrument  # simulated names are already unified: SIM-BTC-USD


def map_message(_feed: str, message: Any, _received_ts: int) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    kind = message.get("type")
    tick: dict[str, Any] = {
        "venue_instrument": str_field(message, "instrument"),
        "exchange_ts": int_field(message, "ts"),
        "venue_seq": int_field(message, "seq"),
    }
    if kind == "quote":
        tick.update(
            kind="quote",
            bid_price=decimal_field(message, "bid"),
            bid_amount=decimal_field(message, "bid_size"),
            ask_price=decimal_field(message, "ask"),
            ask_amount=decimal_field(message, "ask_size"),
        )
    elif kind == "trade":
        tick.update(
            kind="trade",
            last_traded_price=decimal_field(message, "price"),
            last_traded_volume=decimal_field(message, "size"),
            trade_id=str_field(message, "trade_id"),
            side=str_field(message, "side"),
        )
    else:
        raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"simulator message type {kind!r}")
    return [tick]
