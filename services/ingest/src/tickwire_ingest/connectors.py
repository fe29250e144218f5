"""What the connector TICKWIRE_CONNECTOR names needs from the settings, checked and built once:
the simulator's faults, and each WebSocket venue from the instruments, endpoint and its own."""

from __future__ import annotations

from collections.abc import Callable

from tickwire_core.errors import ConfigError
from tickwire_ingest.domain.faults import FaultConfig
from tickwire_ingest.domain.protocol import Venue
from tickwire_ingest.domain.venues import binance, coinbase, deribit, ig, kraken
from tickwire_ingest.settings import IngestSettings


def fault_config(settings: IngestSettings) -> FaultConfig:
    """The simulator's faults. At a set rate a silence or a disconnect is counted in updates (its
    seconds at that rate), so a primary and a replica of one seed fall silent and resume at the
    same update."""
    if not settings.sim_faults:
        return FaultConfig()
    return FaultConfig(
        crossed=settings.sim_fault_crossed,
        spike=settings.sim_fault_spike,
        spike_factor=settings.sim_fault_spike_factor,
        spike_sizes=settings.sim_spike_sizes(),
        duplicate=settings.sim_fault_duplicate,
        out_of_order=settings.sim_fault_out_of_order,
        malformed=settings.sim_fault_malformed,
        silence=settings.sim_fault_silence,
        silence_s=settings.sim_fault_silence_s,
        silence_updates=round(settings.sim_fault_silence_s * settings.sim_rate),
        gap=settings.sim_fault_gap,
        gap_size=settings.sim_fault_gap_size,
        jump=settings.sim_fault_jump,
        jump_sizes=settings.sim_jump_sizes(),
        jump_s=settings.sim_fault_jump_s,
        jump_updates=round(settings.sim_fault_jump_s * settings.sim_rate),
    )


def make_venue(settings: IngestSettings) -> Venue:
    factory = VENUES.get(settings.connector)
    if factory is None:
        raise ConfigError(f"TICKWIRE_CONNECTOR={settings.connector} is not a WebSocket venue")
    return factory(settings)


def instruments(settings: IngestSettings, example: str) -> tuple[str, ...]:
    """TICKWIRE_INSTRUMENTS, which every venue needs; `example` shows the venue's spelling."""
    names = settings.venue_instruments()
    if not names:
        raise ConfigError(f"TICKWIRE_INSTRUMENTS is required for {settings.connector} ({example})")
    return names


def names(value: str, empty: str, *, besides: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A comma-separated list of a venue's own setting, blanks and `besides` left out; `empty`
    is the error when nothing is left."""
    found = tuple(n for n in (part.strip() for part in value.split(",")) if n and n not in besides)
    if not found:
        raise ConfigError(empty)
    return found


def _binance(settings: IngestSettings) -> Venue:
    return binance.BinanceVenue(
        instruments(settings, "e.g. BTCUSDT"),
        kinds=names(
            settings.binance_streams,
            "TICKWIRE_BINANCE_STREAMS names no stream (e.g. bookTicker,aggTrade)",
        ),
        streams_per_connection=settings.binance_streams_per_connection,
        url=settings.venue_url or binance.DEFAULT_URL,
        max_connection_age_s=settings.binance_max_connection_age_s,
    )


def _coinbase(settings: IngestSettings) -> Venue:
    return coinbase.CoinbaseVenue(
        instruments=instruments(settings, "e.g. BTC-USD,ETH-USD"),
        channels=names(
            settings.coinbase_channels,
            "TICKWIRE_COINBASE_CHANNELS names no channel besides heartbeats",
            besides=(coinbase.HEARTBEATS,),  # always subscribed, on a channel of its own
        ),
        url=settings.venue_url or coinbase.DEFAULT_URL,
        stale_after_s=settings.stale_after_s or coinbase.DEFAULT_STALE_AFTER_S,
    )


def _deribit(settings: IngestSettings) -> Venue:
    return deribit.DeribitVenue(
        instruments(settings, "e.g. BTC-PERPETUAL"),
        interval=settings.deribit_interval,
        heartbeat_s=settings.deribit_heartbeat_s,
        url=settings.venue_url or deribit.DEFAULT_URL,
    )


def _ig(settings: IngestSettings) -> Venue:
    epics = instruments(settings, "epics, e.g. CS.D.EURUSD.CFD.IP")
    fields = names(settings.ig_fields, "TICKWIRE_IG_FIELDS names no field")
    password = settings.ig_password.get_secret_value()
    if not settings.ig_user or not password:
        raise ConfigError("TICKWIRE_IG_USER and TICKWIRE_IG_PASSWORD are required for ig")
    return ig.IgVenue(
        # The endpoint as IG's /session API returns it (https://host), or the WebSocket URL.
        url=ig.stream_url(settings.venue_url) if settings.venue_url else ig.DEFAULT_URL,
        epics=epics,
        fields=fields,
        user=settings.ig_user,
        password=password,
        adapter_set=settings.ig_adapter_set,
        stale_after_s=settings.stale_after_s or ig.DEFAULT_STALE_AFTER_S,
    )


def _kraken(settings: IngestSettings) -> Venue:
    return kraken.KrakenVenue(
        instruments=instruments(settings, "e.g. BTC/USD,ETH/USD"),
        channels=names(settings.kraken_channels, "TICKWIRE_KRAKEN_CHANNELS names no channel"),
        url=settings.venue_url or kraken.DEFAULT_URL,
        stale_after_s=settings.stale_after_s or kraken.DEFAULT_STALE_AFTER_S,
    )


VENUES: dict[str, Callable[[IngestSettings], Venue]] = {
    "deribit": _deribit,
    "binance": _binance,
    "coinbase": _coinbase,
    "kraken": _kraken,
    "ig": _ig,
}
