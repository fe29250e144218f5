"""Response models of /v1/instruments: each instrument with stored ticks, per provider, with the
span and size of its history; and each backfilled instrument with its coverage per source."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

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


class Coverage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "dataset": "bars",
                "source": "yahoo",
                "provider": "yahoo",
                "interval": "1d",
                "first_day": "2019-01-02",
                "last_day": "2024-05-31",
                "rows": 1362,
            }
        )
    )
    dataset: Literal["bars", "short_volume", "short_interest", "ticks"] = Field(
        description="What is stored: vendor bars (/v1/bars), short volume, short interest, or "
        "backfilled ticks (/v1/ticks)."
    )
    source: str = Field(
        description="The vendor: a bar's source (yahoo, coingecko, binance, ...), else the "
        "provider (finra, or the venue of backfilled ticks)."
    )
    provider: str
    interval: str | None = Field(description="The bars' interval; null for the other datasets.")
    first_day: date = Field(description="UTC day of the oldest stored row.")
    last_day: date = Field(description="UTC day of the newest stored row.")
    rows: int = Field(description="Rows stored.")


class BackfilledInstrument(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "AAPL",
                "coverage": [
                    example(Coverage),
                    {
                        "dataset": "short_volume",
                        "source": "finra",
                        "provider": "finra",
                        "interval": None,
                        "first_day": "2019-01-02",
                        "last_day": "2024-05-31",
                        "rows": 1362,
                    },
                ],
            }
        )
    )
    instrument: str
    coverage: list[Coverage] = Field(
        description="Per dataset, source, provider and interval: the days stored."
    )


class InstrumentList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "count": 1,
                "instruments": [example(InstrumentSummary)],
                "backfilled": [example(BackfilledInstrument)],
            }
        )
    )
    count: int = Field(description="Entries in `instruments`.")
    instruments: list[InstrumentSummary] = Field(
        description="Per provider, every instrument with stored ticks (live or backfilled)."
    )
    backfilled: list[BackfilledInstrument] = Field(
        default_factory=list,
        description="Every instrument with history from a backfill (vendor bars, short volume, "
        "short interest, backfilled ticks), by name.",
    )
