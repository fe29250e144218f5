"""Normalize's work on encoded raw records without Kafka, as app.bootstrap wires its handler, in
batches of the service's size, timed by stage: Avro decode, the handler, Avro encode of outputs."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

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


def stage_timer(records: Encoded) -> Callable[[], tuple[int, list[float]]]:
    """A run over `records` (fresh handler each call) -> (records out, seconds per stage); the
    batches' tallies of dropped copies are encoded with the rest but not counted as records."""
    serde = AvroSerde()
    settings = load_settings(NormalizeSettings, KAFKA_BOOTSTRAP_SERVERS="unused")
    limits = Limits(max_future_s=settings.max_future_s, max_past_s=settings.max_past_s)

    def run() -> tuple[int, list[float]]:
        window = DedupWindow(int(settings.dedup_window_s * 1e6), settings.dedup_max_keys)
        unmapped = UnmappedFields({provider: m.map for provider, m in MAPPINGS.items()})
        handler = NormalizeHandler(TICKS, limits, window, unmapped)  # as app.bootstrap wires it
        out, spent = 0, [0.0, 0.0, 0.0]
        for start in range(0, len(records), settings.batch_size):
            t0, batch = time.perf_counter(), []
            for offset, (key, value) in enumerate(records[start : start + settings.batch_size]):
                partition = zlib.crc32(key) % RAW_PARTITIONS
                decoded = serde.decode("raw_tick", value)
                batch.append(Consumed(RAW_TICKS, partition, start + offset, key, value, decoded))
            t1 = time.perf_counter()
            outputs = handler(batch).outputs
            t2 = time.perf_counter()
            for output in outputs:
                serde.encode(output.schema, output.value)
            out += sum(1 for output in outputs if output.schema != "dedup_tally")
            spent = [spent[0] + t1 - t0, spent[1] + t2 - t1, spent[2] + time.perf_counter() - t2]
        return out, spent

    return run
