"""normalize(raw) -> Tick: decode the venue message, map it with the provider's mapping, stamp
identity and receipt, validate."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.simulator import map_simulator
from tickwire_normalize.domain.validate import Limits, validate

Mapping = Callable[[dict[str, Any]], dict[str, Any]]

MAPPINGS: dict[str, Mapping] = {
    "simulator": map_simulator,
}


def normalize(raw: dict[str, Any], limits: Limits | None = None) -> dict[str, Any]:
    """One raw_tick record (as decoded from Avro) -> one tick record, or RejectedRecord."""
    provider = raw.get("provider") or ""
    mapping = MAPPINGS.get(provider)
    if mapping is None:
        raise RejectedRecord(reasons.UNKNOWN_PROVIDER, f"no mapping for provider {provider!r}")
    try:
        message = json.loads(raw["payload"])
    except (ValueError, UnicodeDecodeError) as exc:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"payload is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload is not a JSON object")
    tick = mapping(message)
    tick["provider"] = provider
    tick["received_ts"] = raw["received_ts"]
    tick["ingest_instance"] = raw["ingest_instance"]
    tick["ingest_seq"] = raw["ingest_seq"]
    validate(tick, raw["received_ts"], limits or Limits())
    return tick
