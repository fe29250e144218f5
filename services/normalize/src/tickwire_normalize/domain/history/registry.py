"""The history mappings by provider (the raw record's provider field)."""

from __future__ import annotations

from tickwire_normalize.domain.history import HistoryMap, coingecko, exchange, finra, yahoo

HISTORY_MAPPINGS: dict[str, HistoryMap] = {
    yahoo.PROVIDER: yahoo.map_row,
    coingecko.PROVIDER: coingecko.map_row,
    finra.PROVIDER: finra.map_row,
    # One mapping for the four venues whose history comes through ccxt.
    "binance": exchange.map_row,
    "coinbase": exchange.map_row,
    "kraken": exchange.map_row,
    "deribit": exchange.map_row,
}
