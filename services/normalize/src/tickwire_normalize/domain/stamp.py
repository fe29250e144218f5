"""What every mapped tick gets, live or backfilled: the unified instrument, the envelope's
provider, receipt and ingest identity, the checks, and its dedup key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tickwire_core.identity import dedup_key
from tickwire_normalize.domain.validate import Limits, validate

TIME_NOT_IDENTITY = "_exchange_ts_not_identity"


def stamp(
    tick: dict[str, Any],
    raw: dict[str, Any],
    symbol: Callable[[str], str],
    limits: Limits,
) -> None:
    """Completes `tick` in place from the raw record; raises RejectedRecord when a check fails."""
    time_not_identity = bool(tick.pop(TIME_NOT_IDENTITY, False))
    venue_instrument = tick.get("venue_instrument") or ""  # the payload's, never the key's
    tick["instrument"] = symbol(venue_instrument) if venue_instrument else ""
    tick["provider"] = raw.get("provider") or ""
    tick["received_ts"] = raw["received_ts"]
    tick["ingest_instance"] = raw["ingest_instance"]
    tick["ingest_seq"] = raw["ingest_seq"]
    validate(tick, raw["received_ts"], limits)
    tick["dedup_key"] = dedup_key(tick, exchange_ts_is_identity=not time_not_identity)
