"""The sink keeps feed_status and its own service_status row: a batch delivered twice counts its
ticks and gaps once, times never move back, and the heartbeat carries the sink's totals."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tickwire_core.batch import Consumed
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, tick_key
from tickwire_sink.adapters.migrations import migrate
from tickwire_sink.app import bootstrap
from tickwire_sink.handler import SinkHandler
from tickwire_sink.settings import SinkSettings
from tickwire_testing.kafka import produce
from tickwire_testing.loops import running
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000_000
SECOND = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TOPIC = "ticks"


def at(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def gap(instrument: str, ts: int, end: int, reason: str) -> dict[str, Any]:
    return {
        "provider": "simulator",
        "instrument": instrument,
        "kind": "gap",
        "exchange_ts": ts,
        "received_ts": ts + 100,
        "gap_end_ts": end,
        "gap_reason": reason,
    }


def batch() -> list[dict[str, Any]]:
    return [
        trade("S-A", T0, 10.0, 1.0),
        trade("S-A", T0 + 3 * SECOND, 11.0, 1.0),
        trade("S-A", T0 + SECOND, 10.5, 1.0),
        gap("S-A", T0 + SECOND, T0 + 2 * SECOND, "sequence"),
        quote("S-B", T0 + 2 * SECOND, 20.0, 20.5),
        quote("S-B", T0 + 4 * SECOND, 20.1, 20.6),
    ]


def consumed(ticks: list[dict[str, Any]], first_offset: int = 0) -> list[Consumed]:
    serde = AvroSerde()
    return [
        Consumed(TOPIC, 0, first_offset + i, None, serde.encode("tick", t), t)
        for i, t in enumerate(ticks)
    ]


def feeds(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT provider, instrument, last_exchange_ts, last_received_ts, ticks, gaps,"
            " last_gap_start, last_gap_end, last_gap_reason FROM feed_status"
            " ORDER BY provider, instrument"
        ).fetchall()


def services(database_url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT service, rows_in, rows_out, rows_refused, batches_failed, circuit, last_error"
            " FROM service_status ORDER BY service, instance"
        ).fetchall()


def handler(database_url: str, every_s: float = 0.0) -> SinkHandler:
    return SinkHandler(
        database_url,
        AvroSerde(),
        {TOPIC: "tick"},
        instance="sink-test",
        heartbeat_every_s=every_s,
    )


EXPECTED_FEEDS = [
    (
        "simulator",
        "S-A",
        at(T0 + 3 * SECOND),
        at(T0 + 3 * SECOND + 100),
        3,
        1,
        at(T0 + SECOND),
        at(T0 + 2 * SECOND),
        "sequence",
    ),
    ("simulator", "S-B", at(T0 + 4 * SECOND), at(T0 + 4 * SECOND + 100), 2, 0, None, None, None),
]


def test_a_batch_delivered_twice_counts_once(migrated: str) -> None:
    sink = handler(migrated)
    try:
        for delivery in range(2):
            outcome = sink(consumed(batch(), first_offset=delivery * 6))
            assert outcome.rejects == []
    finally:
        sink.close()
    assert feeds(migrated) == EXPECTED_FEEDS
    assert services(migrated) == [("sink", 12, 6, 0, 0, "closed", None)]


def test_an_older_batch_moves_no_time_back_and_an_older_gap_is_not_the_last(
    migrated: str,
) -> None:
    sink = handler(migrated)
    try:
        sink(consumed(batch()))
        older = [
            trade("S-A", T0 - 10 * SECOND, 9.0, 1.0),
            gap("S-A", T0 - 20 * SECOND, T0 - 15 * SECOND, "reconnect"),
        ]
        sink(consumed(older, first_offset=6))
    finally:
        sink.close()
    a, b = feeds(migrated)
    assert a == (*EXPECTED_FEEDS[0][:4], 4, 2, *EXPECTED_FEEDS[0][6:])
    assert b == EXPECTED_FEEDS[1]
    # The first tick does move back: an older tick is earlier history (a gap is not a tick).
    with psycopg.connect(migrated) as conn:
        firsts = conn.execute(
            "SELECT instrument, first_exchange_ts FROM feed_status ORDER BY instrument"
        ).fetchall()
    assert firsts == [("S-A", at(T0 - 10 * SECOND)), ("S-B", at(T0 + 2 * SECOND))]


def test_a_refused_tick_is_neither_counted_nor_timed(migrated: str) -> None:
    poison = trade("S-B", T0 + 60 * SECOND, 20.0, 1.0, side="buy\x00sell")
    sink = handler(migrated)
    try:
        outcome = sink(consumed([*batch(), poison]))
    finally:
        sink.close()
    assert [r.offset for r in outcome.rejects] == [6]
    assert feeds(migrated) == EXPECTED_FEEDS
    assert services(migrated) == [("sink", 7, 6, 1, 0, "closed", None)]


def test_a_failed_batch_is_in_the_heartbeat(migrated: str) -> None:
    sink = handler(migrated)
    one_tick = consumed([batch()[0]])
    try:
        # A topic the handler was not given is a bug, not bad data: the batch fails whole.
        broken = [Consumed("elsewhere", 0, 0, None, b"", batch()[0])]
        with pytest.raises(KeyError):
            sink(broken)
        assert services(migrated) == [("sink", 0, 0, 0, 1, "open", "KeyError: 'elsewhere'")]
        sink(one_tick)
    finally:
        sink.close()
    assert services(migrated) == [("sink", 1, 1, 0, 1, "closed", "KeyError: 'elsewhere'")]


def test_the_heartbeat_waits_its_interval_and_close_writes_the_totals(migrated: str) -> None:
    sink = handler(migrated, every_s=3600.0)
    try:
        sink(consumed(batch()[:2]))
        sink(consumed(batch()[2:], first_offset=2))
        # Only the first batch's heartbeat: the second came within the interval.
        assert services(migrated) == [("sink", 2, 2, 0, 0, "closed", None)]
    finally:
        sink.close()
    assert services(migrated) == [("sink", 6, 6, 0, 0, "closed", None)]


def marker_stored(database_url: str) -> bool:
    try:
        return any(row[1] == "S-C" for row in feeds(database_url))
    except psycopg.errors.UndefinedTable:  # the sink has not migrated yet
        return False


def test_the_sink_loop_keeps_the_status(stack: Any, topic_prefix: str, database_url: str) -> None:
    serde = AvroSerde()
    key = tick_key("simulator", "S-A")  # one partition: the marker comes after both deliveries
    encoded = [(key, serde.encode("tick", t)) for t in batch()]
    marker = trade("S-C", T0, 1.0, 1.0)
    produce(
        stack.kafka_bootstrap_servers,
        topic_prefix + TICKS,
        [*encoded, *encoded, (key, serde.encode("tick", marker))],
    )
    settings = SinkSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        DATABASE_URL=database_url,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}sink",
        batch_size=4,  # the deliveries spread over several batches
    )
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        deadline = time.monotonic() + 60
        while not marker_stored(database_url):
            assert time.monotonic() < deadline, "the marker tick never arrived"
            time.sleep(0.1)
    *known, marker_row = feeds(database_url)
    assert known == EXPECTED_FEEDS
    assert marker_row[:6] == ("simulator", "S-C", at(T0), at(T0 + 100), 1, 0)
    assert services(database_url) == [("sink", 13, 7, 0, 0, "closed", None)]


def reported(instance: str, ts: int, rows_in: int, lag: int | None) -> dict[str, Any]:
    return {
        "service": "normalize",
        "instance": instance,
        "ts": ts,
        "started_ts": T0,
        "rows_in": rows_in,
        "rows_out": rows_in,
        "rows_refused": 0,
        "batches_failed": 0,
        "circuit": "closed",
        "lag": lag,
        "last_error": None,
        "last_error_ts": None,
    }


def test_other_services_heartbeats_keep_the_newest_of_each_instance(migrated: str) -> None:
    serde = AvroSerde()
    sink = SinkHandler(
        migrated, serde, {"status": "heartbeat"}, instance="sink-test", heartbeat_every_s=60
    )

    def deliver(beats: list[dict[str, Any]]) -> None:
        sink(
            [
                Consumed("status", 0, i, None, serde.encode("heartbeat", b), b)
                for i, b in enumerate(beats)
            ]
        )

    try:
        # Two of one instance in a batch (newest last or first), and a redelivered older one.
        deliver([reported("n-1", T0, 10, 5), reported("n-1", T0 + SECOND, 20, 0)])
        deliver([reported("n-2", T0 + 2 * SECOND, 7, None), reported("n-2", T0, 3, 9)])
        deliver([reported("n-1", T0, 10, 5)])
    finally:
        sink.close()
    with psycopg.connect(migrated) as conn:
        rows = conn.execute(
            "SELECT instance, heartbeat_at, rows_in, lag, started_at FROM service_status"
            " WHERE service = 'normalize' ORDER BY instance"
        ).fetchall()
    assert rows == [
        ("n-1", at(T0 + SECOND), 20, 0, at(T0)),
        ("n-2", at(T0 + 2 * SECOND), 7, None, at(T0)),
    ]


def test_normalize_heartbeats_keep_their_unmapped_fields(migrated: str) -> None:
    serde = AvroSerde()
    sink = SinkHandler(
        migrated, serde, {"status": "heartbeat"}, instance="sink-test", heartbeat_every_s=60
    )
    counted = reported("n-1", T0, 10, 0) | {"unmapped_fields": {"deribit": {"params.data.x": 2}}}
    before = reported("n-2", T0, 10, 0)  # no unmapped_fields: the schema's default, null
    try:
        sink(
            [
                Consumed("status", 0, i, None, encoded, serde.decode("heartbeat", encoded))
                for i, encoded in enumerate(
                    [serde.encode("heartbeat", counted), serde.encode("heartbeat", before)]
                )
            ]
        )
    finally:
        sink.close()
    with psycopg.connect(migrated) as conn:
        rows = conn.execute(
            "SELECT instance, unmapped_fields FROM service_status"
            " WHERE service = 'normalize' ORDER BY instance"
        ).fetchall()
    assert rows == [("n-1", {"deribit": {"params.data.x": 2}}), ("n-2", None)]


def test_migration_8_fills_the_first_tick_of_feeds_stored_before_it(migrated: str) -> None:
    sink = handler(migrated)
    try:
        sink(consumed(batch()))
    finally:
        sink.close()
    with psycopg.connect(migrated) as conn:  # as a database written before migration 8 was
        conn.execute("UPDATE feed_status SET first_exchange_ts = NULL")
        conn.execute("DELETE FROM schema_migrations WHERE version = 8")
        assert migrate(conn) == [8]
        firsts = conn.execute(
            "SELECT instrument, first_exchange_ts FROM feed_status ORDER BY instrument"
        ).fetchall()
    assert firsts == [("S-A", at(T0)), ("S-B", at(T0 + 2 * SECOND))]
