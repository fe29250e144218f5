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


@dataclass(frozen=True)
class Limits:
    max_future_s: float = 300.0  # venue clocks drift; more than this is a broken clock
    max_past_s: float = 7 * 86_400.0  # replays of a week are fine; older needs a backfill job


def validate(tick: dict[str, Any], received_ts: int, limits: Limits) -> None:
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
