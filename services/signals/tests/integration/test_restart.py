"""Two signals workers share the partitions; one is killed with -9 mid-stream and restarted.
Its instruments' state comes back from the changelog, and every bar and z-score judgement equals
the one computed in a single uninterrupted run: no tick counted twice, none missed. A crash may
repeat an output record (written before the state that covers it), never change or lose one."""

import time

import pytest

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import BARS, TICKS, tick_key
from tickwire_testing.kafka import produce, read_topic
from tickwire_testing.processes import Service, base_env, wait_for
from tickwire_testing.signals import expected_and_written
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000_000
INSTRUMENTS = [f"R-{n}" for n in range(12)]
PER_INSTRUMENT = 5_000
STEP = 2_000  # 2 ms


def feed() -> list[dict]:
    ticks = []
    for i in range(PER_INSTRUMENT):
        for n, name in enumerate(INSTRUMENTS):
            ts = T0 + i * STEP + n
            mid = 50 + n + 0.02 * (((i * 13 + n) % 11) - 5) + 0.001 * (i % 97)
            ticks.append(quote(name, ts, round(mid - 0.01, 4), round(mid + 0.01, 4)))
            if i % 4 == n % 4:
                ticks.append(trade(name, ts + 1, round(mid, 4), 1.0 + (i % 5)))
    for n, name in enumerate(INSTRUMENTS):  # closes every bar
        ticks.append(quote(name, T0 + (PER_INSTRUMENT + 5_000) * STEP + n, 49.0, 49.1))
    return ticks


def bar_id(b: dict) -> tuple:
    return (b["instrument"], b["interval"], b["start_ts"])


def anomaly_id(a: dict) -> tuple:
    return (a["instrument"], a["ts"], a["rule"])


def test_a_killed_worker_restarts_without_counting_a_tick_twice(stack, topic_prefix, tmp_path):
    serde = AvroSerde()
    bootstrap = stack.kafka_bootstrap_servers
    ticks = feed()
    produce(
        bootstrap,
        topic_prefix + TICKS,
        [(tick_key("simulator", t["instrument"]), serde.encode("tick", t)) for t in ticks],
    )
    env = {
        **base_env(bootstrap, "", topic_prefix),
        "TICKWIRE_CONSUMER_GROUP": "signals-restart",
        "TICKWIRE_BATCH_SIZE": "500",
    }

    def worker(name: str) -> Service:
        return Service("tickwire_signals", name, tmp_path, {**env, "TICKWIRE_INSTANCE_ID": name})

    first, second = worker("w1").start(), worker("w2").start()
    try:
        wait_for(
            lambda: (
                len(read_topic(bootstrap, topic_prefix + BARS, expect=1, timeout=2, settle=0)) > 50
            ),
            120,
            "bars from both workers",
        )
        first.kill()
        time.sleep(1)
        restarted = worker("w1-again").start()
        expected_anomalies, expected_bars, anomalies, bars = expected_and_written(
            bootstrap, topic_prefix, len(ticks)
        )
    finally:
        codes = [second.stop(), locals().get("restarted", first).stop()]
    assert codes == [0, 0]

    want = {bar_id(b): b for b in expected_bars}
    got: dict[tuple, dict] = {}
    for b in bars:
        assert want.get(bar_id(b)) == b, f"bar differs from the uninterrupted run: {b}"
        got[bar_id(b)] = b
    assert got.keys() == want.keys(), "a bar is missing"
    want_a = {anomaly_id(a): a for a in expected_anomalies}
    for a in anomalies:
        assert want_a.get(anomaly_id(a)) == a, f"anomaly differs: {a}"
    assert {anomaly_id(a) for a in anomalies} == want_a.keys()
