"""Settings of the ingest service (environment variables TICKWIRE_<FIELD>)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from tickwire_core.settings import KafkaServiceSettings
from tickwire_ingest.domain.faults import parse_spike_sizes_bps
from tickwire_ingest.domain.simulator import InstrumentSpec, parse_instruments

Connector = Literal["simulator", "replay", "deribit", "binance", "coinbase", "kraken", "ig"]


class IngestSettings(KafkaServiceSettings):
    connector: Connector = "simulator"
    ingest_instance: str = Field(
        "primary",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
        description="Carried on every raw record: primary, replica, ...",
    )
    feed: str = Field(
        "",
        pattern=r"^([a-z0-9][a-z0-9-]{0,23})?$",
        description="The feed's name: its instances beat as <feed>/<instance> (/v1/status), so "
        "two feeds of one connector stay apart; empty = the connector's name.",
    )
    max_block_ms: int = Field(
        2000,
        ge=0,
        le=60_000,
        description="How long a connector may wait for room in the Kafka producer's queue before "
        "the message is counted as lost and a backpressure gap event is published.",
    )

    # --- WebSocket venues (deribit, binance, coinbase, kraken, ig) ---
    instruments: str = Field(
        "", description="The venue's instrument names, comma separated (e.g. BTC-PERPETUAL)."
    )
    venue_url: str = Field("", description="Endpoint; empty = the venue's public one.")
    stale_after_s: float | None = Field(
        None, gt=0, description="No frame for this long recycles the connection; empty = venue's."
    )
    reconnect_min_s: float = Field(0.5, gt=0, description="First reconnect delay.")
    reconnect_max_s: float = Field(60.0, gt=0, description="Cap of the reconnect delay.")
    deribit_interval: Literal["raw", "100ms", "agg2"] = "100ms"
    deribit_heartbeat_s: int = Field(30, ge=10, le=3600, description="Heartbeat interval.")
    binance_streams: str = Field("bookTicker,aggTrade", description="Stream types per symbol.")
    binance_streams_per_connection: int = Field(1024, ge=1, le=1024)
    binance_max_connection_age_s: float = Field(
        23 * 3600.0, gt=0, le=24 * 3600.0, description="Planned reconnect before the 24 h cut-off."
    )
    coinbase_channels: str = Field("ticker,market_trades", description="Besides heartbeats.")
    kraken_channels: str = Field("ticker,trade")
    ig_fields: str = Field(
        "BID,OFR,LTV,UTM,DAY_OPEN_MID,DAY_NET_CHG_MID,DAY_PERC_CHG_MID,DAY_HIGH,DAY_LOW",
        description="Lightstreamer fields subscribed per MARKET:<epic> item.",
    )
    ig_adapter_set: str = Field("DEFAULT", description="Lightstreamer adapter set.")
    ig_user: str = Field("", description="Lightstreamer user (IG: the account id).")
    ig_password: SecretStr = Field(
        SecretStr(""), description="Lightstreamer password (IG: CST-<cst>|XST-<token>)."
    )

    # --- replay ---
    replay_path: str = Field("", description="Recorded raw messages: JSON lines, .gz accepted.")
    replay_speed: float = Field(
        1.0, ge=0, description="1 = recorded speed, 10 = ten times faster, 0 = as fast as possible."
    )

    # --- simulator ---
    sim_instruments: str = Field(
        "SIM-BTC-USD:65000:0.5,SIM-ETH-USD:3500:0.05,SIM-SOL-USD:150:0.01",
        description="name[:start price[:tick size]], comma separated.",
    )
    sim_seed: int = 42
    sim_rate: float = Field(
        200.0, ge=0, description="Messages per second; 0 = as fast as possible."
    )
    sim_count: int = Field(0, ge=0, description="Stop after this many messages; 0 = never.")
    sim_trade_probability: float = Field(0.25, ge=0, le=1)
    sim_epoch_s: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="When the simulated venue started, epoch seconds: at a set sim_rate update n "
        "is stamped epoch + n / rate. Give a primary and its replica the same value (near their "
        "start) and they stamp each update alike. Unset = each instance's own start.",
    )
    sim_state_path: str = Field(
        "",
        description="A file the simulated venue keeps its position in (sequence, books), so a "
        "restarted ingest continues the venue instead of numbering its updates from 1 again; "
        "each instance needs its own. Empty = every start is a new venue.",
    )
    # Fault injection (domain/faults.py): probabilities per message. By default a few labelled
    # faults a minute (docs/simulator.md), so the anomaly rules have something real to report.
    sim_faults: bool = Field(
        True, description="false = the clean feed, whatever the fault rates say."
    )
    sim_fault_crossed: float = Field(0.0002, ge=0, le=1, description="Quotes with bid above ask.")
    sim_fault_spike: float = Field(
        0.001, ge=0, le=1, description="Updates priced off the mid by a spike."
    )
    sim_fault_spike_sizes_bps: str = Field(
        "15,25,35",
        description="Spike sizes, log displacements in basis points, comma separated; each spike "
        "draws one and a sign. Empty = every spike multiplies the mid by sim_fault_spike_factor.",
    )
    sim_fault_spike_factor: float = Field(
        1.2, gt=0, allow_inf_nan=False, description="Mid multiplier of a spike without sizes."
    )
    sim_fault_duplicate: float = Field(0.0, ge=0, le=1, description="Messages sent twice.")
    sim_fault_out_of_order: float = Field(
        0.0, ge=0, le=1, description="Messages sent after the instrument's next one."
    )
    sim_fault_malformed: float = Field(
        0.0, ge=0, le=1, description="Truncated JSON or a price of the wrong JSON type."
    )
    sim_fault_silence: float = Field(
        0.00005, ge=0, le=1, description="Updates that silence their instrument."
    )
    sim_fault_silence_s: float = Field(
        12.0,
        ge=0,
        allow_inf_nan=False,
        description="Silence length in seconds: at a set sim_rate that many seconds' updates (so "
        "instances of one seed stay copies), else seconds of exchange time.",
    )
    sim_fault_gap: float = Field(
        0.0, ge=0, le=1, description="Updates preceded by lost messages (a sequence jump)."
    )
    sim_fault_gap_size: int = Field(10, ge=1, description="Sequence numbers skipped by a gap.")
    sim_fault_jump: float = Field(
        0.00002,
        ge=0,
        le=1,
        description="Updates that disconnect their instrument; it comes back with its price moved.",
    )
    sim_fault_jump_sizes_bps: str = Field(
        "100,300",
        description="Moves of the price across a disconnect, basis points, comma separated; each "
        "disconnect draws one and a sign.",
    )
    sim_fault_jump_s: float = Field(
        3.0,
        ge=0,
        allow_inf_nan=False,
        description="Disconnect length in seconds, counted as sim_fault_silence_s is.",
    )

    @model_validator(mode="after")
    def _connector_has_what_it_needs(self) -> IngestSettings:
        if self.connector == "replay":
            if not self.replay_path:
                raise ValueError("TICKWIRE_REPLAY_PATH is required when TICKWIRE_CONNECTOR=replay")
            if not Path(self.replay_path).is_file():
                raise ValueError(f"TICKWIRE_REPLAY_PATH={self.replay_path!r} is not a file")
        return self

    @field_validator("sim_fault_spike_sizes_bps")
    @classmethod
    def _spike_sizes_parse(cls, value: str) -> str:
        parse_spike_sizes_bps(value)  # raises ValueError with the reason
        return value

    @field_validator("sim_fault_jump_sizes_bps")
    @classmethod
    def _jump_sizes_parse(cls, value: str) -> str:
        if not parse_spike_sizes_bps(value, "jump"):
            raise ValueError("at least one jump size is needed")
        return value

    def sim_spike_sizes(self) -> tuple[float, ...]:
        """The spike sizes as log displacements."""
        return parse_spike_sizes_bps(self.sim_fault_spike_sizes_bps)

    def sim_jump_sizes(self) -> tuple[float, ...]:
        """The moves across a disconnect as log moves."""
        return parse_spike_sizes_bps(self.sim_fault_jump_sizes_bps, "jump")

    @field_validator("sim_instruments")
    @classmethod
    def _instruments_parse(cls, value: str) -> str:
        parse_instruments(value)  # raises ValueError with the reason
        return value

    def sim_instrument_specs(self) -> tuple[InstrumentSpec, ...]:
        return parse_instruments(self.sim_instruments)

    def venue_instruments(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.instruments.split(",") if name.strip())
