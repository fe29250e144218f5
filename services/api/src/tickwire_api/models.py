"""Response models. The tick model is made from schemas/tick.avsc so it cannot drift from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from tickwire_api.examples import QUOTE, examples
from tickwire_core.avro_types import field_type
from tickwire_core.serde import AvroSerde

_PY = {"string": str, "double": float, "long": int, "int": int}


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


class Problem(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"detail": "live stream not configured"}))
    detail: str
