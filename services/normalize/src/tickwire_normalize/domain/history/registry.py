"""The history mappings by provider (the raw record's provider field)."""

from __future__ import annotations

from tickwire_normalize.domain.history import HistoryMap, yahoo

HISTORY_MAPPINGS: dict[str, HistoryMap] = {
    yahoo.PROVIDER: yahoo.map_row,
}
