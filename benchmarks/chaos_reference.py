"""What the chaos run's database must hold: the raw topic read back to its end and put through
normalize's own handler in-process, undisturbed: the ticks it makes and the records it refuses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chaos_checks import tick_identity
from topic_end import batches_to_end

from tickwire_core.batch import Consumed, Outcome
from tickwire_core.serde import AvroSerde
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.handler import NormalizeHandler
from tickwire_normalize.settings import NormalizeSettings

_TICKS = "reference.ticks"


@dataclass
class Reference:
    ticks: Counter[str] = field(default_factory=Counter)  # tick identity -> times made (1)
    # (partition, offset) -> reason, for every raw record refused as a whole or in part
    refused: dict[tuple[int, int], str] = field(default_factory=dict)
    # (partition, offset) -> the hostile record's ingest_seq, where one made a tick
    hostile_ticks: dict[tuple[int, int], int] = field(default_factory=dict)
    records: int = 0
    copies: int = 0  # raw records whose ticks the dedup window dropped (a replica's copies)
    # partition -> (key, tick) in the order made: the normalized topic's partition order, as
    # signals reads it (every tick topic has the raw topic's key and partition count)
    ordered: dict[int, list[tuple[bytes, dict[str, Any]]]] = field(default_factory=dict)


def _handler() -> NormalizeHandler:
    # The service's own defaults, so the reference decides as the service does.
    defaults = NormalizeSettings.model_fields
    limits = Limits(
        max_future_s=defaults["max_future_s"].default, max_past_s=defaults["max_past_s"].default
    )
    window = DedupWindow(
        int(defaults["dedup_window_s"].default * 1_000_000), defaults["dedup_max_keys"].default
    )
    return NormalizeHandler(_TICKS, limits, window)


def build_reference(
    bootstrap: str,
    topic: str,
    hostile_instance: str,
    each: Callable[[int, int, bytes | None], None] | None = None,
) -> Reference:
    """Every record of `topic` up to its end now, in each partition's order, as normalize sees
    them (read committed); `each(partition, offset, value)` is shown every one of them."""
    serde, handler, ref = AvroSerde(), _handler(), Reference()
    for messages in batches_to_end(bootstrap, topic, "reference", committed_only=True):
        batch: list[Consumed] = []
        for message in messages:
            p, offset = message.partition(), message.offset()
            ref.records += 1
            if each is not None:
                each(p, offset, message.value())
            try:
                value = serde.decode("raw_tick", message.value())
            except Exception:  # what the run loop refuses before any handler sees it
                ref.refused[(p, offset)] = "undecodable"
                continue
            batch.append(Consumed(topic, p, offset, message.key(), message.value(), value))
        _take(handler(batch), batch, ref, hostile_instance)
    return ref


def _take(outcome: Outcome, batch: list[Consumed], ref: Reference, hostile_instance: str) -> None:
    for rejected in outcome.rejects:
        ref.refused.setdefault((rejected.partition, rejected.offset), rejected.reason)
    made: set[tuple[int, int]] = set()
    partition_of = {record.key: record.partition for record in batch}
    for out in outcome.outputs:
        if out.topic != _TICKS:
            continue
        tick = out.value
        ref.ticks[tick_identity(tick)] += 1
        key = out.key or b""
        ref.ordered.setdefault(partition_of.get(key, 0), []).append((key, dict(tick)))
        made.add((tick["ingest_instance"], tick["ingest_seq"]))
    for record in batch:
        raw = record.value
        identity = (raw["ingest_instance"], raw["ingest_seq"])
        if raw["ingest_instance"] == hostile_instance and identity in made:
            ref.hostile_ticks[(record.partition, record.offset)] = raw["ingest_seq"]
        elif identity not in made and (record.partition, record.offset) not in ref.refused:
            ref.copies += 1
