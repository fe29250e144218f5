"""Examples for the OpenAPI document: a model's own example, reused inside the examples of the
responses that list it, so one change shows everywhere (and the tests validate each)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

T0 = "2023-11-14T22:13:20Z"


def example(model: type[BaseModel]) -> dict[str, Any]:
    """The first example a model declares in its json_schema_extra."""
    extra = model.model_config.get("json_schema_extra")
    if not isinstance(extra, dict) or not extra.get("examples"):
        raise LookupError(f"{model.__name__} declares no example")
    first = extra["examples"][0]  # type: ignore[index]
    assert isinstance(first, dict)
    return first


def examples(value: dict[str, Any]) -> dict[str, Any]:
    """json_schema_extra holding one example."""
    return {"examples": [value]}


QUOTE: dict[str, Any] = {
    "provider": "simulator",
    "instrument": "SIM-BTC-USD",
    "venue_instrument": "SIM-BTC-USD",
    "kind": "quote",
    "exchange_ts": T0,
    "received_ts": "2023-11-14T22:13:20.003Z",
    "dedup_key": "42",
    "bid_price": 65000.5,
    "bid_amount": 1.25,
    "ask_price": 65001.0,
    "ask_amount": 0.8,
    "venue_seq": 42,
    "ingest_instance": "primary",
    "ingest_seq": 1042,
    "history": False,
}
