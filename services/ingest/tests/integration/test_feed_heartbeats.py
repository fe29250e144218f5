"""Two feeds of one connector (two simulator instrument sets, each its primary) beat on the real
status topic under names of their own, so /v1/status lists each feed's instance apart."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tickwire_core.health import Health
from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, STATUS
from tickwire_ingest.app import bootstrap
from tickwire_ingest.settings import IngestSettings
from tickwire_testing.kafka import decode_all, read_topic

pytestmark = pytest.mark.integration


@contextmanager
def running_feed(stack, topic_prefix: str, **settings: object) -> Iterator[None]:
    """One ingest instance of the simulator, in-process: it sends 5 messages and stays up (as a
    finished feed does) until the block ends, when it sends its last heartbeat."""
    stop = threading.Event()
    feed = bootstrap(
        IngestSettings(
            KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
            topic_prefix=topic_prefix,
            connector="simulator",
            sim_count=5,
            sim_rate=1000,
            sim_faults=False,  # the test counts the messages
            heartbeat_s=60,
            **settings,
        ),
        Health(),
        stop,
    )
    thread = threading.Thread(target=feed.run, name="feed")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)  # its heartbeat thread sends a last beat, which the test waits for


def test_two_feeds_of_one_connector_beat_under_their_feed_names(stack, topic_prefix) -> None:
    servers, serde = stack.kafka_bootstrap_servers, AvroSerde()
    majors = {"feed": "sim-majors", "sim_instruments": "SIM-BTC:100,SIM-ETH:50"}
    with (
        running_feed(stack, topic_prefix, **majors),
        running_feed(stack, topic_prefix, feed="sim-fx", sim_instruments="SIM-EUR:1.08"),
    ):
        raw = read_topic(servers, topic_prefix + RAW_TICKS, expect=10)
    raw = decode_all(serde, "raw_tick", raw)
    assert {r["instrument"] for r in raw} == {"SIM-BTC", "SIM-ETH", "SIM-EUR"}
    # Each feed beats at its start and once more as it stops: four beats, two instances.
    beats = decode_all(serde, "heartbeat", read_topic(servers, topic_prefix + STATUS, expect=4))
    assert {(b["service"], b["instance"]) for b in beats} == {
        ("ingest", "sim-majors/primary"),
        ("ingest", "sim-fx/primary"),
    }


def test_a_feed_without_a_name_beats_under_its_connector(stack, topic_prefix) -> None:
    with running_feed(stack, topic_prefix, ingest_instance="replica"):
        read_topic(stack.kafka_bootstrap_servers, topic_prefix + RAW_TICKS, expect=5)
    beats = read_topic(stack.kafka_bootstrap_servers, topic_prefix + STATUS, expect=2)
    names = {b["instance"] for b in decode_all(AvroSerde(), "heartbeat", beats)}
    assert names == {"simulator/replica"}
