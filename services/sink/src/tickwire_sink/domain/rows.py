"""Ticks as table rows: the column order of the ticks table and each tick's natural key."""

from __future__ import annotations

import hashlib
import json
from typing import Any

IDENTITY = ("provider", "instrument", "kind", "exchange_ts", "received_ts")
_NOT_COLUMNS = {"exchange_ts", "received_ts", "dedup_key"}  # written first, always set


def tick_columns(schema_fields: list[str]) -> list[str]:
    """Value columns of the ticks table, in the tick schema's order (the migrations mirror it)."""
    return [name for name in schema_fields if name not in _NOT_COLUMNS]


def dedup_key(tick: dict[str, Any]) -> str:
    """What tells two ticks of one instrument, kind and exchange time apart: the venue's trade id,
    else its sequence number, else the tick's content. A primary and a replica that saw the same
    update produce the same key, so the database keeps one row. Normalize sets the key on the
    tick (it knows which venue fields identify an update); this is the fallback."""
    if tick.get("dedup_key"):
        return str(tick["dedup_key"])
    if tick.get("trade_id"):
        return f"t:{tick['trade_id']}"
    if tick.get("venue_seq") is not None:
        return f"s:{tick['venue_seq']}"
    content = {
        k: v
        for k, v in tick.items()
        if v is not None and k not in {"received_ts", "ingest_instance", "ingest_seq"}
    }
    digest = hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=16)
    return f"h:{digest.hexdigest()}"
