"""A replayed feed run by a primary and a replica ingest instance, each missing a different
stretch, the replica killed (-9) mid-run: the database ends with the union, every update once."""

import dataclasses
import time
from pathlib import Path

import psycopg
import pytest

from tickwire_core.clock import now_us
from tickwire_ingest.adapters.replay_file import ReplayWriter
from tickwire_ingest.domain.events import VenueMessage
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_testing.processes import Service, base_env, wait_for

pytestmark = pytest.mark.e2e

N = 3_000
SPACING_US = 1_000  # recorded 1 ms apart
PRIMARY_HOLE = range(1_200, 1_500)  # indexes the primary never received
REPLICA_HOLE = range(200, 400)
# The replica replays at recorded speed, and its recording slows down after the primary's hole:
# 1.5 s to fill the hole, then 100 ms a record (150 s for the rest), so it is still replaying
# when it is killed however long the pipeline takes to store the hole on a loaded machine.
SLOW_TAIL_US = 100_000


def recorded_feed() -> list[VenueMessage]:
    sim = Simulator(SimConfig(parse_instruments("E2E-R:100"), seed=5))
    start = now_us() - 600_000_000
    out = []
    for i in range(N):
        msg = sim.next_message(start + i * SPACING_US)
        received = start + i * SPACING_US + 250
        out.append(VenueMessage(msg.feed, msg.instrument, msg.payload, received, "simulator"))
    return out


def slowed_after_hole(feed: list[VenueMessage]) -> list[VenueMessage]:
    end = PRIMARY_HOLE.stop
    return [
        m
        if i < end
        else dataclasses.replace(m, received_ts=m.received_ts + (i - end + 1) * SLOW_TAIL_US)
        for i, m in enumerate(feed)
    ]


def write(path: Path, messages: list[VenueMessage]) -> None:
    with ReplayWriter(path) as writer:
        for message in messages:
            writer.write(message)


def seqs(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("SELECT venue_seq FROM ticks WHERE kind <> 'gap'")]


def test_primary_and_replica_end_as_their_union_exactly_once(
    stack, topic_prefix, database_url, tmp_path
) -> None:
    feed = recorded_feed()
    primary_file, replica_file = tmp_path / "primary.jsonl", tmp_path / "replica.jsonl.gz"
    write(primary_file, [m for i, m in enumerate(feed) if i not in PRIMARY_HOLE])
    replica_feed = slowed_after_hole(feed)
    write(replica_file, [m for i, m in enumerate(replica_feed) if i not in REPLICA_HOLE])
    env = base_env(stack.kafka_bootstrap_servers, database_url, topic_prefix)

    def service(module: str, name: str, **extra: str) -> Service:
        return Service(module, name, tmp_path, {**env, "TICKWIRE_INSTANCE_ID": name, **extra})

    group = {"TICKWIRE_CONSUMER_GROUP": f"{topic_prefix}g"}
    started = [service("tickwire_sink", "sink", **group).start()]
    started.append(service("tickwire_normalize", "normalize", **group).start())
    replica = service(
        "tickwire_ingest",
        "replica",
        TICKWIRE_CONNECTOR="replay",
        TICKWIRE_REPLAY_PATH=str(replica_file),
        TICKWIRE_REPLAY_SPEED="1",
        TICKWIRE_INGEST_INSTANCE="replica",
    ).start()
    started.append(
        service(
            "tickwire_ingest",
            "primary",
            TICKWIRE_CONNECTOR="replay",
            TICKWIRE_REPLAY_PATH=str(primary_file),
            TICKWIRE_REPLAY_SPEED="0",
            TICKWIRE_INGEST_INSTANCE="primary",
        ).start()
    )
    try:
        hole = {i + 1 for i in PRIMARY_HOLE}  # the simulator numbers updates from 1
        wait_for(lambda: hole <= set(seqs(database_url)), 60, "the replica to fill the hole")
        assert "done" not in replica.log(), "the replica must still be replaying when killed"
        replica.kill()

        def settled() -> bool:
            before = len(seqs(database_url))
            time.sleep(2)
            return before == len(seqs(database_url)) == N

        wait_for(settled, 60, f"{N} rows")
        found = seqs(database_url)
        assert len(found) == N and sorted(found) == list(range(1, N + 1))
    finally:
        codes = {s.name: s.stop() for s in reversed(started)}
    assert codes == {"primary": 0, "normalize": 0, "sink": 0}
