"""normalize(raw) -> ticks: decode the venue message, map it with the provider's mapping, stamp
identity and receipt, validate each tick."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_core.identity import dedup_key
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.gaps import GAP_CONTENT_TYPE, gap_tick
from tickwire_normalize.domain.validate import Limits, validate
from tickwire_normalize.domain.venues import MAPPINGS

_TIME_NOT_IDENTITY = "_exchange_ts_not_identity"


@dataclass
class Normalized:
    """The ticks of one raw record, and the rejects among them (a frame may carry several)."""

    ticks: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[RejectedRecord] = field(default_factory=list)


def normalize(raw: dict[str, Any], limits: Limits | None = None) -> Normalized:
    """One raw_tick record (as decoded from Avro) -> its ticks. Raises RejectedRecord when the
    record as a whole is unusable (unknown provider, undecodable payload, unknown message)."""
    limits = limits or Limits()
    provider = raw.get("provider") or ""
    mapping = MAPPINGS.get(provider)
    if mapping is None:
        raise RejectedRecord(reasons.UNKNOWN_PROVIDER, f"no mapping for provider {provider!r}")
    if raw.get("content_type") == GAP_CONTENT_TYPE:
        mapped = [gap_tick(raw)]
    else:
        try:
            message = json.loads(raw["payload"])
        except (ValueError, UnicodeDecodeError) as exc:
            raise RejectedRecord(
                reasons.UNDECODABLE_PAYLOAD, f"payload is not JSON: {exc}"
            ) from None
        except RecursionError:
            raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload nested too deeply") from None
        mapped = mapping.map(raw.get("feed") or "", message, raw["received_ts"])
    out = Normalized()
    for tick in mapped:
        time_not_identity = bool(tick.pop(_TIME_NOT_IDENTITY, False))
        venue_instrument = tick.get("venue_instrument") or ""  # the payload's, never the key's
        tick["instrument"] = mapping.symbol(venue_instrument) if venue_instrument else ""
        tick["provider"] = provider
        tick["received_ts"] = raw["received_ts"]
        tick["ingest_instance"] = raw["ingest_instance"]
        tick["ingest_seq"] = raw["ingest_seq"]
        try:
            validate(tick, raw["received_ts"], limits)
        except RejectedRecord as exc:
            out.rejects.append(exc)
            continue
        tick["dedup_key"] = dedup_key(tick, exchange_ts_is_identity=not time_not_identity)
        out.ticks.append(tick)
    return out
