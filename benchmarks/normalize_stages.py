"""Normalize's work on encoded raw records without Kafka, as app.bootstrap wires its handler, in
batches of the service's size, timed by stage (wall and CPU): Avro decode, handler, Avro encode."""

from __future__ import annotations

import itertools
import time
import zlib
from collections.abc import Callable
from typing import NamedTuple

from tickwire_core.batch import Consumed
from tickwire_core.serde import AvroSerde
from tickwire_core.settings import load_settings
from tickwire_core.topics import RAW_TICKS, TICKS
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.reads import UnmappedFields
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.domain.venues import MAPPINGS
from tickwire_normalize.handler import NormalizeHandler
from tickwire_normalize.settings import NormalizeSettings

RAW_PARTITIONS = 6  # the topic table's: the dedup window keeps one state per partition
Encoded = list[tuple[bytes, bytes]]  # (Kafka key, Avro value) of each raw record


class Spent(NamedTuple):
    """Seconds per stage (decode, handler, encode): wall clock, and this process's CPU time,
    which other work on a shared machine disturbs far less."""

    wall: list[float]
    cpu: list[float]


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def stage_timer(records: Encoded) -> Callable[[], tuple[int, Spent]]:
    """A run over `records` (fresh handler each call) -> (records out, seconds per stage); the
    batches' tallies of dropped copies are encoded with the rest but not counted as records."""
    serde = AvroSerde()
    settings = load_settings(NormalizeSettings, KAFKA_BOOTSTRAP_SERVERS="unused")
    limits = Limits(max_future_s=settings.max_future_s, max_past_s=settings.max_past_s)

    def run() -> tuple[int, Spent]:
        window = DedupWindow(int(settings.dedup_window_s * 1e6), settings.dedup_max_keys)
        unmapped = UnmappedFields({provider: m.map for provider, m in MAPPINGS.items()})
        handler = NormalizeHandler(TICKS, limits, window, unmapped)  # as app.bootstrap wires it
        out, spent = 0, Spent([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        for start in range(0, len(records), settings.batch_size):
            marks, batch = [_now()], []
            for offset, (key, value) in enumerate(records[start : start + settings.batch_size]):
                partition = zlib.crc32(key) % RAW_PARTITIONS
                decoded = serde.decode("raw_tick", value)
                batch.append(Consumed(RAW_TICKS, partition, start + offset, key, value, decoded))
            marks.append(_now())
            outputs = handler(batch).outputs
            marks.append(_now())
            for output in outputs:
                serde.encode(output.schema, output.value)
            marks.append(_now())
            out += sum(1 for output in outputs if output.schema != "dedup_tally")
            for stage, ((wall0, cpu0), (wall1, cpu1)) in enumerate(itertools.pairwise(marks)):
                spent.wall[stage] += wall1 - wall0
                spent.cpu[stage] += cpu1 - cpu0
        return out, spent

    return run
