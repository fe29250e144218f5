"""A primary and a replica feeding the same updates through normalize and the sink, normalize
killed (-9) mid-run and restarted: dedup_tallies ends with exactly the copies the replica sent,
per instrument, and the ticks table with every update once."""

import uuid

import psycopg
import pytest
from confluent_kafka import Consumer

from tickwire_core.clock import now_us
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_testing.kafka import produce
from tickwire_testing.processes import Service, base_env, wait_for

pytestmark = pytest.mark.integration

N = 12_000  # venue updates; the primary sends them all
REPLICA_HOLE = range(3_000, 4_000)  # updates the replica never received


def feeds(serde: AvroSerde) -> tuple[list[tuple[bytes, bytes]], dict[str, int]]:
    """Both instances' raw records, interleaved as they reach the topic (now one first, now the
    other), and the copies per instrument: every update both instances sent, once."""
    sim = Simulator(SimConfig(parse_instruments("C-A:100,C-B:50,C-C:10"), seed=21))
    primary, replica = Envelope("simulator", "primary"), Envelope("simulator", "replica")
    start = now_us() - 600_000_000
    records, copies = [], dict.fromkeys(("C-A", "C-B", "C-C"), 0)
    for i in range(N):
        msg = sim.next_message(start + i * 1000)
        key = tick_key("simulator", msg.instrument)
        received = start + i * 1000 + 200
        sent = [primary.wrap(msg.feed, msg.instrument, msg.payload, received)]
        if i not in REPLICA_HOLE:
            copies[msg.instrument] += 1
            sent.append(replica.wrap(msg.feed, msg.instrument, msg.payload, received + 300))
        records += [(key, serde.encode("raw_tick", r)) for r in sent[:: 1 if i % 2 else -1]]
    return records, copies


def committed_ticks(consumer: Consumer, seen: list[int]) -> int:
    seen[0] += sum(1 for m in consumer.consume(5000, 0.2) if m.error() is None)
    return seen[0]


def stored(database_url: str) -> tuple[dict[str, int], int, int]:
    with psycopg.connect(database_url) as conn:
        tallies = dict(
            conn.execute(
                "SELECT instrument, sum(duplicates)::int FROM dedup_tallies GROUP BY instrument"
            ).fetchall()
        )
        ticks, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (instrument, venue_seq)) FROM ticks"
        ).fetchone()
    return tallies, ticks, distinct


def test_duplicates_tallied_equal_copies_sent_across_a_killed_normalize(
    stack, topic_prefix, database_url, tmp_path
) -> None:
    serde = AvroSerde()
    servers = stack.kafka_bootstrap_servers
    records, copies = feeds(serde)
    produce(servers, topic_prefix + RAW_TICKS, records)
    env = base_env(servers, database_url, topic_prefix)
    normalize_env = {
        **env,
        "TICKWIRE_INSTANCE_ID": "normalize-0",  # the restart fences its predecessor
        "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}normalize",
        "TICKWIRE_BATCH_SIZE": "2000",
    }
    sink = Service(
        "tickwire_sink",
        "sink",
        tmp_path,
        {**env, "TICKWIRE_INSTANCE_ID": "sink", "TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}s"},
    ).start()
    reader = Consumer(
        {
            "bootstrap.servers": servers,
            "group.id": f"count-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    reader.subscribe([topic_prefix + TICKS])
    seen = [0]
    try:
        first = Service("tickwire_normalize", "normalize-first", tmp_path, normalize_env).start()
        try:
            wait_for(lambda: committed_ticks(reader, seen) >= N // 10, 60, "some ticks", 0.0)
            first.kill()
            assert committed_ticks(reader, seen) < N, "normalize must be killed mid-run"
        finally:
            first.stop()
        second = Service("tickwire_normalize", "normalize-second", tmp_path, normalize_env)
        second.start()
        try:
            wait_for(lambda: stored(database_url)[1] >= N, 120, f"{N} ticks stored")
            wait_for(lambda: stored(database_url)[0] == copies, 60, f"tallies of {copies}")
            wait_for(lambda: committed_ticks(reader, seen) >= N, 30, "every tick read")
            committed_ticks(reader, seen)  # and anything beyond, had there been more
        finally:
            assert second.stop() == 0
    finally:
        reader.close()
        assert sink.stop() == 0
    tallies, ticks, distinct = stored(database_url)
    assert tallies == copies and sum(copies.values()) == N - len(REPLICA_HOLE)
    assert ticks == distinct == N
    assert seen[0] == N, "the topic holds every tick once"
