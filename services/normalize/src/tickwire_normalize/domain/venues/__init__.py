"""One mapping per provider: venue message -> ticks of the unified schema (see docs/mappings.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tickwire_normalize.domain.venues import binance, coinbase, deribit, ig, kraken, simulator


@dataclass(frozen=True)
class VenueMapping:
    # (feed, decoded JSON message, received_ts) -> ticks. A tick carries the venue's instrument in
    # "venue_instrument" (the unified name is derived from it). Where the venue gives no event
    # time, exchange_ts = received_ts; then, and where the venue's time may differ between two
    # connections receiving the same update, the tick also carries
    # "_exchange_ts_not_identity": True, so the time is left out of its dedup key.
    map: Callable[[str, Any, int], list[dict[str, Any]]]
    # venue instrument name -> unified instrument name
    symbol: Callable[[str], str]


MAPPINGS: dict[str, VenueMapping] = {
    simulator.PROVIDER: VenueMapping(simulator.map_message, simulator.symbol),
    deribit.PROVIDER: VenueMapping(deribit.map_message, deribit.symbol),
    binance.PROVIDER: VenueMapping(binance.map_message, binance.symbol),
    coinbase.PROVIDER: VenueMapping(coinbase.map_message, coinbase.symbol),
    kraken.PROVIDER: VenueMapping(kraken.map_message, kraken.symbol),
    ig.PROVIDER: VenueMapping(ig.map_message, ig.symbol),
}
