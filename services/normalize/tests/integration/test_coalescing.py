"""Coalescing on the real broker: a primary and a replica, each missing a different stretch, give
one stream that is their union with every update once; and after a restart the dedup window is
rebuilt, so late copies of updates published before the restart are still dropped."""

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import RAW_TICKS, TICKS, tick_key
from tickwire_ingest.domain.raw import Envelope
from tickwire_ingest.domain.simulator import SimConfig, Simulator, parse_instruments
from tickwire_normalize.app import bootstrap
from tickwire_normalize.settings import NormalizeSettings
from tickwire_testing.kafka import decode_all, produce, read_topic
from tickwire_testing.loops import running

pytestmark = pytest.mark.integration

BASE_TS = 1_700_000_000_000_000


def venue_messages(count: int, seed: int = 11) -> list[tuple[str, str, bytes, int]]:
    sim = Simulator(SimConfig(parse_instruments("SIM-A:100,SIM-B:50"), seed=seed))
    out = []
    for i in range(count):
        msg = sim.next_message(BASE_TS + i * 1000)
        out.append((msg.feed, msg.instrument, msg.payload, BASE_TS + i * 1000 + 300))
    return out


def encoded(serde: AvroSerde, env: Envelope, msgs, delay_us: int) -> list[tuple[bytes, bytes]]:
    return [
        (
            tick_key("simulator", instrument),
            serde.encode("raw_tick", env.wrap(feed, instrument, payload, received + delay_us)),
        )
        for feed, instrument, payload, received in msgs
    ]


def settings_for(stack, topic_prefix: str) -> NormalizeSettings:
    return NormalizeSettings(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers,
        topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}norm",
        instance_id="coalesce-test",
        batch_size=100,
        max_past_s=10 * 365 * 86_400.0,
        dedup_window_s=3600,
    )


def identities(ticks: list[dict]) -> list[tuple[str, int]]:
    return [(t["instrument"], t["venue_seq"]) for t in ticks]


def test_primary_and_replica_coalesce_into_one_stream_across_a_restart(stack, topic_prefix) -> None:
    serde = AvroSerde()
    bootstrap_servers = stack.kafka_bootstrap_servers
    raw_topic, out_topic = topic_prefix + RAW_TICKS, topic_prefix + TICKS
    msgs = venue_messages(700)
    first, later = msgs[:600], msgs[600:]
    primary, replica = Envelope("simulator", "primary"), Envelope("simulator", "replica")
    primary_part = [m for i, m in enumerate(first) if not 100 <= i < 200]
    replica_part = [m for i, m in enumerate(first) if not 300 <= i < 400]
    # Interleave the two instances the way they arrive: the replica a little behind.
    stream_a = encoded(serde, primary, primary_part, 0)
    stream_b = encoded(serde, replica, replica_part, 40)
    merged = [rec for pair in zip(stream_a, stream_b, strict=False) for rec in pair]
    merged += stream_a[len(stream_b) :] + stream_b[len(stream_a) :]
    produce(bootstrap_servers, raw_topic, merged)

    settings = settings_for(stack, topic_prefix)
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        ticks = decode_all(serde, "tick", read_topic(bootstrap_servers, out_topic, expect=600))
    expected = {(t, s) for t, s in identities(ticks)}
    assert len(ticks) == 600 and len(expected) == 600, "the union, every update once"
    by_instance = {t["ingest_instance"] for t in ticks}
    assert by_instance == {"primary", "replica"}, "each instance filled the other's hole"

    # After the restart: late replica copies of the first 150 updates, then 100 new updates.
    late_copies = encoded(serde, replica, first[:150], 900)
    produce(bootstrap_servers, raw_topic, late_copies + encoded(serde, primary, later, 0))
    with running(lambda health, stop: bootstrap(settings, health, stop)):
        ticks = decode_all(serde, "tick", read_topic(bootstrap_servers, out_topic, expect=700))
    seen = identities(ticks)
    assert len(seen) == 700 and len(set(seen)) == 700, "no late copy got through the restart"
