"""What makes a tick the same update at the venue, whichever ingest instance received it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Per-instance bookkeeping: never part of an update's identity.
_NOT_IDENTITY = {"received_ts", "ingest_instance", "ingest_seq", "dedup_key"}


def dedup_key(tick: dict[str, Any], exchange_ts_not_identity: bool) -> str:
    """The venue's trade id, else its sequence number, else a hash of the content. Where the venue
    gives no event time of its own (exchange_ts is each instance's receipt time) or a time that
    may differ per connection, exchange_ts is left out of the hash: two instances receiving one
    update must agree on its key."""
    if tick.get("kind") == "gap":
        return (
            f"g:{tick.get('ingest_instance')}:{tick.get('gap_reason')}:"
            f"{tick.get('exchange_ts')}:{tick.get('gap_end_ts')}"
        )
    if tick.get("trade_id"):
        return f"t:{tick['trade_id']}"
    if tick.get("venue_seq") is not None:
        return f"s:{tick['venue_seq']}"
    skip = _NOT_IDENTITY | ({"exchange_ts"} if exchange_ts_not_identity else set())
    content = {k: v for k, v in tick.items() if v is not None and k not in skip}
    digest = hashlib.blake2b(json.dumps(content, sort_keys=True).encode(), digest_size=16)
    return f"h:{digest.hexdigest()}"
