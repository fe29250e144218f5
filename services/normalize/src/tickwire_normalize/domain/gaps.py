"""Gap events from ingest (a stretch of a feed known to be missing) as ticks of kind "gap"."""

from __future__ import annotations

import json
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.values import int_field, str_field

GAP_CONTENT_TYPE = "application/vnd.tickwire.gap+json"


def gap_tick(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(raw["payload"])
    except (ValueError, UnicodeDecodeError) as exc:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"gap event is not JSON: {exc}") from None
    except RecursionError:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "gap event nested too deeply") from None
    if not isinstance(body, dict):
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "gap event is not a JSON object")
    start, end = int_field(body, "start_ts"), int_field(body, "end_ts")
    if start is None or end is None or end < start:
        raise RejectedRecord(reasons.MISSING_IDENTITY, f"gap event without an interval: {body}")
    return {
        "kind": "gap",
        "venue_instrument": str_field(body, "instrument") or raw.get("instrument"),
        "exchange_ts": start,
        "gap_end_ts": end,
        "gap_reason": str_field(body, "reason") or "unknown",
        "gap_lost": int_field(body, "lost"),
    }
