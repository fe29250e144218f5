"""`tickwire topics create | check | describe` against the real broker: the topic table created
under a prefix of the test's own, every kind of difference found, offsets counted exactly."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tickwire_core.topics import load_topics

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix() -> str:
    return f"c{uuid.uuid4().hex[:10]}."


@pytest.fixture
def on_stack(tickwire, stack, prefix):
    return tickwire.with_env(
        KAFKA_BOOTSTRAP_SERVERS=stack.kafka_bootstrap_servers, TICKWIRE_TOPIC_PREFIX=prefix
    )


def test_create_then_check_then_create_again(on_stack, stack, prefix) -> None:
    table = load_topics()
    created = on_stack("topics", "create")
    assert created.returncode == 0, created.stderr
    names = sorted(prefix + t.name for t in table)
    assert created.stdout.strip() == "created: " + ", ".join(names)
    existing = AdminClient({"bootstrap.servers": stack.kafka_bootstrap_servers}).list_topics(
        timeout=10
    )
    assert {n: len(existing.topics[n].partitions) for n in names} == {
        prefix + t.name: t.partitions for t in table
    }
    checked = on_stack("topics", "check")
    assert (checked.returncode, checked.stdout) == (0, ""), checked.stderr
    assert f"the {len(table)} topics match" in checked.stderr
    again = on_stack("topics", "create")
    assert again.stdout.strip() == "created: nothing (all exist)"


def test_check_lists_each_difference_and_exits_1(on_stack, stack, prefix) -> None:
    table = {t.name: t for t in load_topics()}
    admin = AdminClient({"bootstrap.servers": stack.kafka_bootstrap_servers})
    # Every topic but two as the table says; one with too few partitions, one with other configs.
    raw, bars = "tickwire.ticks.raw", "tickwire.bars"
    new = [
        NewTopic(prefix + t.name, t.partitions, 1, config=t.config())
        for name, t in table.items()
        if name not in {raw, bars, "tickwire.status"}
    ]
    new.append(NewTopic(prefix + raw, 2, 1, config=table[raw].config()))
    new.append(
        NewTopic(prefix + bars, 6, 1, config={"cleanup.policy": "compact", "retention.ms": "1000"})
    )
    for future in admin.create_topics(new).values():
        future.result()
    done = on_stack("topics", "check")
    assert done.returncode == 1
    [error] = done.stderr.strip().splitlines()
    assert error.startswith("tickwire: error: 4 differences between ")
    found = sorted((r["topic"], r["mismatch"]) for r in map(json.loads, done.stdout.splitlines()))
    assert found == sorted(
        [
            (
                prefix + bars,
                f"cleanup.policy=compact, the topic table says {table[bars].cleanup_policy}",
            ),
            (prefix + bars, f"retention.ms=1000, the topic table says {table[bars].retention_ms}"),
            (prefix + raw, f"2 partitions, the topic table says {table[raw].partitions}"),
            (prefix + "tickwire.status", "missing"),
        ]
    )


def test_describe_counts_each_partitions_messages(on_stack, stack, prefix) -> None:
    assert on_stack("topics", "create").returncode == 0
    topic = prefix + "tickwire.ticks.raw"
    producer = Producer({"bootstrap.servers": stack.kafka_bootstrap_servers})
    sent = {0: 3, 4: 5}
    for partition, count in sent.items():
        for i in range(count):
            producer.produce(topic, value=b"x%d" % i, partition=partition)
    assert producer.flush(30) == 0
    records = on_stack.json_lines("topics", "describe", "tickwire.ticks.raw", "tickwire.status")
    assert [r["topic"] for r in records] == [topic, prefix + "tickwire.status"]
    raw = records[0]
    expected = next(t for t in load_topics() if t.name == "tickwire.ticks.raw")
    assert raw["partitions"] == expected.partitions
    assert raw["cleanup.policy"] == expected.cleanup_policy
    assert raw["retention.ms"] == str(expected.retention_ms)
    assert raw["messages"] == 8
    assert {o["partition"]: o["high"] - o["low"] for o in raw["offsets"]} == {
        p: sent.get(p, 0) for p in range(expected.partitions)
    }
    assert records[1]["messages"] == 0


def test_describe_a_topic_not_in_the_table_is_a_usage_error(on_stack) -> None:
    done = on_stack("topics", "describe", "no.such.topic")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tickwire: error: not in the topic table: no.such.topic")


def test_describe_says_which_topics_are_missing(on_stack, prefix) -> None:
    records = on_stack.json_lines("topics", "describe", "tickwire.bars")
    assert records == [{"topic": prefix + "tickwire.bars", "missing": True}]
