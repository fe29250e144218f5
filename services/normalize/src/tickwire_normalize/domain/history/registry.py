"""The history mappings by provider (the raw record's provider field)."""

from __future__ import annotations

from tickwire_normalize.domain.history import HistoryMap, coingecko

HISTORY_MAPPINGS: dict[str, HistoryMap] = {
    coingecko.PROVIDER: coingecko.map_row,
}
