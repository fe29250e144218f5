"""A backfill's raw record (history=True) -> records: the vendor's history mapping, then the
checks of each record's kind. History is judged by its own rules: no age limit for ticks (they
are old by design), and bars must be complete, on their grid and consistent."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons
from tickwire_normalize.domain.attribution import marked
from tickwire_normalize.domain.history import TICK, HistoryRow, Mapped
from tickwire_normalize.domain.history.checks import CHECKS
from tickwire_normalize.domain.history.registry import HISTORY_MAPPINGS
from tickwire_normalize.domain.payload import json_payload
from tickwire_normalize.domain.stamp import stamp
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.domain.venues import MAPPINGS

if TYPE_CHECKING:
    from tickwire_normalize.domain.normalize import Normalized

_JSON = "application/json"


def _decoded(raw: dict[str, Any]) -> Any:
    if (raw.get("content_type") or _JSON) == _JSON:
        return json_payload(raw["payload"])
    try:
        return raw["payload"].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedRecord(
            reasons.UNDECODABLE_PAYLOAD, f"payload is not UTF-8 text: {exc}"
        ) from None


def history_records(raw: dict[str, Any]) -> list[Mapped]:
    """The records the provider's history mapping makes of a raw record, before any check;
    raises RejectedRecord when the record as a whole is unusable."""
    provider = raw.get("provider") or ""
    mapping = HISTORY_MAPPINGS.get(provider)
    if mapping is None:
        raise RejectedRecord(reasons.UNKNOWN_PROVIDER, f"no history mapping for {provider!r}")
    row = HistoryRow(
        provider=provider,
        feed=raw.get("feed") or "",
        instrument=raw.get("instrument") or "",
        received_ts=raw["received_ts"],
        message=_decoded(raw),
    )
    return mapping(row)


def _symbol(provider: str) -> Any:
    live = MAPPINGS.get(provider)
    return live.symbol if live is not None else (lambda name: name)


def normalize_history(raw: dict[str, Any], limits: Limits, out: Normalized) -> None:
    """Fills `out`; raises RejectedRecord when the record as a whole is unusable."""
    provider = raw.get("provider") or ""
    tick_limits = replace(limits, max_past_s=float("inf"))
    for mapped in history_records(raw):
        record = mapped.record
        try:
            if mapped.kind == TICK:
                stamp(record, raw, _symbol(provider), tick_limits)
                record["history"] = True
                out.ticks.append(record)
                continue
            check = CHECKS.get(mapped.kind)
            if check is None:
                raise RejectedRecord(reasons.UNKNOWN_MESSAGE, f"record kind {mapped.kind!r}")
            record.setdefault("provider", provider)
            check(record, raw["received_ts"], limits.max_future_s)
        except RejectedRecord as exc:
            out.rejects.append(marked(exc, record))
            continue
        out.records.append(mapped)
