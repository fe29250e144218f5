"""Settings of the ingest service (environment variables TICKWIRE_<FIELD>)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from tickwire_core.settings import KafkaServiceSettings
from tickwire_ingest.domain.simulator import InstrumentSpec, parse_instruments


class IngestSettings(KafkaServiceSettings):
    connector: Literal["simulator"] = "simulator"
    ingest_instance: str = Field(
        "primary",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$",
        description="Carried on every raw record: primary, replica, ...",
    )
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

    @field_validator("sim_instruments")
    @classmethod
    def _instruments_parse(cls, value: str) -> str:
        parse_instruments(value)  # raises ValueError with the reason
        return value

    def instruments(self) -> tuple[InstrumentSpec, ...]:
        return parse_instruments(self.sim_instruments)
