"""Response models of /v1/anomalies and /v1/signals: one record of each, and the newest-first
list both routes answer with, which differs between them only in its item and their name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from tickwire_api.models.examples import T0, example, examples


class Anomaly(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "simulator",
                "instrument": "SIM-BTC-USD",
                "ts": T0,
                "rule": "zscore",
                "severity": "critical",
                "value": 6.2,
                "threshold": 5.0,
                "window_mean": 100.0,
                "window_stddev": 0.25,
                "window_count": 200,
                "detail": "mid 101.55 is 6.2 standard deviations from the window mean",
            }
        )
    )
    provider: str
    instrument: str
    ts: datetime
    rule: str
    severity: str = Field(
        description="warning | critical | confirmed: a critical price that the next prices "
        "confirmed as a move (it is used after all, and its bars corrected)."
    )
    value: float
    threshold: float
    window_mean: float | None
    window_stddev: float | None
    window_count: int | None
    detail: str


class Signal(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "provider": "simulator",
                "instrument": "SIM-BTC-USD",
                "ts": T0,
                "name": "sma_20",
                "value": 100.25,
                "parameters": {"interval": "1m", "window": "20"},
                "interval": "1m",
            }
        )
    )
    provider: str
    instrument: str
    ts: datetime
    name: str
    value: float
    parameters: dict[str, Any]
    interval: str


def newest_list(name: str, key: str, item: type[BaseModel]) -> type[BaseModel]:
    """The model `name` of a listing: `count`, and the items under `key`, with an example made
    of the item's own."""
    fields: dict[str, Any] = {"count": (int, ...), key: (list[item], ...)}  # type: ignore[valid-type]
    return create_model(
        name,
        __config__=ConfigDict(json_schema_extra=examples({"count": 1, key: [example(item)]})),
        **fields,
    )


AnomalyList = newest_list("AnomalyList", "anomalies", Anomaly)
SignalList = newest_list("SignalList", "signals", Signal)
