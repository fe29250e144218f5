"""Building tick records for tests of the services downstream of normalize."""

from __future__ import annotations

import random
from typing import Any


def quote(
    instrument: str, ts: int, bid: float, ask: float, provider: str = "simulator", **extra: Any
) -> dict[str, Any]:
    return {
        "provider": provider,
        "instrument": instrument,
        "kind": "quote",
        "exchange_ts": ts,
        "received_ts": ts + 100,
        "bid_price": bid,
        "bid_amount": 1.0,
        "ask_price": ask,
        "ask_amount": 1.0,
        **extra,
    }


def trade(
    instrument: str, ts: int, price: float, size: float, provider: str = "simulator", **extra: Any
) -> dict[str, Any]:
    return {
        "provider": provider,
        "instrument": instrument,
        "kind": "trade",
        "exchange_ts": ts,
        "received_ts": ts + 100,
        "last_traded_price": price,
        "last_traded_volume": size,
        "trade_id": f"{instrument}-{ts}",
        "side": "buy",
        **extra,
    }


def unindexable_name(seed: int = 54) -> str:
    """A name of 10,000 bytes that no index row can hold (PostgreSQL refuses it with 54000): random
    hex does not compress, where 10 kB of one letter would compress small enough to be stored."""
    return random.Random(seed).randbytes(5_000).hex()
