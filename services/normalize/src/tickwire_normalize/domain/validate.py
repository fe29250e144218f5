"""Checks every normalized tick must pass; the first failure rejects it with a reason code."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons

PRICE_FIELDS = (
    "bid_price",
    "ask_price",
    "last_traded_price",
    "day_high",
    "day_low",
    "index_price",
    "mark_price",
    "settlement_price",
    "estimated_delivery_price",
    "delivery_price",
    "underlying_price",
    "high_24h",
    "low_24h",
)
SIZE_FIELDS = (
    "bid_amount",
    "ask_amount",
    "last_traded_volume",
    "incremental_trading_volume",
    "open_interest",
    "volume_24h",
    "volume_usd_24h",
)
HIGH_LOW_PAIRS = (("day_high", "day_low"), ("high_24h", "low_24h"), ("max_price", "min_price"))
_US_PER_S = 1_000_000
# Names and ids from outside go into the stored tables' unique indexes, whose rows PostgreSQL caps
# at about 2.7 kB: a longer one fails the sink's insert, and a batch that always fails stalls the
# sink. No venue's names come near this; a provider's are known (mappings) and short.
MAX_NAME_BYTES = 256
NAME_FIELDS = ("provider", "instrument", "venue_instrument", "trade_id")


@dataclass(frozen=True)
class Limits:
    max_future_s: float = 300.0  # venue clocks drift; more than this is a broken clock
    max_past_s: float = 7 * 86_400.0  # replays of a week are fine; older needs a backfill job


def fits(name: str) -> bool:
    """Whether a name or id is short enough to be stored (MAX_NAME_BYTES in UTF-8)."""
    return len(name) <= MAX_NAME_BYTES and len(name.encode("utf-8", "replace")) <= MAX_NAME_BYTES


def check_names(record: dict[str, Any]) -> None:
    for name in NAME_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and not fits(value):
            size = len(value.encode("utf-8", "replace"))
            raise RejectedRecord(
                reasons.NAME_TOO_LONG,
                f"{name} of {size} bytes, above the limit of {MAX_NAME_BYTES}",
            )


def validate(tick: dict[str, Any], received_ts: int, limits: Limits) -> None:
    check_names(tick)
    if not tick.get("instrument"):
        raise RejectedRecord(reasons.MISSING_IDENTITY, "no instrument")
    exchange_ts = tick.get("exchange_ts")
    if exchange_ts is None:
        raise RejectedRecord(reasons.MISSING_IDENTITY, "no exchange timestamp")
    if exchange_ts > received_ts + limits.max_future_s * _US_PER_S:
        raise RejectedRecord(
            reasons.TIMESTAMP_OUT_OF_RANGE,
            f"exchange_ts {exchange_ts} is more than {limits.max_future_s:.0f}s "
            f"after received_ts {received_ts}",
        )
    if exchange_ts < received_ts - limits.max_past_s * _US_PER_S:
        raise RejectedRecord(
            reasons.TIMESTAMP_OUT_OF_RANGE,
            f"exchange_ts {exchange_ts} is more than {limits.max_past_s:.0f}s "
            f"before received_ts {received_ts}",
        )
    for name, value in tick.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise RejectedRecord(reasons.NON_FINITE, f"{name}={value}")
    for name in PRICE_FIELDS:
        value = tick.get(name)
        if value is not None and value <= 0:
            raise RejectedRecord(reasons.NON_POSITIVE_PRICE, f"{name}={value}")
    for name in SIZE_FIELDS:
        value = tick.get(name)
        if value is not None and value < 0:
            raise RejectedRecord(reasons.NEGATIVE_SIZE, f"{name}={value}")
    bid, ask = tick.get("bid_price"), tick.get("ask_price")
    if bid is not None and ask is not None:
        if bid > ask:
            raise RejectedRecord(reasons.CROSSED_MARKET, f"bid {bid} > ask {ask}")
        if bid == ask:
            raise RejectedRecord(reasons.LOCKED_MARKET, f"bid {bid} == ask {ask}")
    for high, low in HIGH_LOW_PAIRS:
        hi, lo = tick.get(high), tick.get(low)
        if hi is not None and lo is not None and hi < lo:
            raise RejectedRecord(reasons.HIGH_BELOW_LOW, f"{high} {hi} < {low} {lo}")
