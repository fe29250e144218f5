"""A tick's dedup key: what makes it the same update at the venue, whichever ingest instance
received it. Normalize stamps it on every tick; the sink stores it as part of the natural key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Per-instance bookkeeping: never part of an update's identity.
_NOT_IDENTITY = frozenset({"received_ts", "ingest_instance", "ingest_seq", "dedup_key"})


def dedup_key(tick: Mapping[str, Any], *, exchange_ts_is_identity: bool = True) -> str:
    """The venue's trade id, else its sequence number, else a hash of the content. Where the venue
    gives no event time of its own (exchange_ts is each instance's receipt time) or a time that
    may differ per connection, pass exchange_ts_is_identity=False to leave exchange_ts out of the
    hash: two instances receiving one update must agree on its key."""
    if tick.get("kind") == "gap":
        return (
            f"g:{tick.get('ingest_instance')}:{tick.get('gap_reason')}:"
            f"{tick.get('exchange_ts')}:{tick.get('gap_end_ts')}"
        )
    if tick.get("trade_id"):
        return f"t:{tick['trade_id']}"
    if tick.get("venue_seq") is not None:
        return f"s:{tick['venue_seq']}"
    skip = _NOT_IDENTITY if exchange_ts_is_identity else _NOT_IDENTITY | {"exchange_ts"}
    content = {k: v for k, v in tick.items() if v is not None and k not in skip}
    digest = hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=16)
    return f"h:{digest.hexdigest()}"


def stored_dedup_key(tick: Mapping[str, Any]) -> str:
    """The key a tick carries (normalize sets it), else the one computed from it: ticks written
    before the key was part of the tick schema have none, and their venue time is their own."""
    return str(tick.get("dedup_key") or dedup_key(tick))
