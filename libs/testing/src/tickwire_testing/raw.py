"""Building raw records for tests of normalize: a venue message wrapped in the envelope every
connector publishes, as ingest would have put it on the raw topic."""

from __future__ import annotations

import json
from typing import Any

from tickwire_ingest.domain.raw import Envelope


def quote_raw(seq: int, instance: str, ts: int, instrument: str = "SIM-A") -> dict[str, Any]:
    """The simulator's quote number `seq` of `instrument` at exchange time `ts`, as ingest
    instance `instance` publishes it 500 us later. Its ingest_seq is `seq` as well, so a primary's
    and a replica's records of one quote differ only in the instance."""
    payload = {
        "type": "quote",
        "instrument": instrument,
        "ts": ts,
        "seq": seq,
        "bid": "100",
        "bid_size": "1",
        "ask": "101",
        "ask_size": "1",
    }
    envelope = Envelope("simulator", instance, next_seq=seq)
    return envelope.wrap("quotes", instrument, json.dumps(payload).encode(), ts + 500)
