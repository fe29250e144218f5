"""Response models. The tick model is made from schemas/tick.avsc so it cannot drift from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, create_model

from tickwire_core.serde import AvroSerde

_PY = {"string": str, "double": float, "long": int, "int": int}
_TIMES = {"exchange_ts", "received_ts"}


def _tick_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for f in AvroSerde().schema("tick")["fields"]:
        name, avro_type = f["name"], f["type"]
        if name in _TIMES:
            fields[name] = (datetime, Field(description=f.get("doc", "")))
            continue
        optional = isinstance(avro_type, list)
        base = _PY[next(t for t in avro_type if t != "null") if optional else avro_type]
        fields[name] = (
            base | None if optional else base,
            Field(None if optional else ..., description=f.get("doc", "")),
        )
    return create_model("Tick", **fields)


Tick = _tick_model()


class TickPage(BaseModel):
    provider: str | None
    instrument: str
    count: int
    ticks: list[Tick]  # type: ignore[valid-type]


class Problem(BaseModel):
    detail: str
