"""Response models of the tick routes: the tick itself, made from schemas/tick.avsc so it cannot
drift from it, the latest ticks, and a page of the tick history with its cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from tickwire_api.models.examples import QUOTE, T0, examples
from tickwire_core.avro_types import field_type
from tickwire_core.serde import AvroSerde

_PY = {"string": str, "double": float, "long": int, "int": int, "boolean": bool}


def _tick_model() -> type[BaseModel]:
    serde = AvroSerde()
    times = serde.time_fields("tick")  # served as date-times, as the database stores them
    fields: dict[str, Any] = {}
    for f in serde.schema("tick")["fields"]:
        name, avro = f["name"], field_type(f["type"])
        base: Any = datetime if name in times else _PY[avro.name]
        fields[name] = (
            base | None if avro.optional else base,
            Field(None if avro.optional else ..., description=f.get("doc", "")),
        )
    return create_model("Tick", __config__=ConfigDict(json_schema_extra=examples(QUOTE)), **fields)


Tick = _tick_model()


class TickPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"provider": "simulator", "instrument": "SIM-BTC-USD", "count": 1, "ticks": [QUOTE]}
        )
    )
    provider: str | None
    instrument: str
    count: int
    ticks: list[Tick]  # type: ignore[valid-type]


class TickHistoryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "instrument": "SIM-BTC-USD",
                "provider": None,
                "start": T0,
                "end": "2023-11-14T23:13:20Z",
                "limit": 100,
                "count": 1,
                "ticks": [QUOTE],
                "next_cursor": "eyJ0cyI6MTcwMDAwMDAwMDAwMDAwMH0.3q2-7w",
            }
        )
    )
    instrument: str
    provider: str | None
    start: datetime
    end: datetime
    limit: int
    count: int
    ticks: list[Tick]  # type: ignore[valid-type]
    next_cursor: str | None = Field(
        description="Pass as `cursor` with the same filters for the next page; null at the end."
    )
