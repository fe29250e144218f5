"""Mappings of vendor history (raw records with history=True, published by a backfill) to the
records tickwire stores: vendor bars, backfilled ticks, short volume and short interest. One
module per vendor; HISTORY_MAPPINGS (in .registry) holds them by the raw record's provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The record kinds a history mapping produces: each the name of its Avro schema.
TICK = "tick"
BAR = "bar"
SHORT_VOLUME = "short_volume"
SHORT_INTEREST = "short_interest"


@dataclass(frozen=True)
class HistoryRow:
    """What a mapping sees of one raw record: its envelope, and its payload decoded (the JSON
    value, or the text when content_type is not JSON)."""

    provider: str
    feed: str  # the dataset, e.g. ohlcv:1d, trades, regsho, short_interest
    instrument: str  # the vendor's own name, as the backfill wrapped it
    received_ts: int
    message: Any


@dataclass(frozen=True)
class Mapped:
    """One record of `kind` made from a vendor row.

    A bar, short volume or short interest record is complete as its schema has it (the unified
    `instrument` included). A tick has the shape the live mappings give (`venue_instrument`,
    `exchange_ts`, ...): normalize stamps it like a live tick and sets history=True."""

    kind: str
    record: dict[str, Any]


HistoryMap = Callable[[HistoryRow], list[Mapped]]
