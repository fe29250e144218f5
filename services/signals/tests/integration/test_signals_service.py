"""The signals service on the real broker: a known tick sequence with an injected spike and a
crossed quote gives exactly the anomalies and bars the engine computes for it, the spike and the
cross are reported once each at their own time, and the spike is left out of the bars."""

import uuid

import pytest
from confluent_kafka import Producer

from tickwire_core.serde import AvroSerde
from tickwire_core.topics import TICKS, tick_key
from tickwire_testing.kafka import produce
from tickwire_testing.processes import base_env
from tickwire_testing.signals import run_service
from tickwire_testing.ticks import quote, trade

pytestmark = pytest.mark.integration

T0 = 1_800_000_000_000_000  # a whole second
STEP = 10_000  # 10 ms between ticks
SPIKE, CROSS = 300, 400


def sequence() -> list[dict]:
    ticks = []
    for i in range(600):
        ts = T0 + i * STEP
        mid = 100 + 0.01 * ((i * 7) % 5 - 2)
        if i == SPIKE:
            mid = 110.0
        if i == CROSS:
            ticks.append(quote("T-A", ts, 100.05, 99.95))
            continue
        ticks.append(quote("T-A", ts, round(mid - 0.01, 4), round(mid + 0.01, 4)))
        if i % 5 == 0 and i != SPIKE:
            ticks.append(trade("T-A", ts + 1, round(mid, 4), 1.0 + (i % 3)))
    ticks.append(quote("T-A", T0 + 20_000_000, 99.99, 100.01))  # closes every bar
    return ticks


def test_known_sequence_gives_exactly_the_expected_anomalies_and_bars(
    stack, topic_prefix, tmp_path
) -> None:
    serde = AvroSerde()
    bootstrap = stack.kafka_bootstrap_servers
    ticks = sequence()
    produce(
        bootstrap,
        topic_prefix + TICKS,
        [(tick_key("simulator", t["instrument"]), serde.encode("tick", t)) for t in ticks],
    )
    env = {
        **base_env(bootstrap, "", topic_prefix),
        "TICKWIRE_CONSUMER_GROUP": "signals-it",
        "TICKWIRE_BATCH_SIZE": "97",  # several batches, cut at odd places
    }
    run = run_service(bootstrap, topic_prefix, len(ticks), env, tmp_path)
    run.assert_as_expected()
    anomalies, bars = run.anomalies, run.bars

    spike_ts, cross_ts = T0 + SPIKE * STEP, T0 + CROSS * STEP
    critical = [(a["rule"], a["ts"]) for a in anomalies if a["severity"] == "critical"]
    assert ("return_zscore", spike_ts) in critical and ("crossed_market", cross_ts) in critical
    assert sum(1 for a in anomalies if a["ts"] in (spike_ts, cross_ts)) == 2
    one_second = [b for b in bars if b["interval"] == "1s"]
    assert [b["start_ts"] for b in one_second] == [T0 + k * 1_000_000 for k in range(6)]
    assert all(b["source"] == "trade" and b["high"] < 105 for b in bars), "the spike is not used"
    trades = [t for t in ticks if t["kind"] == "trade"]
    assert sum(b["tick_count"] for b in one_second) == len(trades)
    assert sum(b["volume"] for b in one_second) == pytest.approx(
        sum(t["last_traded_volume"] for t in trades)
    )


def produce_in_transactions(
    bootstrap: str, topic: str, batches: list[tuple[list[dict], bool]]
) -> None:
    """Each batch in a transaction of its own, committed or aborted, as normalize writes."""
    serde = AvroSerde()
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": uuid.uuid4().hex})
    producer.init_transactions(30)
    for ticks, commit in batches:
        producer.begin_transaction()
        for t in ticks:
            key = tick_key("simulator", t["instrument"])
            producer.produce(topic, value=serde.encode("tick", t), key=key)
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)


def test_ticks_of_an_aborted_transaction_enter_no_bar(stack, topic_prefix, tmp_path) -> None:
    bootstrap = stack.kafka_bootstrap_servers
    ticks = sequence()
    # What a normalize killed mid-batch leaves: a batch written, then aborted, then written again
    # by its successor. The aborted copy's trades carry a volume no committed trade has.
    middle = len(ticks) // 2
    aborted = [{**t, "last_traded_volume": 1000.0} if t["kind"] == "trade" else t
               for t in ticks[middle - 50 : middle]]  # fmt: skip
    produce_in_transactions(
        bootstrap,
        topic_prefix + TICKS,
        [(ticks[: middle - 50], True), (aborted, False), (ticks[middle - 50 :], True)],
    )
    env = {
        **base_env(bootstrap, "", topic_prefix),
        "TICKWIRE_CONSUMER_GROUP": "signals-committed",
    }
    run = run_service(bootstrap, topic_prefix, len(ticks), env, tmp_path)
    run.assert_as_expected()
    trades = [t for t in ticks if t["kind"] == "trade"]
    one_second = [b for b in run.bars if b["interval"] == "1s"]
    assert sum(b["tick_count"] for b in one_second) == len(trades)
    assert sum(b["volume"] for b in one_second) == pytest.approx(
        sum(t["last_traded_volume"] for t in trades)
    )
    assert max(b["volume"] for b in run.bars) < 1000.0
