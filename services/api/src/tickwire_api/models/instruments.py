"""Response models of /v1/instruments: each instrument with stored ticks, per provider, with the
span and size of its history."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tickwire_api.models.examples import T0, example, examples


class InstrumentSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "simulator",
                "instrument": "SIM-BTC-USD",
                "first_tick": T0,
                "last_tick": "2023-11-14T23:13:20Z",
                "tick_count": 3600,
            }
        )
    )
    provider: str
    instrument: str
    first_tick: datetime = Field(description="Exchange time of the oldest stored tick.")
    last_tick: datetime = Field(description="Exchange time of the newest stored tick.")
    tick_count: int = Field(
        description="Ticks stored, each once (a redelivery is not counted again); retention "
        "dropping old chunks does not lower it."
    )


class InstrumentList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"count": 1, "instruments": [example(InstrumentSummary)]})
    )
    count: int
    instruments: list[InstrumentSummary]
