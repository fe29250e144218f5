"""Ticks as table rows: the column order of the ticks table (the natural key's dedup_key comes
from tickwire_core.identity)."""

from __future__ import annotations

_NOT_COLUMNS = {"exchange_ts", "received_ts", "dedup_key"}  # written first, always set


def tick_columns(schema_fields: list[str]) -> list[str]:
    """Value columns of the ticks table, in the tick schema's order (the migrations mirror it)."""
    return [name for name in schema_fields if name not in _NOT_COLUMNS]
