"""Live anomalies and signals as one stream sends them: a subscriber's filter, and an event decoded
once per record, carrying the JSON the history routes (/v1/anomalies, /v1/signals) return."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Kind = Literal["anomaly", "signal"]
KindChoice = Literal["anomalies", "signals", "both"]

KINDS: dict[KindChoice, frozenset[Kind]] = {
    "anomalies": frozenset({"anomaly"}),
    "signals": frozenset({"signal"}),
    "both": frozenset({"anomaly", "signal"}),
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LiveEvent:
    """One record of the anomalies or signals topic, ready to send: `id` is
    `<topic>:<partition>:<offset>`, `data` the record's JSON."""

    kind: Kind
    provider: str
    instrument: str
    id: str
    data: str


@dataclass(frozen=True)
class LiveFilter:
    """What one stream asked for: these instruments, these kinds, and one provider or all."""

    instruments: frozenset[str]
    kinds: frozenset[Kind]
    provider: str | None = None

    def matches(self, event: LiveEvent) -> bool:
        return (
            event.instrument in self.instruments
            and event.kind in self.kinds
            and (self.provider is None or event.provider == self.provider)
        )


def event_id(topic: str, partition: int, offset: int) -> str:
    return f"{topic}:{partition}:{offset}"


def rfc3339(micros: int) -> str:
    """UTC microseconds as the history routes print a time: `Z`, fraction only when non-zero."""
    return (_EPOCH + timedelta(microseconds=micros)).isoformat().replace("+00:00", "Z")


def _number(value: Any) -> float | None:
    # JSON has no NaN or infinity; the history routes print them as null, and so does this.
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def anomaly_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """A decoded anomaly record as /v1/anomalies returns one."""
    window_count = record.get("window_count")
    return {
        "provider": record["provider"],
        "instrument": record["instrument"],
        "ts": rfc3339(record["ts"]),
        "rule": record["rule"],
        "severity": record["severity"],
        "value": _number(record["value"]),
        "threshold": _number(record["threshold"]),
        "window_mean": _number(record.get("window_mean")),
        "window_stddev": _number(record.get("window_stddev")),
        "window_count": None if window_count is None else int(window_count),
        "detail": record.get("detail", ""),
    }


def signal_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """A decoded signal record as /v1/signals returns one; `interval` comes from the parameters,
    as the sink stores it."""
    parameters = dict(record.get("parameters") or {})
    return {
        "provider": record["provider"],
        "instrument": record["instrument"],
        "ts": rfc3339(record["ts"]),
        "name": record["name"],
        "value": _number(record["value"]),
        "parameters": parameters,
        "interval": str(parameters.get("interval", "")),
    }


_FIELDS = {"anomaly": anomaly_fields, "signal": signal_fields}


def live_event(
    kind: Kind, topic: str, partition: int, offset: int, record: Mapping[str, Any]
) -> LiveEvent:
    """The event of one decoded record. Raises KeyError, ValueError or OverflowError for a record
    that lacks a field or holds a time no calendar has."""
    fields = _FIELDS[kind](record)
    return LiveEvent(
        kind=kind,
        provider=fields["provider"],
        instrument=fields["instrument"],
        id=event_id(topic, partition, offset),
        data=json.dumps(fields, separators=(",", ":"), ensure_ascii=False, allow_nan=False),
    )
