"""What a reject is about, as far as normalize could read the record: its provider, unified
instrument and time, under which the quality report counts it (per instrument and day)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tickwire_core.batch import event_time
from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.validate import fits
from tickwire_normalize.domain.venues import MAPPINGS


@dataclass(frozen=True, slots=True)
class Subject:
    provider: str | None
    instrument: str | None
    event_ts: int | None  # UTC microseconds


def marked(exc: RejectedRecord, mapped: Mapping[str, Any]) -> RejectedRecord:
    """`exc`, refusing one mapped record (a tick, a vendor bar, short data), marked with that
    record's instrument and time. A time refused as out of range says nothing of when the
    update happened (a broken clock), so it is left out and the receipt time stands in."""
    exc.instrument = mapped.get("instrument") or None
    if exc.reason != reasons.TIMESTAMP_OUT_OF_RANGE:
        exc.event_ts = event_time(mapped)
    return exc


def subject(exc: RejectedRecord, raw: Mapping[str, Any]) -> Subject:
    """What the reject of (part of) `raw` is about: the instrument and time it was marked with,
    else the envelope's instrument (unified as the provider's mapping names it) and receipt."""
    provider = _fitting(raw.get("provider"))
    instrument = _fitting(exc.instrument) or _fitting(
        _envelope_instrument(provider, raw.get("instrument"))
    )
    event_ts = exc.event_ts if exc.event_ts is not None else raw.get("received_ts")
    return Subject(provider, instrument, event_ts)


def _fitting(name: str | None) -> str | None:
    # A name too long to store (the reason of its reject, often) is left out: the reject is kept
    # under no name rather than failing the rejects table's index as it would the ticks'.
    return name if name and fits(name) else None


def _envelope_instrument(provider: str | None, venue_name: str | None) -> str | None:
    if not venue_name:
        return None
    mapping = MAPPINGS.get(provider or "")
    return venue_name if mapping is None else mapping.symbol(venue_name)
