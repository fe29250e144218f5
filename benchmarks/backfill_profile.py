"""What bounds a backfill, in-process under cProfile (backfill_throughput.py --profile): the
`tickwire backfill` command against the real broker and database, then normalize's handler on
the raw records that command publishes, made here the same way and run without Kafka."""

from __future__ import annotations

import cProfile
import os
import pstats
import time

import synthetic_history
from normalize_stages import Encoded, stage_timer

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import tick_key
from tickwire_ingest.backfill import INGEST_INSTANCE
from tickwire_ingest.domain.history.pages import Request
from tickwire_ingest.domain.raw import Envelope


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
    run = stage_timer(records)
    bars, spent = run()
    total = sum(spent.wall)
    print(f"normalize in-process, no Kafka: {len(records):,} raw records, {bars:,} bars in")
    print(f"{total:.2f} s, {bars / total:,.0f} bars/s on one core (no profiler):")
    stages = ("Avro decode (raw_tick)", "handler (JSON, mapping, checks)", "Avro encode (bar)")
    for label, seconds in zip(stages, spent.wall, strict=True):
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
