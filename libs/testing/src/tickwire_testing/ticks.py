"""Building tick records for tests of the services downstream of normalize."""

from __future__ import annotations

import random
import string
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


def incompressible_name(length: int, seed: int) -> str:
    """Random letters, which PostgreSQL cannot compress into an index row: from about 2.7 kB such a
    name fails an indexed insert (54000), where as many of one letter would compress and fit."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters) for _ in range(length))
