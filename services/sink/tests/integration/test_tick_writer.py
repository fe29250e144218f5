"""The ticks table in a real TimescaleDB: migrations, idempotent writes, columns = schema."""

import threading

import psycopg
import pytest

from tickwire_core.serde import AvroSerde
from tickwire_sink.adapters.migrations import available, migrate
from tickwire_sink.adapters.ticks import TickWriter

pytestmark = pytest.mark.integration

T0 = 1_700_000_000_000_000


def ticks(n: int, start_seq: int = 1) -> list[dict]:
    return [
        {
            "provider": "simulator",
            "instrument": "SIM-A",
            "kind": "quote",
            "exchange_ts": T0 + i,
            "received_ts": T0 + i + 5,
            "bid_price": 100.0 + i,
            "ask_price": 100.5 + i,
            "venue_seq": start_seq + i,
            "ingest_instance": "primary",
            "ingest_seq": i,
        }
        for i in range(n)
    ]


def test_migrations_are_idempotent_and_safe_to_run_concurrently(database_url: str) -> None:
    results: list[list[int]] = []

    def run() -> None:
        with psycopg.connect(database_url) as conn:
            results.append(migrate(conn))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    versions = [v for v, _, _ in available()]
    assert sorted(v for r in results for v in r) == versions  # each applied exactly once
    with psycopg.connect(database_url) as conn:
        assert migrate(conn) == []
        hypertables = conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.hypertables"
        ).fetchall()
        assert ("ticks",) in hypertables


def test_table_columns_are_the_tick_schema(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'ticks'"
            )
        }
    fields = {f["name"] for f in AvroSerde().schema("tick")["fields"]}
    assert columns == fields | {"dedup_key"}


def test_redelivered_ticks_leave_one_row_each(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = TickWriter(conn, AvroSerde().schema("tick"))
        assert writer.write(ticks(500)) == 500
        assert writer.write(ticks(500)) == 0  # the same batch again
        assert writer.write(ticks(600)) == 100  # overlapping batch: only the new
        batch = ticks(3, start_seq=10_000)
        assert writer.write(batch + batch) == 3  # duplicates inside one batch
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (instrument, dedup_key, exchange_ts)) FROM ticks"
        ).fetchone()
        assert count == distinct == 603
        row = conn.execute(
            "SELECT exchange_ts, received_ts, bid_price FROM ticks WHERE venue_seq = 3"
        ).fetchone()
    assert int(row[0].timestamp() * 1_000_000) == T0 + 2
    assert row[1].microsecond == (T0 + 7) % 1_000_000
    assert row[2] == 102.0


def test_a_failed_batch_leaves_nothing_and_the_writer_recovers(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = TickWriter(conn, AvroSerde().schema("tick"))
        bad = ticks(5)
        bad[3]["kind"] = None  # NOT NULL: the database refuses the batch
        with pytest.raises(psycopg.errors.NotNullViolation):
            writer.write(bad)
        assert conn.execute("SELECT count(*) FROM ticks").fetchone() == (0,)
        assert writer.write(ticks(5)) == 5


def test_a_counted_write_counts_each_groups_new_rows(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = TickWriter(conn, AvroSerde().schema("tick"))
        by = ("instrument", "kind")
        other = [{**tick, "instrument": "SIM-B"} for tick in ticks(4)]
        counted = writer.table.write_counted(writer.rows(ticks(3) + other), by)
        assert counted == {("SIM-A", "quote"): 3, ("SIM-B", "quote"): 4}
        # Redelivered with more: only the new rows count, and a group with none is absent.
        again = writer.rows(ticks(5) + other + other)
        assert writer.table.write_counted(again, by) == {("SIM-A", "quote"): 2}
        assert conn.execute("SELECT count(*) FROM ticks").fetchone() == (9,)
        with pytest.raises(ValueError, match="no such columns"):
            writer.table.write_counted(again, ("venue",))
