"""What bounds a backfill, in-process under cProfile (backfill_throughput.py --profile): the
`tickwire backfill` command against the real broker and database, then normalize's handler on
the raw records that command publishes, made here the same way and run without Kafka."""

from __future__ import annotations

import cProfile
import os
import pstats
import time
import zlib

import synthetic_history

from tickwire_core.batch import Consumed
from tickwire_core.serde import AvroSerde
from tickwire_core.settings import load_settings
from tickwire_core.topics import RAW_TICKS, TICKS, tick_key
from tickwire_ingest.backfill import INGEST_INSTANCE
from tickwire_ingest.domain.history.pages import Request
from tickwire_ingest.domain.raw import Envelope
from tickwire_normalize.domain.dedup import DedupWindow
from tickwire_normalize.domain.reads import UnmappedFields
from tickwire_normalize.domain.validate import Limits
from tickwire_normalize.domain.venues import MAPPINGS
from tickwire_normalize.handler import NormalizeHandler
from tickwire_normalize.settings import NormalizeSettings

RAW_PARTITIONS = 6  # the topic table's: the dedup window keeps one state per partition
Encoded = list[tuple[bytes, bytes]]  # (Kafka key, Avro value) of each raw record


def command(argv: list[str], env: dict[str, str], sort: str, top: int) -> int:
    """`tickwire backfill` (with the synthetic source) in this process, under cProfile."""
    from tickwire_cli.__main__ import main as tickwire

    os.environ.update(env)
    synthetic_history.register()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    code = profiler.runcall(tickwire, argv)
    print(f"the command under cProfile: {time.perf_counter() - started:.2f} s, exit {code}")
    pstats.Stats(profiler).strip_dirs().sort_stats(sort).print_stats(top)
    return int(code)


def raw_records(instruments: list[str], since: int, until: int) -> Encoded:
    """The raw records the command publishes for the range, as its HistorySink wraps them."""
    serde, envelope, out = AvroSerde(), Envelope("backfill", INGEST_INSTANCE), []
    received = time.time_ns() // 1000
    for name in instruments:
        request = Request(name, synthetic_history.DATASET, since, until)
        for page in synthetic_history.SyntheticCandles().fetch(request):
            for row in page.rows:
                record = envelope.wrap(
                    row.feed,
                    row.instrument,
                    row.payload,
                    received,
                    provider=row.provider,
                    content_type=row.content_type,
                    history=True,
                )
                key = tick_key(row.provider, row.instrument)
                out.append((key, serde.encode("raw_tick", record)))
    return out


def normalize(records: Encoded, sort: str, top: int) -> int:
    """Normalize's work per batch without Kafka (Avro decode, its handler, Avro encode of what
    it routes), timed by stage, then under cProfile."""
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
            out += len(outputs)
            spent = [spent[0] + t1 - t0, spent[1] + t2 - t1, spent[2] + time.perf_counter() - t2]
        return out, spent

    bars, spent = run()
    total = sum(spent)
    print(f"normalize in-process, no Kafka: {len(records):,} raw records, {bars:,} bars in")
    print(f"{total:.2f} s, {bars / total:,.0f} bars/s on one core (no profiler):")
    stages = ("Avro decode (raw_tick)", "handler (JSON, mapping, checks)", "Avro encode (bar)")
    for label, seconds in zip(stages, spent, strict=True):
        print(f"  {label:32} {seconds:6.2f} s  {1e6 * seconds / len(records):5.1f} us a record")
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).strip_dirs().sort_stats(sort).print_stats(top)
    return 0 if bars == len(records) else 1


def source_rate(instruments: list[str], since: int, until: int, limit: int) -> float:
    """Rows per second of the synthetic source alone, over its first `limit` rows."""
    source, rows, started = synthetic_history.SyntheticCandles(), 0, time.perf_counter()
    for i, name in enumerate(instruments):
        for page in source.fetch(Request(name, synthetic_history.DATASET, since, until)):
            rows += len(page.rows)
            if rows >= limit * (i + 1) // len(instruments):
                break
    return rows / (time.perf_counter() - started)
