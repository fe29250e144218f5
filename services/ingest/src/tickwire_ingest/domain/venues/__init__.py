"""The WebSocket venues the ingest service can connect to, by the name used in
TICKWIRE_CONNECTOR; each module turns the settings into its Venue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tickwire_core.errors import ConfigError
from tickwire_ingest.domain.protocol import Venue
from tickwire_ingest.domain.venues import binance, coinbase, deribit, ig, kraken

if TYPE_CHECKING:
    from tickwire_ingest.settings import IngestSettings

VENUES: dict[str, Callable[[IngestSettings], Venue]] = {
    "deribit": deribit.make,
    "binance": binance.make,
    "coinbase": coinbase.make,
    "kraken": kraken.make,
    "ig": ig.make,
}


def make_venue(settings: IngestSettings) -> Venue:
    factory = VENUES.get(settings.connector)
    if factory is None:
        raise ConfigError(f"TICKWIRE_CONNECTOR={settings.connector} is not a WebSocket venue")
    return factory(settings)
