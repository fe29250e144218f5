"""The raw record envelope every connector publishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Envelope:
    """Wraps venue messages of one ingest instance, numbering them in publish order."""

    provider: str
    ingest_instance: str
    next_seq: int = 1

    def wrap(
        self,
        feed: str,
        instrument: str,
        payload: bytes,
        received_ts: int,
        *,
        provider: str | None = None,
        content_type: str = "application/json",
        history: bool = False,
    ) -> dict[str, Any]:
        record = {
            "provider": provider or self.provider,
            "feed": feed,
            "ingest_instance": self.ingest_instance,
            "instrument": instrument,
            "received_ts": received_ts,
            "ingest_seq": self.next_seq,
            "content_type": content_type,
            "payload": payload,
            "history": history,
        }
        self.next_seq += 1
        return record
