"""The history mappings by provider (the raw record's provider field)."""

from __future__ import annotations

from tickwire_normalize.domain.history import HistoryMap, finra

HISTORY_MAPPINGS: dict[str, HistoryMap] = {
    finra.PROVIDER: finra.map_row,
}
