"""normalize(raw) -> ticks: decode the venue message, map it with the provider's mapping, stamp
identity and receipt, validate each tick. A backfill's raw record (history=True) takes the history
mappings instead, which make vendor bars and short data as well as ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.attribution import marked
from tickwire_normalize.domain.gaps import GAP_CONTENT_TYPE, gap_tick
from tickwire_normalize.domain.history import Mapped
from tickwire_normalize.domain.history.path import normalize_history
from tickwire_normalize.domain.payload import json_payload
from tickwire_normalize.domain.stamp import stamp
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.domain.venues import MAPPINGS


@dataclass
class Normalized:
    """The ticks of one raw record, the other records a backfill's record may carry (vendor
    bars, short volume, short interest), and the rejects among them (a frame may carry several)."""

    ticks: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[RejectedRecord] = field(default_factory=list)
    records: list[Mapped] = field(default_factory=list)


def normalize(raw: dict[str, Any], limits: Limits | None = None) -> Normalized:
    """One raw_tick record (as decoded from Avro) -> its ticks. Raises RejectedRecord when the
    record as a whole is unusable (unknown provider, undecodable payload, unknown message)."""
    limits = limits or Limits()
    if raw.get("history"):
        out = Normalized()
        normalize_history(raw, limits, out)
        return out
    provider = raw.get("provider") or ""
    mapping = MAPPINGS.get(provider)
    if mapping is None:
        raise RejectedRecord(reasons.UNKNOWN_PROVIDER, f"no mapping for provider {provider!r}")
    if raw.get("content_type") == GAP_CONTENT_TYPE:
        mapped = [gap_tick(raw)]
    else:
        message = json_payload(raw["payload"])
        mapped = mapping.map(raw.get("feed") or "", message, raw["received_ts"])
    out = Normalized()
    for tick in mapped:
        try:
            stamp(tick, raw, mapping.symbol, limits)
        except RejectedRecord as exc:
            out.rejects.append(marked(exc, tick))
            continue
        out.ticks.append(tick)
    return out
